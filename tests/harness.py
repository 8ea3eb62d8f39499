"""Running real Cercle nodes inside the test process, on real loopback sockets.

Each node has its own data directory and SQLite database, its own port, real keys and
real signed HTTP between nodes. Nothing of the node is mocked.
"""

from __future__ import annotations

import asyncio
import os
import socket
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


async def create_test_database() -> str:
    """A new empty PostgreSQL database for one node; returns its SQLAlchemy URL."""
    import asyncpg

    name = f"cercle_test_{uuid.uuid4().hex[:16]}"
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return normalise_database_url(f"{base}/{name}")


async def drop_test_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


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
        if POSTGRES_ADMIN_URL:
            database_url = await create_test_database()
            self.databases.append(database_url)
        settings = make_settings(self.root / name, port, database_url, **overrides)
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
            await drop_test_database(url)


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
