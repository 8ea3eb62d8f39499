"""RSA-2048 PKCS#1 v1.5 / SHA-256 signatures per second on one core, with ``cryptography``.

Every inbox POST costs one RSA verify and every delivery one RSA sign, so these two rates
are the hard ceiling of what one core can receive and send: no amount of Python
optimisation gets past them. The limit they are compared to is the OpenSSL command-line
tool's own ``openssl speed rsa2048`` run on the same core in the same run (a different
OpenSSL build than the one inside the ``cryptography`` wheel, so a ratio above 1 is
possible), and the issue's reference figures.

Run alone: ``.venv/bin/python -m bench.crypto_rates``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.common import SERVER_CPU, Figure, format_table, machine_line, pinned

# The issue's figures for this machine, quoted so a reader sees the drift.
ISSUE_SIGN_PER_S = 3_500
ISSUE_VERIFY_PER_S = 39_000
# Roughly what draft-cavage signs for an inbox POST: five header lines.
SIGNING_STRING = (
    b"(request-target): post /inbox\nhost: 127.0.0.1:8081\n"
    b"date: Tue, 07 Jun 2026 20:51:35 GMT\n"
    b"digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n"
    b"content-type: application/activity+json"
)


def rate(operation: Callable[[], object], seconds: float) -> float:
    """Calls per CPU-second of ``operation``, run for about ``seconds`` of CPU time.

    CPU time, not wall time: the machine is shared, and a neighbour's burst would otherwise
    lower the figure; ``openssl speed`` counts CPU time too, so the two compare.
    """
    operation()  # first call outside the clock: lazy initialisation is not the rate
    count = 0
    start = time.process_time()
    deadline = start + seconds
    while True:
        for _ in range(50):
            operation()
        count += 50
        now = time.process_time()
        if now >= deadline:
            return count / (now - start)


def openssl_speed(seconds: int) -> tuple[float, float] | None:
    """(sign/s, verify/s) from ``openssl speed -mr rsa2048``, or None without the tool."""
    tool = shutil.which("openssl")
    if tool is None:
        return None
    try:
        out = subprocess.run(
            [tool, "speed", "-seconds", str(seconds), "-mr", "rsa2048"],
            capture_output=True,
            text=True,
            timeout=10 * seconds + 10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        # +F2:<index>:<bits>:<sign/s>:<verify/s>
        if line.startswith("+F2:"):
            parts = line.split(":")
            return float(parts[3]), float(parts[4])
    return None


def run(seconds: float = 2.0) -> list[Figure]:
    """Measure with the process pinned to one core; the openssl tool inherits the pinning."""
    with pinned({SERVER_CPU}):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = key.public_key()
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
        signature = key.sign(SIGNING_STRING, pkcs1, sha256)
        sign_rate = rate(lambda: key.sign(SIGNING_STRING, pkcs1, sha256), seconds)
        verify_rate = rate(lambda: public.verify(signature, SIGNING_STRING, pkcs1, sha256), seconds)
        tool = openssl_speed(max(1, round(seconds)))
    drift = (
        f"issue's reference for this machine: sign {ISSUE_SIGN_PER_S:,}/s, "
        f"verify {ISSUE_VERIFY_PER_S:,}/s"
    )
    limit_name = "openssl speed rsa2048" if tool else "issue's figure (no openssl tool)"
    sign_limit = tool[0] if tool else ISSUE_SIGN_PER_S
    verify_limit = tool[1] if tool else ISSUE_VERIFY_PER_S
    return [
        Figure(
            "RSA-2048 sign (cryptography, 1 core)",
            sign_rate,
            "ops/CPU-s",
            limit_name,
            sign_limit,
            note=drift,
        ),
        Figure(
            "RSA-2048 verify (cryptography, 1 core)",
            verify_rate,
            "ops/CPU-s",
            limit_name,
            verify_limit,
            note="the per-core ceiling of any inbox that verifies one signature per activity",
        ),
    ]


def main() -> None:
    print(machine_line())
    print(format_table(run()))


if __name__ == "__main__":
    main()
