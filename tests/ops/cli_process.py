"""Running ``cercle`` commands as separate processes against a node of the test suite."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node.settings import Settings
from tests.harness import POSTGRES_ADMIN_URL, bind_loopback

needs_postgres = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="set CERCLE_TEST_POSTGRES to run the PostgreSQL tests"
)


def plain_url(database_url: str) -> str:
    """What an operator types: ``postgresql://`` rather than the driver's URL."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://")


def cli_env(
    data_dir: Path, domain: str, database_url: str | None = None, **extra: str
) -> dict[str, str]:
    env = {
        **os.environ,
        "CERCLE_DATA_DIR": str(data_dir),
        "CERCLE_DOMAIN": domain,
        "CERCLE_DEV": "1",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("CERCLE_DATABASE_URL", None)
    if database_url and not database_url.startswith("sqlite"):
        env["CERCLE_DATABASE_URL"] = plain_url(database_url)
    return env


def settings_env(settings: Settings) -> dict[str, str]:
    return cli_env(settings.data_dir, settings.domain, settings.database_url)


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "node", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(process: subprocess.Popen[str], prefix: str, timeout: float = 30) -> str:
    """The first stdout line starting with ``prefix`` (the child announces readiness)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            line = process.stdout.readline()
            if line.startswith(prefix):
                return line.strip()
            if not line and process.poll() is not None:
                break
        elif process.poll() is not None:
            break
    process.kill()
    _, err = process.communicate()
    raise AssertionError(f"no {prefix!r} line from the child: {err[-3000:]}")


def free_port() -> int:
    """A loopback port nobody listens on (for a node's domain before it serves)."""
    sock = bind_loopback()
    port = int(sock.getsockname()[1])
    sock.close()
    return port
