"""Running real Cercle nodes inside the test process, on real loopback sockets.

Each node has its own data directory and SQLite database, its own port, real keys and
real signed HTTP between nodes. Nothing of the node is mocked.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import select

from node.accounts import create_user, require_user_actor
from node.app import create_app
from node.appkeys import NODE
from node.bootstrap import initialise
from node.context import Node, open_node, transaction
from node.db.engine import make_engine
from node.db.migrate import upgrade
from node.db.models import Actor
from node.delivery.worker import run_once
from node.settings import Settings, normalise_database_url

T = TypeVar("T")
PASSWORD = "correct horse battery"


def bind_loopback(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


#: ``CERCLE_TEST_POSTGRES=postgresql://user:pw@host/postgres`` runs every node of the
#: suite on its own fresh PostgreSQL database instead of a SQLite file.
POSTGRES_ADMIN_URL = os.environ.get("CERCLE_TEST_POSTGRES", "")


def _database_url(name: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return normalise_database_url(f"{base}/{name}")


async def create_test_database(*, template: str | None = None) -> str:
    """A new PostgreSQL database for one node, empty unless copied from ``template``;
    returns its SQLAlchemy URL."""
    import asyncpg

    name = f"cercle_test_{uuid.uuid4().hex[:16]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await connection.close()
    return _database_url(name)


async def drop_test_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


class _BackgroundDrops:
    """Drops the databases of finished tests in a thread of their own. PostgreSQL forces
    an immediate checkpoint for every DROP DATABASE and the DROP waits for it, which made
    tearing down a test cost up to several seconds (most of the PostgreSQL run's teardown
    time); the next test need not wait for it. At most ``BACKLOG`` drops wait, so a slow
    server cannot pile up databases, and :meth:`finish` waits for the last ones and
    reports any drop that failed."""

    BACKLOG = 16

    def __init__(self) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue(self.BACKLOG)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        #: drops that failed while tests ran: a test may have cut the process off the
        #: network for a moment (tests/unit/federation/test_jsonld.py's ``no_network``
        #: patches ``socket`` process-wide, this thread included)
        self.failed: list[str] = []

    def _run(self) -> None:
        while (url := self._queue.get()) is not None:
            try:
                asyncio.run(drop_test_database(url))
            except Exception:  # tried again by finish(), once no test runs
                self.failed.append(url)

    async def submit(self, url: str) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="drop-databases", daemon=True
                )
                self._thread.start()
        await asyncio.to_thread(self._queue.put, url)

    def finish(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()
        failed, self.failed = self.failed, []
        errors = []
        for url in failed:
            try:
                asyncio.run(drop_test_database(url))
            except Exception as error:
                errors.append(f"{url.rsplit('/', 1)[1]}: {error!r}")
        if errors:
            raise AssertionError(f"could not drop test databases: {errors}")


_background_drops = _BackgroundDrops()


# Running every migration from empty was the largest part of starting a node on
# PostgreSQL (about half of it), and the suite starts a node or more in most tests. So each
# test process migrates one template database once and every node starts from a copy of
# it: on PostgreSQL by ``CREATE DATABASE ... TEMPLATE`` (a block copy), on SQLite by
# copying the file. The node's own init still runs Alembic on the copy, which finds it at
# head and does nothing. The migrations themselves still run from empty in
# tests/unit/test_migrations.py (SQLite), tests/unit/test_migrations_postgres.py, and the
# backup/restore and ``cercle db copy`` tests.
_template_lock = threading.Lock()
_template: str | None = None


async def _migrate(database_url: str) -> None:
    engine = make_engine(database_url, writer=True)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _build_template() -> str:
    """Runs in a thread with its own event loop, so that any test's loop can wait for it."""
    if POSTGRES_ADMIN_URL:
        url = asyncio.run(create_test_database())
        asyncio.run(_migrate(url))
        return url.rsplit("/", 1)[1]
    path = Path(tempfile.mkdtemp(prefix="cercle-template-")) / "cercle.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return str(path)


