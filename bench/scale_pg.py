"""Scale-out on PostgreSQL: inbox ingest with 1 and 2 web processes, delivery fan-out with
1 and 2 ``cercle worker`` processes, all sharing one PostgreSQL database.

The question is whether a second process adds throughput: the figure is the wall-clock
rate with 2 processes divided by the rate with 1, measured in the same run (target for
ingest: at least 1.6x). Everything shares this 2-core machine: with 1 process the server
has core 0 and the load (sender or receivers) and PostgreSQL share core 1; with 2 the
servers take one core each and the load and PostgreSQL run beside them, so the ratio is
a floor of what two machines would give. The notes also give each run's rate per
CPU-second of the Cercle processes, which shows whether a process loses efficiency when
it shares the database with another, and for ingest the CPU per activity of the web
processes (w), of the database's PostgreSQL backends and of the load generator (this
process), with the limit they set on the ratio: on 2 cores one process goes at most at
1/w1 and two at most at 2/(w2 + p2), p being PostgreSQL plus the load generator, so the
ratio cannot exceed 2 w1 / (w2 + p2) however quiet the machine.

Ingest: the same pre-signed public Create(Note) activities as ``bench.inbox_ingest``,
split evenly between the web processes (``create_app`` with workers off, as
``cercle serve --no-workers`` runs it), 64 keep-alive connections in all.

Fan-out: POSTS x INBOXES deliveries queued in one transaction once the workers are
idle, delivered by real ``python -m node worker`` processes (SKIP LOCKED claims) to
loopback receivers; timed from the commit until the database says every row is done.

Needs a PostgreSQL server: ``CERCLE_BENCH_POSTGRES`` (default
``postgresql://cercle:cercle@127.0.0.1:5432/postgres``, what ``.ci/run`` sets up); each
run creates its own database and drops it afterwards.

Run alone: ``.venv/bin/python -m bench.scale_pg [-n 4000] [--ingest-only] [--profile DIR]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select

from bench.common import (
    PYTHON,
    REPO_ROOT,
    Figure,
    child_env,
    client_cpu,
    format_table,
    machine_line,
    pin_self,
    stop_process,
    wait_for_line,
)
from bench.fanout import inbox_urls
from bench.inbox_ingest import WARMUP, thread_cpu_seconds
from bench.loadgen import drive
from bench.remote_peer import FakePeer
from tests.harness import PASSWORD, bind_loopback, make_settings

ADMIN_URL = os.environ.get(
    "CERCLE_BENCH_POSTGRES", "postgresql://cercle:cercle@127.0.0.1:5432/postgres"
)
INGEST_TARGET = 1.6
CONCURRENCY = 64
FANOUT_POSTS = 12
FANOUT_INBOXES = 250  # 3,000 deliveries per run
CHILD_TIMEOUT = 90.0
FANOUT_TIMEOUT = 240.0


@dataclass
class Measured:
    processes: int
    count: int
    wall: float
    cpu: float
    #: CPU seconds of this database's PostgreSQL backends, and of the load generator
    #: (this process: it sends the requests); measured for ingest only
    pg_cpu: float = 0.0
    load_cpu: float = 0.0
    #: PostgreSQL sessions opened on the database while measured
    sessions: int = 0

    def per_activity_ms(self, seconds: float) -> float:
        return 1000 * seconds / self.count if self.count else 0.0

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.count / self.cpu if self.cpu else 0.0


# --- database --------------------------------------------------------------------------


async def create_database() -> str:
    import asyncpg

    name = f"cercle_bench_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://{ADMIN_URL.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"


async def drop_database(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def backend_pids(url: str) -> list[int]:
    """The PostgreSQL server processes serving the bench's database (the nodes' pools)."""
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", url.rsplit("/", 1)[1]
        )
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


def process_cpu(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process still there (/proc, readable for any
    user: the server runs as ``postgres``)."""
    cpu = {}
    for pid in pids:
        try:
            cpu[pid] = thread_cpu_seconds(pid)[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return cpu


def backends_cpu_since(url: str, before: dict[int, float]) -> float:
    """CPU the database's backends spent since ``before`` (a backend opened meanwhile
    counts whole). The server's shared background processes (WAL writer, checkpointer)
    serve every database of this shared server and are left out."""
    after = process_cpu(asyncio.run(backend_pids(url)))
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


async def sessions_opened(url: str) -> int:
    """Sessions PostgreSQL has opened on the bench's database so far (a pool that
    opens and closes connections under load makes the server start a backend each
    time, CPU the per-backend figures cannot see once the backend is gone)."""
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        return int(
            await conn.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = $1",
                url.rsplit("/", 1)[1],
            )
            or 0
        )
    finally:
        await conn.close()


