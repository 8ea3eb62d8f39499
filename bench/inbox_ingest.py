"""Inbox ingest: signed Create(Note) activities per second into a real node, on one core.

What runs where (2 cores):

* core 0 — the server under test, in its own process: first the real node
  (``bench.node_server``: fresh data dir, SQLite, dev mode, workers off), then the bare
  pipeline and the null server (``bench.bare_server``) on the very same requests;
* core 1 — this process: a fake remote peer serving its actor document (the node fetches
  the key once), and the load generator, which pre-signs N distinct public Create(Note)
  activities mentioning the node's local user and POSTs them to ``/inbox`` over 64
  keep-alive connections.

Reported: accepted (202) activities per second of wall time, and per CPU-second of the
server process (the same figure when the server saturates its core, and the honest "per
core" figure when it does not). Afterwards the node's database is opened and the stored
posts counted, so a 202 that stored nothing would show.

Run alone: ``.venv/bin/python -m bench.inbox_ingest [-n 5000] [--profile]``; ``--profile``
attaches py-spy to the node during the measured run and prints where its time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bench.common import (
    PYTHON,
    REPO_ROOT,
    SERVER_CPU,
    Figure,
    child_env,
    client_cpu,
    format_table,
    machine_line,
    pinned,
    stop_process,
    wait_for_line,
)
from bench.loadgen import LoadResult, drive
from bench.profile_summary import summarise_py_spy
from bench.remote_peer import FakePeer
from tests.harness import bind_loopback

TARGET_PER_CORE = 2_000
WARMUP = 200
CONCURRENCY = 64
CHILD_START_TIMEOUT = 60.0


@dataclass
class Run:
    """One server measured on one batch of requests."""

    load: LoadResult
    cpu_seconds: float

    @property
    def accepted(self) -> int:
        return self.load.count(202)

    @property
    def wall_rate(self) -> float:
        return self.load.rate(202)

    @property
    def cpu_rate(self) -> float:
        """Accepted activities per CPU-second of the server: the per-core figure."""
        return self.accepted / self.cpu_seconds if self.cpu_seconds else 0.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its threads, from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def start_child(args: Sequence[str]) -> tuple[subprocess.Popen[str], list[str]]:
    """Start a benchmark child and wait for its ``ready`` line; returns its words."""
    proc = subprocess.Popen(
        [PYTHON, *args],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = wait_for_line(proc, "ready ", CHILD_START_TIMEOUT)
    except BaseException:
        stop_process(proc)
        raise
    return proc, line.split()


async def measure(
    proc: subprocess.Popen[str],
    port: int,
    warmup: Sequence[bytes],
    requests: Sequence[bytes],
    *,
    before_run: Sequence[str] | None = None,
) -> tuple[Run, LoadResult, subprocess.Popen[bytes] | None]:
    """Warm the server up (key fetch, caches, compiled SQL), then time the real batch."""
    warm = await drive("127.0.0.1", port, warmup, concurrency=CONCURRENCY)
    spy = None
    if before_run:
        spy = subprocess.Popen(before_run, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        await asyncio.sleep(1.0)  # py-spy needs a moment to attach before the clock starts
    cpu_before = process_cpu_seconds(proc.pid)
    load = await drive("127.0.0.1", port, requests, concurrency=CONCURRENCY)
    cpu = process_cpu_seconds(proc.pid) - cpu_before
    return Run(load, cpu), warm, spy


def count_stored(db_path: Path, prefix: str) -> tuple[int, int]:
    """(posts whose uri starts with ``prefix``, their mention rows) in the node's database."""
    with sqlite3.connect(db_path) as conn:
        posts = conn.execute(
            "SELECT count(*) FROM posts WHERE uri LIKE ?", (prefix + "%",)
        ).fetchone()[0]
        mentions = conn.execute(
            "SELECT count(*) FROM mentions JOIN posts ON posts.id = mentions.post_id "
            "WHERE posts.uri LIKE ?",
            (prefix + "%",),
        ).fetchone()[0]
    return int(posts), int(mentions)


async def start_peer(peer_sock_port: int, peer: FakePeer) -> web.AppRunner:
    runner = web.AppRunner(peer.app(), access_log=None)
    await runner.setup()
    await web.SockSite(runner, bind_loopback(peer_sock_port)).start()
    return runner


