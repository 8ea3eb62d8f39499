"""Inbox ingest: signed Create(Note) activities per second into a real node, on one core.

What runs where (2 cores):

* core 0 — the server under test, in its own process: first the real node
  (``bench.node_server``: fresh data dir, SQLite, dev mode, workers off), then the bare
  pipeline and the null server (``bench.bare_server``) on the very same requests;
* core 1 — this process: a fake remote peer serving its actor document (the node fetches
  the key once), and the load generator, which pre-signs N distinct public Create(Note)
  activities mentioning the node's local user and POSTs them to ``/inbox`` over 64
  keep-alive connections.

Reported: accepted (202) activities per CPU-second of the server process — what one core
does when the server has it to itself, the figure the issue's target is about. On an idle
machine it equals the wall-clock rate (the server saturates its pinned core); on this
shared machine other people's tests also run on that core, which lowers the wall-clock
rate but not the CPU cost, so the CPU-second figure is the reproducible one. The notes
give the wall-clock rate too, and the server's CPU per activity split between its
event-loop thread and its other threads (aiosqlite runs each connection in a thread).
Afterwards the node's database is opened and the stored posts counted, so a 202 that
stored nothing would show. No new request is sent after TIME_LIMIT seconds, so a slow node
keeps the run bounded.

Run alone: ``.venv/bin/python -m bench.inbox_ingest [-n 5000] [--profile [FILE]]
[--sql-stats [FILE]] [--cprofile [FILE]]``. ``--profile`` attaches py-spy to the node
during the measured run and prints where its time goes; ``--sql-stats`` counts the node's
SQL statements per activity; ``--cprofile`` runs the node under cProfile (which slows it,
so the figure of that run is not the one to quote) and counts Python calls per activity.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from bench.profile_summary import summarise_cprofile, summarise_py_spy
from bench.remote_peer import FakePeer
from tests.harness import bind_loopback

TARGET_PER_CORE = 2_000
#: --sql-stats counts what goes through SQLAlchemy's engine events; a batch of Creates
#: applied together on SQLite bypasses them (node/batch_io.py), so say what it sends.
SQL_STATS_BLIND_SPOT = (
    "(not counted above: a batch applied together on SQLite sends its statements through "
    "node/batch_io.py, in 3 hand-offs to aiosqlite's thread: BEGIN IMMEDIATE + 1 SELECT; "
    "4 SELECTs; 5-6 multi-row INSERTs + UPDATE of reply counts + COMMIT)"
)
WARMUP = 200
# 64 concurrent keep-alive connections, as the issue asks; BENCH_CONCURRENCY overrides it
# (1 shows the cost of one activity with no queueing at all).
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "64"))
# No new request after this long, so a slow node keeps the benchmark bounded.
TIME_LIMIT = 60.0
CHILD_START_TIMEOUT = 60.0


@dataclass
class Run:
    """One server measured on one batch of requests."""

    load: LoadResult
    cpu_seconds: float
    main_thread_seconds: float

    @property
    def accepted(self) -> int:
        return self.load.count(202)

    @property
    def wall_rate(self) -> float:
        """Accepted activities per second of wall time, the server alone on its core."""
        return self.load.rate(202)

    @property
    def cpu_rate(self) -> float:
        """Accepted activities per CPU-second of the server, all threads together."""
        return self.accepted / self.cpu_seconds if self.cpu_seconds else 0.0

    def cpu_note(self) -> str:
        """Wall rate, and where the server's CPU went: event-loop thread or the others."""
        if not self.accepted:
            return "nothing accepted"
        per = 1000 / self.accepted
        others = self.cpu_seconds - self.main_thread_seconds
        return (
            f"wall-clock {self.wall_rate:,.0f}/s over {self.load.elapsed:.2f}s; server CPU "
            f"{self.cpu_seconds:.2f}s = {per * self.cpu_seconds:.3f} ms/activity "
            f"({per * self.main_thread_seconds:.3f} ms event-loop thread, "
            f"{per * others:.3f} ms other threads)"
        )


