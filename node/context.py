"""The running node's shared objects, built once by the app factory or the CLI.

Services receive this object instead of reaching for globals, so that two nodes can run
in one process (the federation tests do exactly that).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.fetch import Fetcher, Signer, make_client_session
from federation.signatures.keys import load_public_key_pem
from node.db.engine import make_engine, make_sessionmaker
from node.db.models import Actor
from node.events import EventBus, take_events
from node.inbox.rate_limit import InboxLimits
from node.key_owners import KeyOwnerCache
from node.keys import signer_for
from node.policy import POLICY_CHANGED, PolicyCache
from node.settings import SOFTWARE_NAME, SOFTWARE_VERSION, Settings
from node.urls import Urls

if TYPE_CHECKING:
    from node.inbox.group_commit import GroupCommitter


@dataclass
class Node:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    reads: async_sessionmaker[AsyncSession]
    urls: Urls
    http: aiohttp.ClientSession | None = None
    fetcher: Fetcher | None = None
    delivery_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    inbox_committer: GroupCommitter | None = None
    events: EventBus = field(default_factory=EventBus)
    #: in-memory answers the inbox needs per request (see node/key_owners.py, node/policy.py)
    key_owners: KeyOwnerCache = field(default_factory=KeyOwnerCache)
    policy: PolicyCache = field(default_factory=PolicyCache)
    #: inbox abuse limits, built from ``[inbox_limits]`` on first use (node/inbox/rate_limit.py)
    inbox_limits: InboxLimits | None = None
    _signers: dict[int, Signer] = field(default_factory=dict)
    _public_keys: dict[str, Any] = field(default_factory=dict)

    @property
    def user_agent(self) -> str:
        return f"{SOFTWARE_NAME}/{SOFTWARE_VERSION} (+{self.settings.base_url}/)"

    def signer(self, actor: Actor) -> Signer:
        """Parsed private keys are cached per node: PEM parsing costs more than signing."""
        cached = self._signers.get(actor.id)
        if cached is None:
            cached = self._signers[actor.id] = signer_for(actor)
        return cached

    def public_key(self, pem: str) -> Any:
        """Parsed peer keys, bounded: parsing a PEM costs as much as verifying with it."""
        key = self._public_keys.get(pem)
        if key is None:
            if len(self._public_keys) >= 10_000:
                self._public_keys.clear()
            key = self._public_keys[pem] = load_public_key_pem(pem)
        return key

    async def start_http(self, app_actor: Actor | None) -> None:
        """Open the outgoing HTTP client; key fetches are signed by the Application actor."""
        self.http = make_client_session(
            allow_loopback=self.settings.dev, user_agent=self.user_agent
        )
        self.fetcher = Fetcher(
            self.http,
            signer=self.signer(app_actor) if app_actor is not None else None,
            allow_loopback=self.settings.dev,
        )

    def require_fetcher(self) -> Fetcher:
        if self.fetcher is None:
            raise RuntimeError("the node's HTTP client is not started")
        return self.fetcher

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()
            self.http = None
            self.fetcher = None
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()

    @property
    def read_engine(self) -> AsyncEngine:
        return self.reads.kw["bind"]


def open_node(settings: Settings, **engine_kwargs: Any) -> Node:
    """Writes go through ``sessions``, pure reads through ``reads`` (the same engine on
    PostgreSQL; a separate pool beside the single writer on SQLite)."""
    engine = make_engine(settings.database_url, writer=True, **engine_kwargs)
    read_engine = make_engine(settings.database_url) if settings.is_sqlite else engine
    return Node(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        reads=make_sessionmaker(read_engine),
        urls=Urls(settings.base_url),
    )


@asynccontextmanager
async def transaction(node: Node) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed on success, rolled back on any exception; the live
    events it queued are published once it has committed, and the node's cached
    federation policy is dropped if it changed it."""
    async with node.sessions() as session:
        async with session.begin():
            yield session
        if session.info.pop(POLICY_CHANGED, False):
            node.policy.invalidate()
        node.events.publish_all(take_events(session))
