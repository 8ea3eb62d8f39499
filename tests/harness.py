"""Running real Cercle nodes inside the test process, on real loopback sockets.

Each node has its own data directory and SQLite database, its own port, real keys and
real signed HTTP between nodes. Nothing of the node is mocked.
"""

from __future__ import annotations

import asyncio
import socket
import time
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
from node.settings import Settings

T = TypeVar("T")
PASSWORD = "correct horse battery"


def bind_loopback(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def make_settings(data_dir: Path, port: int, **overrides: Any) -> Settings:
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=data_dir,
        domain=f"127.0.0.1:{port}",
        database_url=f"sqlite+aiosqlite:///{data_dir / 'cercle.db'}",
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
        settings = make_settings(self.root / name, port, **overrides)
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
