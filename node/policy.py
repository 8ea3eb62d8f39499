"""Federation policy: which peers we talk to (mode and domain blocks, DESIGN.md §4).

The inbox asks on every request, so a node keeps the answer in memory (``PolicyCache``)
instead of reading two tables per activity. The setters here mark their session, and
``node.context.transaction`` drops the node's cached policy once that session committed;
what another process changes is seen within ``PolicyCache.ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import DomainState, NodeSetting

if TYPE_CHECKING:
    from node.context import Node

MODES = ("open", "partners", "closed")
MODE_KEY = "federation_mode"
#: Set in a session's ``info`` by the setters: the node's cached policy is stale once
#: that session commits.
POLICY_CHANGED = "cercle_policy_changed"
#: How long a change made by another process may go unseen by this one.
POLICY_TTL_SECONDS = 3.0


async def federation_mode(db: AsyncSession, default: str = "open") -> str:
    value = await db.scalar(select(NodeSetting.value).where(NodeSetting.key == MODE_KEY))
    return value or default


async def is_domain_blocked(db: AsyncSession, domain: str) -> bool:
    return bool(
        await db.scalar(select(DomainState.blocked).where(DomainState.domain == domain.lower()))
    )


def _reason(blocked: bool, domain: str, mode: str) -> str | None:
    if blocked:
        return f"domain {domain} is blocked"
    if mode == "closed":
        return "this node does not federate"
    return None


async def refusal_reason(db: AsyncSession, domain: str, *, default_mode: str) -> str | None:
    """Why activities from ``domain`` are refused, or None when they are welcome."""
    if await is_domain_blocked(db, domain):
        return _reason(True, domain, default_mode)
    return _reason(False, domain, await federation_mode(db, default_mode))


async def set_domain_block(db: AsyncSession, domain: str, blocked: bool) -> None:
    row = await db.get(DomainState, domain.lower())
    if row is None:
        row = DomainState(domain=domain.lower(), failures=0)
        db.add(row)
    row.blocked = blocked
    db.info[POLICY_CHANGED] = True


async def set_federation_mode(db: AsyncSession, mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown federation mode {mode!r}")
    row = await db.get(NodeSetting, MODE_KEY)
    if row is None:
        db.add(NodeSetting(key=MODE_KEY, value=mode))
    else:
        row.value = mode
    db.info[POLICY_CHANGED] = True


@dataclass(frozen=True, slots=True)
class _Snapshot:
    blocked: frozenset[str]
    mode: str
    expires_at: float


class PolicyCache:
    """The blocked domains and the federation mode, read at most every ``ttl`` seconds.

    The whole blocked set is held (a block list of a few thousand domains is a few
    hundred kilobytes), so an unblocked domain — the common case — costs no query either.
    """

    def __init__(self, *, ttl: float = POLICY_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._snapshot: _Snapshot | None = None
        self._lock = asyncio.Lock()
        #: bumped by ``invalidate``: a read that began before a change is not kept
        self._generation = 0

    def invalidate(self) -> None:
        self._snapshot = None
        self._generation += 1

    async def refusal_reason(self, node: Node, domain: str) -> str | None:
        """Like :func:`refusal_reason`, from memory when the snapshot is fresh."""
        snapshot = self._snapshot
        if snapshot is None or snapshot.expires_at < time.monotonic():
            snapshot = await self._reload(node)
        return _reason(domain.lower() in snapshot.blocked, domain, snapshot.mode)

    async def _reload(self, node: Node) -> _Snapshot:
        # One reader at a time: requests arriving while it reads wait for its answer.
        async with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.expires_at >= time.monotonic():
                return snapshot
            generation = self._generation
            async with node.reads() as db:
                blocked = await db.scalars(select(DomainState.domain).where(DomainState.blocked))
                mode = await federation_mode(db, node.settings.federation_mode)
                snapshot = _Snapshot(frozenset(blocked), mode, time.monotonic() + self.ttl)
            if generation == self._generation:
                self._snapshot = snapshot
            return snapshot