async def prepare_node(data_dir: Path, domain_port: int, url: str) -> str:
    from node.accounts import create_user
    from node.bootstrap import initialise
    from node.context import open_node, transaction

    settings = make_settings(data_dir, domain_port, url)
    node = open_node(settings)
    try:
        await initialise(node, admin="admin", password=PASSWORD, org_name="Bench Org")
        async with transaction(node) as db:
            await create_user(node, db, username="bench", password=PASSWORD)
    finally:
        await node.close()
    return f"{settings.base_url}/users/bench"


# --- children --------------------------------------------------------------------------


def serve_child(data_dir: Path, domain_port: int, url: str, cpu: int) -> None:
    """A web process of the node (workers off) on a port of its own."""
    from bench.serving import serve_until_signal
    from node.app import create_app

    pin_self(cpu)
    sock = bind_loopback(0)
    app = create_app(make_settings(data_dir, domain_port, url), workers=False)
    asyncio.run(serve_until_signal(app, sock, f"ready {sock.getsockname()[1]}"))


def start_server(
    node_dir: Path, domain_port: int, url: str, cpu: int
) -> tuple[subprocess.Popen[bytes], int]:
    args = ["-m", "bench.scale_pg", "--serve", str(node_dir), "--domain-port", str(domain_port)]
    args += ["--database-url", url, "--cpu", str(cpu)]
    proc = subprocess.Popen([PYTHON, *args], cwd=REPO_ROOT, env=child_env(), stdout=subprocess.PIPE)
    try:
        return proc, int(wait_for_line(proc, "ready ", CHILD_TIMEOUT).split()[1])
    except BaseException:
        stop_process(proc)
        raise


# --- ingest ----------------------------------------------------------------------------


def signed(peer: FakePeer, inbox_url: str, user_uri: str, prefix: str, count: int) -> list[bytes]:
    """Distinct activities (ids carry ``prefix``), signed now, one second apart."""
    first = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=count)
    return [
        peer.signed_post(
            inbox_url,
            peer.create_note(f"{prefix}-{i}", user_uri, "bench", first + timedelta(seconds=i)),
        )
        for i in range(count)
    ]


