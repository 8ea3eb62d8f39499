"""The real node, serving in its own process for the ingest benchmark.

``python -m bench.node_server --data-dir D --cpu 0`` initialises a fresh dev node in ``D``
(SQLite, like ``tests/harness.py``), adds the local account the benchmark mentions, pins
itself to one core, serves the unmodified ``create_app`` with workers off (fan-out is not
what is measured), prints ``ready <port> <user uri>`` and serves until SIGTERM. It logs
as ``cercle serve`` does by default, a JSON access-log line per request on stderr (the
benchmark sends it to a file); ``--no-access-log`` as ``cercle serve --no-access-log``.

A separate process matters: in the bench process the node would share the interpreter and
the core with the load generator and the fake peer, and the figure would mean nothing.
``--cprofile FILE`` runs the server under cProfile (main thread only) and writes the stats
on shutdown; py-spy attached from outside sees every thread and costs less.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
from pathlib import Path

from sqlalchemy import select

from bench.common import pin_self
from bench.serving import serve_until_signal
from bench.sql_stats import SqlStats
from node.accounts import create_user
from node.app import create_app
from node.appkeys import NODE
from node.bootstrap import initialise
from node.context import open_node, transaction
from node.db.models import Actor
from node.logging_setup import configure_logging
from node.settings import Settings
from tests.harness import PASSWORD, bind_loopback, make_settings

LOCAL_USER = "bench"


def bench_settings(data_dir: Path, port: int) -> Settings:
    """The harness's dev settings, always on SQLite: that is the configuration measured."""
    return make_settings(data_dir, port, f"sqlite+aiosqlite:///{data_dir / 'cercle.db'}")


async def prepare(data_dir: Path, port: int) -> str:
    """Create the node and its one user; returns the user's actor URI."""
    settings = bench_settings(data_dir, port)
    node = open_node(settings)
    try:
        await initialise(node, admin="admin", password=PASSWORD, org_name="Bench Org")
        async with transaction(node) as db:
            if await db.scalar(select(Actor.id).where(Actor.username == LOCAL_USER)) is None:
                await create_user(node, db, username=LOCAL_USER, password=PASSWORD)
    finally:
        await node.close()
    return f"{settings.base_url}/users/{LOCAL_USER}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--cpu", type=int, default=None)
    parser.add_argument("--cprofile", type=Path, default=None)
    parser.add_argument("--sql-stats", type=Path, default=None, help="write statement counts")
    parser.add_argument("--activities", type=int, default=1, help="divide SQL counts by this")
    parser.add_argument(
        "--no-access-log", action="store_true", help="as `cercle serve --no-access-log`"
    )
    args = parser.parse_args()
    # Logging as `cercle serve` sets it up: JSON lines on stderr, one per request.
    configure_logging("json")
    access_log = None if args.no_access_log else logging.getLogger("cercle.access")
    pinned = args.cpu is not None and pin_self(args.cpu)
    sock = bind_loopback(0)
    port = sock.getsockname()[1]
    user_uri = asyncio.run(prepare(args.data_dir, port))
    app = create_app(bench_settings(args.data_dir, port), workers=False)
    stats = None
    if args.sql_stats is not None:
        stats = SqlStats()
        node = app[NODE]
        stats.attach(node.engine, "write")
        if node.read_engine is not node.engine:
            stats.attach(node.read_engine, "read")
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler is not None:
        profiler.enable()
    try:
        asyncio.run(
            serve_until_signal(
                app, sock, f"ready {port} {user_uri} pinned={pinned}", access_log=access_log
            )
        )
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(args.cprofile))
        if stats is not None:
            args.sql_stats.write_text(stats.report(args.activities) + "\n")


if __name__ == "__main__":
    main()
