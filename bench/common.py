"""What every benchmark shares: the result row, the table, CPU pinning, ports, processes.

A figure is only meaningful beside the limit it is compared to, measured on the same
machine in the same run (this machine is shared and its speed drifts from one minute to the
next), so every ``Figure`` carries both, plus the target the issue sets.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# The server under test gets the first core, the load generator the last one, so that
# the sender's work is never charged to the server.
SERVER_CPU = 0


@dataclass(frozen=True)
class Figure:
    """One measured value, the reference it is compared to, and the target if any."""

    name: str
    value: float
    unit: str
    limit_name: str = ""
    limit_value: float | None = None
    target: str = ""
    ok: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / limit: how much of the physical limit the real code reaches."""
        if self.limit_value in (None, 0):
            return None
        return self.value / self.limit_value


def _fmt(value: float | None, integer: bool = False) -> str:
    if value is None:
        return "-"
    if integer:
        return f"{value:.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_table(figures: Sequence[Figure]) -> str:
    """A plain-text table that reads well in a terminal and pastes into Markdown."""
    header = ("figure", "value", "unit", "compared to", "limit", "ratio", "target", "ok")
    rows = [header]
    for f in figures:
        ratio = f.ratio
        integer = not f.unit  # counts and exit statuses
        rows.append(
            (
                f.name,
                _fmt(f.value, integer),
                f.unit,
                f.limit_name or "-",
                _fmt(f.limit_value, integer),
                "-" if ratio is None else f"{ratio:.2f}",
                f.target or "-",
                {True: "yes", False: "NO", None: "-"}[f.ok],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  * {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def machine_line() -> str:
    """Load average and core count: a reader must know whether others were busy."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load}, Python {sys.version.split()[0]}"


def cpus() -> list[int]:
    """The cores this process may run on (sorted)."""
    return sorted(os.sched_getaffinity(0))


def client_cpu() -> int:
    """The core the load generator uses: another one than the server's when there is one."""
    available = cpus()
    others = [c for c in available if c != SERVER_CPU]
    return others[-1] if others else available[0]


@contextlib.contextmanager
def pinned(cpu_set: set[int]) -> Iterator[None]:
    """Run the block on ``cpu_set`` only, then restore the previous affinity."""
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, cpu_set & before or before)
        yield
    finally:
        os.sched_setaffinity(0, before)


def pin_self(cpu: int) -> bool:
    """Pin this process to one core if the OS lets us; returns whether it worked."""
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError, ValueError):
        return False
    return True


def free_port() -> int:
    """A free loopback port (closed again, so a tiny race is possible; fine on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_line(proc: subprocess.Popen[bytes], prefix: str, timeout: float) -> str:
    """Read the child's stdout until a line starts with ``prefix``; fail after ``timeout``.

    Children announce readiness on stdout instead of being polled, so no time is lost.
    """
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([fd], [], [], min(left, 0.5))
        if readable:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buffer += chunk
            for line in buffer.decode("utf-8", "replace").splitlines():
                if line.startswith(prefix):
                    return line
        elif proc.poll() is not None:
            break
    if proc.poll() is not None:
        raise RuntimeError(f"child exited with {proc.returncode} before saying {prefix!r}")
    raise TimeoutError(f"child did not say {prefix!r} within {timeout}s")


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """SIGTERM, wait, and only if it hangs SIGKILL; returns the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return int(proc.returncode)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python: the repo on the path, unbuffered output."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