async def _warm_all(
    peers: list[tuple[FakePeer, socket.socket]], batches: list[tuple[int, list[bytes]]]
) -> None:
    """The node processes fetch the peers' keys and fill their caches; not measured."""
    runners = []
    for peer, sock in peers:
        runner = web.AppRunner(peer.app(), access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        runners.append(runner)
    try:
        for port, warm in batches:
            await drive("127.0.0.1", port, warm, concurrency=CONCURRENCY)
    finally:
        for runner in runners:
            await runner.cleanup()


async def _drive_all(batches: list[tuple[int, list[bytes]]], concurrency: int) -> int:
    results = await asyncio.gather(
        *(drive("127.0.0.1", port, requests, concurrency=concurrency) for port, requests in batches)
    )
    return sum(r.count(202) for r in results)


def ingest(
    processes: int,
    node_dir: Path,
    domain_port: int,
    url: str,
    n: int,
    tag: str,
    profile: Path | None = None,
) -> Measured:
    # One remote sender per web process: a single sender would make both processes
    # update the same remote actor's counters, a hot row real traffic does not have.
    socks = [bind_loopback(0) for _ in range(processes)]
    peers = [(FakePeer(port=sock.getsockname()[1]), sock) for sock in socks]
    user_uri = f"http://127.0.0.1:{domain_port}/users/bench"
    servers = []
    try:
        for index in range(processes):
            servers.append(start_server(node_dir, domain_port, url, index % 2))
        warm, measured = [], []
        for index, (_, port) in enumerate(servers):
            peer = peers[index][0]
            inbox = f"http://127.0.0.1:{port}/inbox"
            warm.append((port, signed(peer, inbox, user_uri, f"{tag}-warm-{index}", WARMUP)))
            measured.append((port, signed(peer, inbox, user_uri, f"{tag}-{index}", n // processes)))
        asyncio.run(_warm_all(peers, warm))
        backends = process_cpu(asyncio.run(backend_pids(url)))
        sessions = asyncio.run(sessions_opened(url))
        profilers = [py_spy(proc.pid, profile, f"{tag}-{i}") for i, (proc, _) in enumerate(servers)]
        before = sum(thread_cpu_seconds(p.pid)[0] for p, _ in servers)
        load_before = time.process_time()
        started = time.perf_counter()
        accepted = asyncio.run(_drive_all(measured, CONCURRENCY // processes))
        wall = time.perf_counter() - started
        load_cpu = time.process_time() - load_before
        cpu = sum(thread_cpu_seconds(p.pid)[0] for p, _ in servers) - before
        pg_cpu = backends_cpu_since(url, backends)
        sessions = asyncio.run(sessions_opened(url)) - sessions
        for profiler in profilers:
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)  # py-spy writes its file and exits
                profiler.wait(timeout=60)
    finally:
        for proc, _ in servers:
            stop_process(proc)
        for sock in socks:
            sock.close()
    return Measured(processes, accepted, wall, cpu, pg_cpu, load_cpu, sessions)


def py_spy(pid: int, directory: Path | None, name: str) -> subprocess.Popen[bytes] | None:
    """``py-spy record`` of a web process while it is measured (``--profile DIR``):
    collapsed stacks in ``DIR/NAME.txt``, to see where its CPU goes. Sampling costs the
    machine some CPU of its own: figures of a profiled run are not comparable."""
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    args = ["record", "--pid", str(pid), "--rate", "250", "--nonblocking", "--format", "raw"]
    args += ["--output", str(directory / f"{name}.txt")]
    return subprocess.Popen(
        [str(Path(PYTHON).parent / "py-spy"), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# --- fan-out ---------------------------------------------------------------------------


async def _queue(url: str, data_dir: Path, domain_port: int, first: int, inboxes: list[str]) -> int:
    from bench.fanout import enqueue_posts
    from node.context import open_node

    node = open_node(make_settings(data_dir, domain_port, url))
    try:
        return await enqueue_posts(node, first, FANOUT_POSTS, inboxes)
    finally:
        await node.close()


async def _pending(url: str, data_dir: Path, domain_port: int) -> int:
    from node.context import open_node
    from node.db.models import Delivery
    from node.db.models.delivery import DONE

    node = open_node(make_settings(data_dir, domain_port, url))
    try:
        async with node.reads() as db:
            return int(
                await db.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.state != DONE)
                )
                or 0
            )
    finally:
        await node.close()


def fanout(
    processes: int, node_dir: Path, domain_port: int, url: str, ports: list[int], first: int
) -> Measured:
    env = child_env(
        CERCLE_DATA_DIR=str(node_dir),
        CERCLE_DOMAIN=f"127.0.0.1:{domain_port}",
        CERCLE_DEV="1",
        CERCLE_DATABASE_URL=url.replace("postgresql+asyncpg://", "postgresql://"),
        CERCLE_LOG_FORMAT="text",
    )
    workers = []
    try:
        for index in range(processes):
            proc = subprocess.Popen(
                ["taskset", "-c", str(index % 2), PYTHON, "-m", "node", "worker"],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            wait_for_line(proc, "worker ", CHILD_TIMEOUT)
            workers.append(proc)
        inboxes = inbox_urls(ports, FANOUT_INBOXES)
        before = sum(thread_cpu_seconds(p.pid)[0] for p in workers)
        started = time.perf_counter()
        queued = asyncio.run(_queue(url, node_dir, domain_port, first, inboxes))
        deadline = started + FANOUT_TIMEOUT
        while asyncio.run(_pending(url, node_dir, domain_port)) and (
            time.perf_counter() < deadline
        ):
            time.sleep(0.1)
        wall = time.perf_counter() - started
        cpu = sum(thread_cpu_seconds(p.pid)[0] for p in workers) - before
        left = asyncio.run(_pending(url, node_dir, domain_port))
    finally:
        for proc in workers:
            stop_process(proc)
    return Measured(processes, queued - left, wall, cpu)


# --- parent ----------------------------------------------------------------------------


def run(n: int = 4_000, *, ingest_only: bool = False, profile: Path | None = None) -> list[Figure]:
    try:
        url = asyncio.run(create_database())
    except Exception as exc:  # refused, bad password, no such role: say so, do not crash
        note = f"PostgreSQL not reachable at {ADMIN_URL} ({exc}): start it as .ci/run does"
        return [Figure("scale-out on PostgreSQL", 0, "", note=note, ok=None)]
    receivers = None
    fan_one = fan_two = None
    try:
        probe = bind_loopback(0)
        domain_port = probe.getsockname()[1]
        probe.close()
        with tempfile.TemporaryDirectory(prefix="cercle-bench-pg-") as tmp:
            node_dir = Path(tmp) / "node"
            asyncio.run(prepare_node(node_dir, domain_port, url))
            one = ingest(1, node_dir, domain_port, url, n, "one", profile)
            two = ingest(2, node_dir, domain_port, url, n, "two", profile)
            if not ingest_only:
                receivers = subprocess.Popen(
                    [PYTHON, "-m", "bench.fanout", "--receivers", "8", "--cpu", str(client_cpu())],
                    cwd=REPO_ROOT,
                    env=child_env(),
                    stdout=subprocess.PIPE,
                )
                ports = [
                    int(p)
                    for p in wait_for_line(receivers, "ready ", CHILD_TIMEOUT).split()[1].split(",")
                ]
                fan_one = fanout(1, node_dir, domain_port, url, ports, 1_000)
                fan_two = fanout(2, node_dir, domain_port, url, ports, 2_000)
    finally:
        if receivers is not None:
            stop_process(receivers)
        asyncio.run(drop_database(url))
    ingest_ratio = two.rate / one.rate if one.rate else 0.0

    def note(m: Measured, what: str) -> str:
        return (
            f"{m.processes} process(es): {m.count} {what} in {m.wall:.2f}s wall = "
            f"{m.rate:,.0f}/s; {m.cpu:.2f} CPU-s in Cercle processes = {m.cpu_rate:,.0f}/CPU-s"
        )

    figures = [
        Figure(
            "PG inbox ingest, 2 web processes",
            two.rate,
            "activities/s",
            "same, 1 process",
            one.rate,
            target=f">= {INGEST_TARGET}x",
            ok=ingest_ratio >= INGEST_TARGET,
            note=f"{note(one, 'accepted')}; {note(two, 'accepted')}; {ingest_limit(one, two)}",
        )
    ]
    if fan_one is not None and fan_two is not None:
        figures.append(
            Figure(
                "PG delivery fan-out, 2 workers",
                fan_two.rate,
                "deliveries/s",
                "same, 1 worker",
                fan_one.rate,
                note=f"{note(fan_one, 'delivered')}; {note(fan_two, 'delivered')}",
            )
        )
    return figures


def ingest_limit(one: Measured, two: Measured) -> str:
    """Where the physical limit of the ingest ratio lies, from the CPU each run spent.

    On 2 cores, with ``w`` the web processes' CPU per activity and ``p`` everything else
    the machine does per activity (PostgreSQL's backends, the load generator), one web
    process goes at most at 1/w (its core) and two at most at 2/(w + p) (both cores
    full), so the ratio cannot exceed 2 w1 / (w2 + p2): PostgreSQL's CPU per activity
    bounds it as much as ours.
    """
    w1 = one.per_activity_ms(one.cpu)
    w2 = two.per_activity_ms(two.cpu)
    p2 = two.per_activity_ms(two.pg_cpu + two.load_cpu)
    bound = 2 * w1 / (w2 + p2) if w2 + p2 else 0.0

    def parts(m: Measured) -> str:
        return (
            f"web {m.per_activity_ms(m.cpu):.3f}, PostgreSQL backends "
            f"{m.per_activity_ms(m.pg_cpu):.3f}, load generator {m.per_activity_ms(m.load_cpu):.3f}"
            f" ({m.sessions} PostgreSQL sessions opened meanwhile)"
        )

    return (
        f"CPU-ms per activity, 1 process: {parts(one)}; 2 processes: {parts(two)}; "
        f"limit of the ratio on 2 cores 2*w1/(w2+p2) = {bound:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=4_000, help="activities per ingest run")
    parser.add_argument("--ingest-only", action="store_true", help="skip the fan-out runs")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record each web process with py-spy while measured (collapsed stacks in DIR)",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--domain-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_child(args.serve, args.domain_port, args.database_url, args.cpu)
        return
    print(machine_line(), flush=True)
    figures = run(args.n, ingest_only=args.ingest_only, profile=args.profile)
    print(format_table(figures))
    print(machine_line())


if __name__ == "__main__":
    main()
