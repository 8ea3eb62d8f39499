"""Home timeline: ``GET /api/v1/timelines/home?limit=40`` on a node holding 1,000,000 posts.

What runs where (2 cores):

* core 0 — the node under test in its own process (``python -m bench.home_timeline
  --serve DIR``): ``create_app`` unmodified on SQLite, workers off, serving the data set
  of ``bench.home_timeline_data`` (built once per schema, then cached). Before serving it
  issues an OAuth token for ``bench`` the way ``tests/api/conftest.py`` does (an
  ``OAuthApp`` and an ``OAuthToken`` row);
* core 1 — this process: one keep-alive HTTP/1.1 connection, one request at a time (a
  person scrolling, not a load test), timing each request from the first byte sent to the
  last byte of the body.

Two kinds of request are timed, N of each after a warm-up: the **first page**, and **deep
pages** — ``max_id`` set to ids spread evenly over ``bench``'s whole home timeline
(≈ 200,000 entries), newest to oldest, as a client paging far back would send them. Each
kind is reported as median and p99 (nearest rank).

The reference is the **bare SQL query** of the same pages — ``posts`` joined to
``timeline_entries`` on the home's primary-key range, every column fetched with the
``sqlite3`` module — timed on the server's core in the same run.
The node must also return exactly the posts that query returns, page by page: a fast
wrong answer would not count.

Run alone: ``.venv/bin/python -m bench.home_timeline [-n 500] [--profile [FILE]]
[--sql-stats [FILE]] [--cprofile [FILE]] [--unpinned] [--build-only]``. The first run
builds the data set (about four minutes); ``--build-only`` just builds it. ``--profile``
attaches py-spy to the node during the measured requests; ``--sql-stats`` counts the
node's SQL statements per request; ``--cprofile`` runs the node under cProfile (slower:
not a figure to quote) and counts Python calls per request; ``--unpinned`` lets the
server use both cores.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import math
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select

from bench.common import (
    PYTHON,
    REPO_ROOT,
    SERVER_CPU,
    Figure,
    child_env,
    client_cpu,
    cpus,
    format_table,
    machine_line,
    pin_self,
    pinned,
    stop_process,
    wait_for_line,
)
from bench.home_timeline_data import (
    BENCH_USER,
    dataset_settings,
    dataset_stats,
    ensure_dataset,
)
from bench.inbox_ingest import spy_command, thread_cpu_seconds
from bench.profile_summary import summarise_cprofile, summarise_py_spy
from bench.serving import serve_until_signal
from bench.sql_stats import SqlStats
from node.api.auth import hash_secret, new_secret
from node.app import create_app
from node.appkeys import NODE
from node.context import open_node, transaction
from node.db.models import Actor, OAuthApp, OAuthToken, User
from tests.harness import bind_loopback

N = 500
WARMUP = 100
LIMIT = 40
TARGET_MEDIAN_MS = 10.0
TARGET_P99_MS = 30.0
CHILD_START_TIMEOUT = 60.0
APP_NAME = "home timeline benchmark"
#: The bare indexed query of a page: its posts, every column, from the home's primary-key
#: range. (The node's statement also outer-joins each post's boosted original and parent.)
BARE_SQL = (
    "SELECT posts.* FROM posts JOIN timeline_entries ON timeline_entries.post_id = posts.id "
    "WHERE timeline_entries.owner_id = ? AND posts.deleted_at IS NULL{older} "
    "ORDER BY timeline_entries.post_id DESC LIMIT ?"
)


# --- the server (child process) ---------------------------------------------------------


async def issue_token(data_dir: Path) -> str:
    """A token for ``bench`` as the OAuth flow would grant it; earlier runs' are removed,
    so the cached database does not grow one app per run."""
    node = open_node(dataset_settings(data_dir))
    token = new_secret()
    try:
        async with transaction(node) as db:
            await db.execute(delete(OAuthApp).where(OAuthApp.name == APP_NAME))
            user = await db.scalar(
                select(User)
                .join(Actor, Actor.id == User.actor_id)
                .where(Actor.username == BENCH_USER, Actor.local.is_(True))
            )
            assert user is not None
            app = OAuthApp(
                client_id=new_secret(),
                client_secret_hash=hash_secret(new_secret()),
                name=APP_NAME,
                redirect_uris="urn:ietf:wg:oauth:2.0:oob",
                scopes="read write follow push",
            )
            db.add(app)
            await db.flush()
            db.add(
                OAuthToken(
                    token_hash=hash_secret(token),
                    app_id=app.id,
                    user_id=user.id,
                    scopes="read write follow push",
                )
            )
    finally:
        await node.close()
    return token


def serve(
    data_dir: Path,
    cpu: int | None,
    sql_out: Path | None,
    requests: int,
    cprofile_out: Path | None = None,
) -> None:
    """The child: pin, issue the token, serve until SIGTERM, say ``ready <port> <token>``.
    ``cprofile_out`` runs the server under cProfile (event-loop thread) and dumps it there."""
    is_pinned = cpu is not None and pin_self(cpu)
    token = asyncio.run(issue_token(data_dir))
    sock = bind_loopback(0)
    port = sock.getsockname()[1]
    app = create_app(dataset_settings(data_dir), workers=False)
    stats = None
    if sql_out is not None:
        stats = SqlStats()
        node = app[NODE]
        stats.attach(node.engine, "write")
        if node.read_engine is not node.engine:
            stats.attach(node.read_engine, "read")
    profiler = cProfile.Profile() if cprofile_out is not None else None
    if profiler is not None:
        profiler.enable()
    try:
        asyncio.run(serve_until_signal(app, sock, f"ready {port} {token} pinned={is_pinned}"))
    finally:
        if profiler is not None and cprofile_out is not None:
            profiler.disable()
            profiler.dump_stats(str(cprofile_out))
        if stats is not None and sql_out is not None:
            report = stats.report(requests).replace("activities", "requests")
            report = report.replace("activity", "request")
            sql_out.write_text(report + "\n")


# --- the client (this process) ----------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection with a bearer token; nothing more is needed,
    and a full client would cost more CPU on this core than the server's answer."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = self.sock.recv(262_144)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def _read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(max(262_144, size - len(self.buffer)))
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        body, self.buffer = self.buffer[:size], self.buffer[size:]
        return body

    def get(self, path: str) -> tuple[float, int, dict[str, str], bytes]:
        """(seconds, status, headers, body), timed from sending to the body's last byte."""
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        started = time.perf_counter()
        self.sock.sendall(request)
        head = self._read_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise RuntimeError(f"no Content-Length in the answer: {head}")
        body = self._read_exactly(int(headers["content-length"]))
        elapsed = time.perf_counter() - started
        return elapsed, int(head[0].split(" ", 2)[1]), headers, body