def thread_cpu_seconds(pid: int) -> tuple[float, float]:
    """(whole process, main thread) user + system CPU seconds, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")

    def read(path: str) -> float:
        with open(path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return read(f"/proc/{pid}/stat"), read(f"/proc/{pid}/task/{pid}/stat")


def start_child(
    args: Sequence[str], log: Path | None = None
) -> tuple[subprocess.Popen[bytes], list[str]]:
    """Start a benchmark child and wait for its ``ready`` line; returns its words.
    ``log``: where its stderr (the node's log lines) goes."""
    with open(log or os.devnull, "wb") as stderr:
        proc = subprocess.Popen(
            [PYTHON, *args], cwd=REPO_ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=stderr
        )
    try:
        line = wait_for_line(proc, "ready ", CHILD_START_TIMEOUT)
    except BaseException:
        stop_process(proc)
        raise
    return proc, line.split()


async def warm_up(
    port: int, warmup: Sequence[bytes], peer: FakePeer | None, peer_sock: socket.socket | None
) -> LoadResult:
    """First requests: the node fetches the peer's key (so the peer serves only now), fills
    its caches and compiles its SQL; none of this is part of the measured figure."""
    runner = None
    if peer is not None and peer_sock is not None:
        runner = web.AppRunner(peer.app(), access_log=None)
        await runner.setup()
        await web.SockSite(runner, peer_sock).start()
    try:
        return await drive("127.0.0.1", port, warmup, concurrency=CONCURRENCY)
    finally:
        if runner is not None:
            await runner.cleanup()


def measure(
    proc: subprocess.Popen[bytes],
    port: int,
    requests: Sequence[bytes],
    *,
    spy_command: Sequence[str] | None = None,
) -> tuple[Run, subprocess.Popen[bytes] | None]:
    """Time one batch against a warmed-up server, optionally with py-spy attached."""
    spy = None
    if spy_command:
        spy = subprocess.Popen(spy_command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # py-spy needs a moment to attach before the clock starts
    cpu_before, main_before = thread_cpu_seconds(proc.pid)
    load = asyncio.run(
        drive("127.0.0.1", port, requests, concurrency=CONCURRENCY, time_limit=TIME_LIMIT)
    )
    cpu_after, main_after = thread_cpu_seconds(proc.pid)
    return Run(load, cpu_after - cpu_before, main_after - main_before), spy


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


def count_bare(db_path: Path, prefix: str) -> int:
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT count(*) FROM activities WHERE uri LIKE ?", (prefix + "%",))
        return int(row.fetchone()[0])


def py_spy_command() -> list[str]:
    """py-spy from the venv, or from PATH; exits with a hint when it is not installed."""
    local = Path(PYTHON).parent / "py-spy"
    if local.exists():
        return [str(local)]
    found = shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
    return [found]


def spy_command(pid: int, out: Path) -> list[str]:
    """py-spy sampling every thread of ``pid`` at 200 Hz, without pausing it."""
    return [
        *py_spy_command(),
        "record",
        "--pid",
        str(pid),
        "--rate",
        "200",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(out),
    ]


def sign_batches(
    peer: FakePeer, inbox_url: str, user_uri: str, n: int
) -> tuple[list[bytes], list[bytes]]:
    """(warm-up, measured) requests, signed now: the Date stays valid for an hour."""
    # One second apart and ending now: distinct, plausible publication times.
    first = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=WARMUP + n)

    def signed(serial: str, index: int) -> bytes:
        note = peer.create_note(serial, user_uri, "bench", first + timedelta(seconds=index))
        return peer.signed_post(inbox_url, note)

    warmup = [signed(f"warm-{i}", i) for i in range(WARMUP)]
    return warmup, [signed(f"bench-{i}", WARMUP + i) for i in range(n)]


def run_in(
    n: int,
    workdir: Path,
    profile_out: Path | None,
    sql_out: Path | None = None,
    cprofile_out: Path | None = None,
    access_log: bool = True,
) -> list[Figure]:
    """Node, then bare pipeline, then null handler, each on the server core in turn."""
    peer_sock = bind_loopback(0)
    peer = FakePeer(port=peer_sock.getsockname()[1])
    node_args = ["--data-dir", str(workdir / "node"), "--cpu", str(SERVER_CPU)]
    if sql_out is not None:
        node_args += ["--sql-stats", str(sql_out), "--activities", str(WARMUP + n)]
    pstats_file = workdir / "node.pstats"
    if cprofile_out is not None:
        node_args += ["--cprofile", str(pstats_file)]
    if not access_log:
        node_args.append("--no-access-log")
    spy_out = profile_out.with_suffix(".raw") if profile_out else None
    spy = None
    node_log = workdir / "node.log"
    node_proc, words = start_child(["-m", "bench.node_server", *node_args], log=node_log)
    try:
        node_port, user_uri = int(words[1]), words[2]
        started = time.perf_counter()
        warmup, requests = sign_batches(peer, f"http://127.0.0.1:{node_port}/inbox", user_uri, n)
        sign_seconds = time.perf_counter() - started
        node_warm = asyncio.run(warm_up(node_port, warmup, peer, peer_sock))
        spy_cmd = spy_command(node_proc.pid, spy_out) if spy_out else None
        node_run, spy = measure(node_proc, node_port, requests, spy_command=spy_cmd)
    finally:
        node_exit = stop_process(node_proc)
        peer_sock.close()
    if spy is not None:
        spy.wait(30)
    prefix = f"{peer.actor_uri}/statuses/bench-"
    stored, mentions = count_stored(workdir / "node" / "cercle.db", prefix)
    access_lines = sum(1 for line in node_log.open() if '"logger":"cercle.access"' in line)

    key_pem = workdir / "peer.pem"
    key_pem.write_text(peer.public_key_pem())
    bare_args = ["--db", str(workdir / "bare.db"), "--key-id", peer.key_id]
    bare_args += ["--key-pem", str(key_pem), "--cpu", str(SERVER_CPU)]
    bare_proc, words = start_child(["-m", "bench.bare_server", "--mode", "bare", *bare_args])
    try:
        asyncio.run(warm_up(int(words[1]), warmup, None, None))
        bare_run, _ = measure(bare_proc, int(words[1]), requests)
    finally:
        stop_process(bare_proc)
    bare_stored = count_bare(workdir / "bare.db", prefix)

    null_proc, words = start_child(
        ["-m", "bench.bare_server", "--mode", "null", "--cpu", str(SERVER_CPU)]
    )
    try:
        asyncio.run(warm_up(int(words[1]), warmup, None, None))
        client_before = time.process_time()
        null_run, _ = measure(null_proc, int(words[1]), requests)
        client_cpu_null = time.process_time() - client_before
    finally:
        stop_process(null_proc)

    if sql_out is not None and sql_out.exists():
        print(sql_out.read_text())
        print(SQL_STATS_BLIND_SPOT)
    if cprofile_out is not None and pstats_file.exists():
        report = summarise_cprofile(pstats_file, WARMUP + n)
        cprofile_out.write_text(report + "\n")
        raw = cprofile_out.with_suffix(".pstats")
        shutil.copyfile(pstats_file, raw)
        print(report, f"\n(written to {cprofile_out}, raw stats in {raw})\n")
    if spy_out is not None and profile_out is not None and spy_out.exists():
        report = summarise_py_spy(spy_out, REPO_ROOT)
        profile_out.write_text(report + "\n")
        print(report)
        print(f"(profile summary written to {profile_out}, raw stacks to {spy_out})\n")

    sent = node_run.load.sent
    node_note = (
        f"{node_run.accepted}/{sent} answered 202"
        + (f" (stopped after {TIME_LIMIT:.0f}s: {sent} of {n} sent)" if sent < n else "")
        + f"; {stored}/{node_run.accepted} posts found in the database with {mentions} "
        f"mentions; {node_run.cpu_note()}; warm-up {node_warm.count(202)}/{WARMUP} "
        f"accepted; exit status {node_exit}; pre-signing {WARMUP + n} took {sign_seconds:.1f}s; "
        + (
            f"JSON access log on, as `cercle serve` by default ({access_lines} lines)"
            if access_log
            else "access log off (--no-access-log)"
        )
    )
    if node_run.load.sample_error:
        node_note += f"; first refusal: {node_run.load.sample_error}"
    if cprofile_out is not None or spy_out is not None:
        node_note += "; PROFILED RUN: the node was slowed by the profiler, do not quote"
    bare_note = (
        f"{bare_run.accepted}/{n} answered 202, {bare_stored}/{n} rows in its database; "
        f"{bare_run.cpu_note()}"
    )
    null_note = (
        f"{null_run.cpu_note()}; the load generator used {client_cpu_null:.2f} CPU-s for "
        f"{null_run.load.elapsed:.2f}s wall, so it is not the bottleneck"
        if client_cpu_null < 0.8 * null_run.load.elapsed
        else f"{null_run.cpu_note()}; the load generator used {client_cpu_null:.2f} CPU-s "
        f"for {null_run.load.elapsed:.2f}s wall: this figure is partly the sender's limit"
    )
    node_ok = node_run.cpu_rate >= TARGET_PER_CORE and stored == node_run.accepted
    return [
        Figure(
            "inbox ingest, real node",
            node_run.cpu_rate,
            "activities/CPU-s",
            "bare pipeline",
            bare_run.cpu_rate,
            target=f">= {TARGET_PER_CORE:,}/s/core",
            ok=node_ok,
            note=node_note,
        ),
        Figure(
            "inbox ingest, bare pipeline",
            bare_run.cpu_rate,
            "activities/CPU-s",
            "null aiohttp handler",
            null_run.cpu_rate,
            note=bare_note,
        ),
        Figure(
            "null aiohttp handler",
            null_run.cpu_rate,
            "requests/CPU-s",
            note=null_note,
        ),
    ]


def run(
    n: int = 5_000,
    profile_out: Path | None = None,
    sql_out: Path | None = None,
    cprofile_out: Path | None = None,
    access_log: bool = True,
) -> list[Figure]:
    """The whole benchmark, with this process (sender and fake peer) off the server's core."""
    with (
        tempfile.TemporaryDirectory(prefix="cercle-bench-") as tmp,
        pinned({client_cpu()}),
    ):
        return run_in(n, Path(tmp), profile_out, sql_out, cprofile_out, access_log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=5_000, help="measured activities")
    parser.add_argument(
        "--profile",
        nargs="?",
        const=Path(tempfile.gettempdir()) / "cercle-bench-inbox-profile.txt",
        type=Path,
        default=None,
        help="record the node with py-spy and write the summary to this file",
    )
    parser.add_argument(
        "--sql-stats",
        nargs="?",
        const=Path(tempfile.gettempdir()) / "cercle-bench-inbox-sql.txt",
        type=Path,
        default=None,
        help="count the node's SQL statements per activity and write them to this file",
    )
    parser.add_argument(
        "--cprofile",
        nargs="?",
        const=Path(tempfile.gettempdir()) / "cercle-bench-inbox-cprofile.txt",
        type=Path,
        default=None,
        help="run the node under cProfile (slower) and write calls per activity to this file",
    )
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="serve without the per-request access log (`cercle serve --no-access-log`)",
    )
    args = parser.parse_args()
    print(machine_line())
    figures = run(args.n, args.profile, args.sql_stats, args.cprofile, not args.no_access_log)
    print(format_table(figures))


if __name__ == "__main__":
    main()