def _migrated_template() -> str:
    global _template
    with _template_lock:
        if _template is None:
            _template = _build_template()
        return _template


async def migrated_template() -> str:
    """This process's template: a PostgreSQL database name, or a SQLite file path."""
    return _template or await asyncio.to_thread(_migrated_template)


def drop_migrated_template() -> None:
    """End of the test session: the template goes once the process's other databases
    are gone."""
    global _template
    with _template_lock:
        template, _template = _template, None
    try:
        _background_drops.finish()
    finally:
        if template is not None and POSTGRES_ADMIN_URL:
            asyncio.run(drop_test_database(_database_url(template)))
        elif template is not None:
            shutil.rmtree(Path(template).parent, ignore_errors=True)


def make_settings(
    data_dir: Path, port: int, database_url: str | None = None, **overrides: Any
) -> Settings:
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=data_dir,
        domain=f"127.0.0.1:{port}",
        database_url=database_url or f"sqlite+aiosqlite:///{data_dir / 'cercle.db'}",
        dev=True,
        org_name=f"Org {data_dir.name}",
        **overrides,
    )


@dataclass
class RunningNode:
    name: str
    settings: Settings
    port: int
    runner: web.AppRunner | None = None
    users: tuple[str, ...] = ()
    workers: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def node(self) -> Node:
        assert self.runner is not None, f"node {self.name} is stopped"
        return self.runner.app[NODE]

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def domain(self) -> str:
        return self.settings.domain

    def handle(self, username: str) -> str:
        return f"{username}@{self.domain}"

    def actor_uri(self, username: str) -> str:
        return f"{self.base_url}/users/{username}"

    async def actor(self, username: str) -> Actor:
        async with self.node.reads() as db:
            return (await require_user_actor(db, username))[1]

    async def actor_by_uri(self, uri: str) -> Actor | None:
        async with self.node.reads() as db:
            return await db.scalar(select(Actor).where(Actor.uri == uri))

    async def deliver_all(self) -> int:
        """Run delivery cycles until nothing is due: deterministic, no sleeping."""
        total = 0
        while (count := await run_once(self.node)) > 0:
            total += count
        return total


class NodeFactory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.nodes: list[RunningNode] = []
        self.databases: list[str] = []

    async def start(
        self,
        name: str,
        *,
        users: Iterable[str] = ("alice",),
        workers: bool = True,
        port: int = 0,
        **overrides: Any,
    ) -> RunningNode:
        sock = bind_loopback(port)
        port = sock.getsockname()[1]
        database_url = None
        template = await migrated_template()
        if POSTGRES_ADMIN_URL:
            database_url = await create_test_database(template=template)
            self.databases.append(database_url)
        settings = make_settings(self.root / name, port, database_url, **overrides)
        database_file = settings.data_dir / "cercle.db"
        if database_url is None and not database_file.exists():
            shutil.copyfile(template, database_file)
        node = open_node(settings)
        users = tuple(users)
        try:
            await initialise(node, admin="admin", password=PASSWORD, org_name=f"Org {name}")
            async with transaction(node) as db:
                for user in users:
                    if await db.scalar(select(Actor.id).where(Actor.username == user)) is None:
                        await create_user(node, db, username=user, password=PASSWORD)
        finally:
            await node.close()
        running = RunningNode(name=name, settings=settings, port=port, users=users, workers=workers)
        await self._serve(running, sock)
        self.nodes.append(running)
        return running

    async def _serve(self, running: RunningNode, sock: socket.socket) -> None:
        app = create_app(running.settings, workers=running.workers)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        running.runner = runner

    async def stop(self, running: RunningNode) -> None:
        if running.runner is not None:
            await running.runner.cleanup()
            running.runner = None

    async def restart(self, running: RunningNode) -> None:
        await self.stop(running)
        await self._serve(running, bind_loopback(running.port))

    async def stop_all(self) -> None:
        for running in self.nodes:
            await self.stop(running)
        for url in self.databases:
            await _background_drops.submit(url)


async def wait_for(
    probe: Callable[[], Awaitable[T]], *, timeout: float = 10.0, interval: float = 0.05
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