async def run_async(n: int, workdir: Path, profile_out: Path | None) -> list[Figure]:
    sock = bind_loopback(0)
    peer = FakePeer(port=sock.getsockname()[1])
    sock.close()
    peer_runner = await start_peer(peer.port, peer)
    node_proc, words = start_child(
        ["-m", "bench.node_server", "--data-dir", str(workdir / "node"), "--cpu", str(SERVER_CPU)]
    )
    node_closed = False
    try:
        node_port, user_uri = int(words[1]), words[2]
        inbox_url = f"http://127.0.0.1:{node_port}/inbox"
        started = time.perf_counter()
        warmup = [
            peer.signed_post(inbox_url, peer.create_note(f"warm-{i}", user_uri, "bench"))
            for i in range(WARMUP)
        ]
        requests = [
            peer.signed_post(inbox_url, peer.create_note(f"bench-{i}", user_uri, "bench"))
            for i in range(n)
        ]
        sign_seconds = time.perf_counter() - started

        spy_out = profile_out.with_suffix(".raw") if profile_out else None
        spy_cmd = None
        if spy_out is not None:
            spy_cmd = [
                *py_spy_command(),
                "record",
                "--pid",
                str(node_proc.pid),
                "--rate",
                "200",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(spy_out),
            ]
        node_run, node_warm, spy = await measure(
            node_proc, node_port, warmup, requests, before_run=spy_cmd
        )
        node_exit = stop_process(node_proc)
        node_closed = True
        if spy is not None:
            spy.wait(30)
        stored, mentions = count_stored(
            workdir / "node" / "cercle.db", f"{peer.actor_uri}/statuses/bench-"
        )
    finally:
        if not node_closed:
            stop_process(node_proc)
        await peer_runner.cleanup()

    key_pem = workdir / "peer.pem"
    key_pem.write_text(peer.public_key_pem())
    bare_proc, words = start_child(
        [
            "-m",
            "bench.bare_server",
            "--mode",
            "bare",
            "--db",
            str(workdir / "bare.db"),
            "--key-id",
            peer.key_id,
            "--key-pem",
            str(key_pem),
            "--cpu",
            str(SERVER_CPU),
        ]
    )
    try:
        bare_run, _, _ = await measure(bare_proc, int(words[1]), warmup, requests)
    finally:
        stop_process(bare_proc)
    with sqlite3.connect(workdir / "bare.db") as conn:
        bare_stored = conn.execute(
            "SELECT count(*) FROM activities WHERE uri LIKE ?", (f"{peer.actor_uri}/statuses/bench-%",)
        ).fetchone()[0]

    null_proc, words = start_child(
        ["-m", "bench.bare_server", "--mode", "null", "--cpu", str(SERVER_CPU)]
    )
    try:
        client_before = time.process_time()
        null_run, _, _ = await measure(null_proc, int(words[1]), warmup, requests)
        client_cpu_null = time.process_time() - client_before
    finally:
        stop_process(null_proc)

    if spy_out is not None and profile_out is not None and spy_out.exists():
        report = summarise_py_spy(spy_out, REPO_ROOT)
        profile_out.write_text(report)
        print(report)

    node_note = (
        f"{node_run.accepted}/{n} answered 202 in {node_run.load.elapsed:.2f}s "
        f"(wall {node_run.wall_rate:,.0f}/s, node CPU {node_run.cpu_seconds:.2f}s); "
        f"{stored}/{n} posts stored with {mentions} mentions; node exited {node_exit}; "
        f"warm-up {node_warm.count(202)}/{WARMUP}; pre-signing took {sign_seconds:.1f}s"
    )
    if node_run.load.sample_error:
        node_note += f"; first refusal: {node_run.load.sample_error}"
    bare_note = (
        f"{bare_run.accepted}/{n} answered 202, {bare_stored}/{n} rows stored "
        f"(wall {bare_run.wall_rate:,.0f}/s, CPU {bare_run.cpu_seconds:.2f}s)"
    )
    null_note = (
        f"wall {null_run.wall_rate:,.0f}/s, server CPU {null_run.cpu_seconds:.2f}s, "
        f"load generator CPU {client_cpu_null:.2f}s for {null_run.load.elapsed:.2f}s wall"
    )
    node_ok = node_run.cpu_rate >= TARGET_PER_CORE and stored == n
    return [
        Figure(
            "inbox ingest, real node (per CPU-s)",
            node_run.cpu_rate,
            "activities/s",
            "bare pipeline (per CPU-s)",
            bare_run.cpu_rate,
            target=f">= {TARGET_PER_CORE:,}/s/core",
            ok=node_ok,
            note=node_note,
        ),
        Figure(
            "inbox ingest, bare pipeline (per CPU-s)",
            bare_run.cpu_rate,
            "activities/s",
            "null aiohttp handler (per CPU-s)",
            null_run.cpu_rate,
            note=bare_note,
        ),
        Figure(
            "null aiohttp handler (per CPU-s)",
            null_run.cpu_rate,
            "requests/s",
            note=null_note,
        ),
    ]


def py_spy_command() -> list[str]:
    """py-spy from the venv, or from PATH; raises when it is not installed."""
    local = Path(PYTHON).parent / "py-spy"
    if local.exists():
        return [str(local)]
    found = shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return [found]


def run(n: int = 5_000, profile_out: Path | None = None) -> list[Figure]:
    """The whole benchmark, with this process (sender and fake peer) off the server's core."""
    with (
        tempfile.TemporaryDirectory(prefix="cercle-bench-") as tmp,
        pinned({client_cpu()}),
    ):
        return asyncio.run(run_async(n, Path(tmp), profile_out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5_000, help="measured activities")
    parser.add_argument(
        "--profile",
        nargs="?",
        const=Path("bench-inbox-profile.txt"),
        type=Path,
        default=None,
        help="record the node with py-spy and write the summary to this file",
    )
    args = parser.parse_args()
    print(machine_line())
    figures = run(args.n, args.profile)
    print(format_table(figures))


if __name__ == "__main__":
    main()