def page_path(max_id: int | None) -> str:
    query = f"limit={LIMIT}" + (f"&max_id={max_id}" if max_id is not None else "")
    return f"/api/v1/timelines/home?{query}"


@dataclass
class Sample:
    """One kind of request, timed N times."""

    seconds: list[float] = field(default_factory=list)
    pages: list[list[int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0

    def median_ms(self) -> float:
        return 1000 * statistics.median(self.seconds)

    def p99_ms(self) -> float:
        ordered = sorted(self.seconds)
        return 1000 * ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def timed_requests(
    conn: Connection, server_pid: int, max_ids: Sequence[int | None], keep_pages: bool = True
) -> Sample:
    """Send the pages one after another; keep times, ids returned and the server's CPU."""
    sample = Sample()
    cpu_before, _ = thread_cpu_seconds(server_pid)
    for max_id in max_ids:
        seconds, status, headers, body = conn.get(page_path(max_id))
        sample.seconds.append(seconds)
        if status != 200:
            sample.errors.append(f"{status} {body[:200]!r}")
            continue
        if keep_pages:
            ids = [int(status_["id"]) for status_ in json.loads(body)]
            sample.pages.append(ids)
            link = headers.get("link", "")
            if ids and f"max_id={ids[-1]}" not in link:
                sample.errors.append(f"Link header without next max_id: {link!r}")
    sample.cpu_seconds = thread_cpu_seconds(server_pid)[0] - cpu_before
    return sample


# --- the reference ------------------------------------------------------------------------


def bare_sql(db_path: Path, owner: int, max_ids: Sequence[int | None], rounds: int = 1) -> Sample:
    """The same pages straight from SQLite: the physical floor of the endpoint."""
    sample = Sample()
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        for round_ in range(rounds):
            for max_id in max_ids:
                sql = BARE_SQL.format(
                    older="" if max_id is None else " AND timeline_entries.post_id < ?"
                )
                args = (owner, LIMIT) if max_id is None else (owner, max_id, LIMIT)
                started = time.perf_counter()
                rows = conn.execute(sql, args).fetchall()
                elapsed = time.perf_counter() - started
                if round_ == rounds - 1:
                    sample.seconds.append(elapsed)
                    sample.pages.append([row[0] for row in rows])
    return sample


def query_plan(db_path: Path, owner: int) -> str:
    sql = BARE_SQL.format(older=" AND timeline_entries.post_id < ?")
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}", (owner, 1 << 62, LIMIT)).fetchall()
    return "; ".join(row[-1] for row in rows)


def home_ids(db_path: Path, owner: int) -> list[int]:
    """Every post id in the owner's home, newest first."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT post_id FROM timeline_entries WHERE owner_id = ? ORDER BY post_id DESC",
            (owner,),
        ).fetchall()
    return [row[0] for row in rows]


def spread(ids: Sequence[int], count: int, offset: float = 0.0) -> list[int]:
    """``count`` ids evenly spaced over ``ids`` (newest to oldest), leaving a full page
    after the last one."""
    usable = len(ids) - 2 * LIMIT
    return [ids[LIMIT + int((k + offset) * usable / count)] for k in range(count)]


# --- the benchmark --------------------------------------------------------------------------


def start_server(
    data_dir: Path,
    sql_out: Path | None,
    requests: int,
    cprofile_out: Path | None,
    pin: bool = True,
) -> tuple[subprocess.Popen[bytes], int, str]:
    args = [PYTHON, "-m", "bench.home_timeline", "--serve", str(data_dir)]
    args += ["--requests", str(requests)] + (["--cpu", str(SERVER_CPU)] if pin else [])
    if sql_out is not None:
        args += ["--sql-stats", str(sql_out)]
    if cprofile_out is not None:
        args += ["--cprofile", str(cprofile_out)]
    proc = subprocess.Popen(args, cwd=REPO_ROOT, env=child_env(), stdout=subprocess.PIPE)
    try:
        words = wait_for_line(proc, "ready ", CHILD_START_TIMEOUT).split()
    except BaseException:
        stop_process(proc)
        raise
    return proc, int(words[1]), words[2]


def compare(node: Sample, bare: Sample) -> str:
    """Empty when the node returned exactly the bare query's posts, page by page."""
    if node.errors:
        return f"{len(node.errors)} bad answers, first: {node.errors[0]}"
    wrong = sum(1 for got, want in zip(node.pages, bare.pages, strict=True) if got != want)
    short = sum(1 for page in node.pages if len(page) != LIMIT)
    problems = []
    if wrong:
        problems.append(f"{wrong} pages differ from the bare query's")
    if short:
        problems.append(f"{short} pages shorter than {LIMIT}")
    return "; ".join(problems)


def run(
    n: int = N,
    profile_out: Path | None = None,
    sql_out: Path | None = None,
    cprofile_out: Path | None = None,
    pin: bool = True,
) -> list[Figure]:
    """Build or reuse the data set, serve it, time both kinds of page, then the bare SQL.
    ``pin=False`` lets the server's threads use both cores (the client too)."""
    with pinned({client_cpu()} if pin else set(cpus())):
        data_dir = ensure_dataset()
        stats = dataset_stats(data_dir)
        db_path = data_dir / "cercle.db"
        owner = int(stats["bench_actor_id"])
        home = home_ids(db_path, owner)
        deep_ids = spread(home, n)
        warm_ids: list[int | None] = [None, *spread(home, WARMUP, offset=0.5)]
        print(
            f"  data set {data_dir.name}: {stats['posts']:,} posts, "
            f"{stats['timeline_entries']:,} timeline entries ({len(home):,} in bench's home), "
            f"{stats['local_users'] + stats['remote_actors']:,} actors, "
            f"{stats['follows']:,} follows, {stats['db_bytes'] / 1e9:.1f} GB",
            flush=True,
        )
        requests = 2 * len(warm_ids) + 2 * n
        pstats_file = cprofile_out.with_suffix(".pstats") if cprofile_out else None
        proc, port, token = start_server(data_dir, sql_out, requests, pstats_file, pin)
        spy = None
        spy_out = profile_out.with_suffix(".raw") if profile_out else None
        try:
            conn = Connection(port, token)
            try:
                timed_requests(conn, proc.pid, warm_ids * 2, keep_pages=False)
                if spy_out is not None:
                    spy = subprocess.Popen(
                        spy_command(proc.pid, spy_out),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                    )
                    time.sleep(1.0)  # py-spy needs a moment to attach
                first = timed_requests(conn, proc.pid, [None] * n)
                deep = timed_requests(conn, proc.pid, deep_ids)
            finally:
                conn.close()
        finally:
            exit_status = stop_process(proc)
        if spy is not None:
            spy.wait(30)
        with pinned({SERVER_CPU}):
            bare_first = bare_sql(db_path, owner, [None] * n, rounds=2)
            bare_deep = bare_sql(db_path, owner, deep_ids, rounds=2)
        plan = query_plan(db_path, owner)

    if sql_out is not None and sql_out.exists():
        print(sql_out.read_text())
    if pstats_file is not None and cprofile_out is not None and pstats_file.exists():
        report = summarise_cprofile(pstats_file, requests).replace("activity", "request")
        cprofile_out.write_text(report + "\n")
        print(report, f"\n(written to {cprofile_out}, raw stats in {pstats_file})\n")
    if spy_out is not None and profile_out is not None and spy_out.exists():
        report = summarise_py_spy(spy_out, REPO_ROOT)
        profile_out.write_text(report + "\n")
        print(report)
        print(f"(profile summary written to {profile_out}, raw stacks to {spy_out})\n")

    figures = []
    for kind, node, bare in (("first page", first, bare_first), ("deep pages", deep, bare_deep)):
        problem = compare(node, bare)
        note = (
            f"{len(node.seconds)} sequential requests on one keep-alive connection; server "
            f"CPU {1000 * node.cpu_seconds / len(node.seconds):.2f} ms/request; "
            + (f"WRONG ANSWERS: {problem}" if problem else "every page equals the bare query's")
            + (f"; server exit status {exit_status}" if kind == "first page" else "")
            + ("; PROFILED RUN: do not quote" if profile_out or cprofile_out else "")
            + ("" if pin else "; UNPINNED: server threads on both cores, beside the client")
        )
        median, p99 = node.median_ms(), node.p99_ms()
        figures += [
            Figure(
                f"home timeline, {kind}, median",
                median,
                "ms",
                "bare SQL, median",
                bare.median_ms(),
                target=f"< {TARGET_MEDIAN_MS:.0f} ms",
                ok=median < TARGET_MEDIAN_MS and not problem,
                note=note,
            ),
            Figure(
                f"home timeline, {kind}, p99",
                p99,
                "ms",
                "bare SQL, p99",
                bare.p99_ms(),
                target=f"< {TARGET_P99_MS:.0f} ms",
                ok=p99 < TARGET_P99_MS and not problem,
            ),
        ]
    print(f"  bare query plan: {plan}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=N, help="measured requests of each kind")
    parser.add_argument(
        "--profile",
        nargs="?",
        const=Path(tempfile.gettempdir()) / "cercle-bench-home-profile.txt",
        type=Path,
        default=None,
        help="record the node with py-spy and write the summary to this file",
    )
    parser.add_argument(
        "--sql-stats",
        nargs="?",
        const=Path(tempfile.gettempdir()) / "cercle-bench-home-sql.txt",
        type=Path,
        default=None,
        help="count the node's SQL statements per request and write them to this file",
    )
    parser.add_argument(
        "--cprofile",
        nargs="?",
        const=Path(tempfile.gettempdir()) / "cercle-bench-home-cprofile.txt",
        type=Path,
        default=None,
        help="run the node under cProfile (slower) and write calls per request to this file",
    )
    parser.add_argument(
        "--unpinned",
        action="store_true",
        help="let the server use both cores (default: the server alone on core 0)",
    )
    parser.add_argument("--build-only", action="store_true", help="only build the data set")
    parser.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.cpu, args.sql_stats, args.requests, args.cprofile)
        return
    if args.build_only:
        print(ensure_dataset())
        return
    print(machine_line())
    figures = run(args.n, args.profile, args.sql_stats, args.cprofile, pin=not args.unpinned)
    print(format_table(figures))


if __name__ == "__main__":
    main()
