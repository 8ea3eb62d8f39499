"""Federation policy: which peers we talk to (mode and domain blocks, DESIGN.md §4).

In ``partners`` mode the node talks only to the domains it has a partnership with (or is
forming one with: the handshake itself must get through) and to domains the admin
allowed; from any other domain only a Follow of our Organization actor is taken (a firm
asking to become a partner, held for the admin). The same rule decides inbox POSTs
(``refusal_reason``), authorised fetches (``fetch_allowed``) and deliveries
(``delivery_allowed``).

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

from node.db.models import AccountModeration, DomainState, NodeSetting, Partnership
from node.db.models.partners import ACTIVE, PROPOSED, REQUESTED
from node.identity.audit import record_audit

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


#: Partnership states in which the two firms' nodes are still shaking hands: only the
#: handshake's own activities (``HANDSHAKE_TYPES``) pass.
HANDSHAKE_STATES = (PROPOSED, REQUESTED)
HANDSHAKE_TYPES = frozenset({"Accept", "Reject", "Undo"})
PARTNERS_ONLY = "this node federates with its partner firms only"


@dataclass(frozen=True, slots=True)
class Incoming:
    """What the policy needs to know of an inbox POST besides its domain."""

    type: str
    object_id: str | None
    #: our Organization actor's id
    org_uri: str


def _reason(
    blocked: bool,
    domain: str,
    mode: str,
    allowed: bool,
    incoming: Incoming | None,
    *,
    handshaking: bool = False,
) -> str | None:
    if blocked:
        return f"domain {domain} is blocked"
    if mode == "closed":
        return "this node does not federate"
    if mode == "partners" and not allowed:
        if incoming is None:
            return PARTNERS_ONLY
        asks_partnership = incoming.type == "Follow" and incoming.object_id == incoming.org_uri
        if not asks_partnership and not (handshaking and incoming.type in HANDSHAKE_TYPES):
            return PARTNERS_ONLY
    return None


async def allowed_domains(db: AsyncSession) -> frozenset[str]:
    """Active partners and admin-allowed domains: who a partners-mode node talks to."""
    partners = await db.scalars(select(Partnership.domain).where(Partnership.state == ACTIVE))
    allowed = await db.scalars(select(DomainState.domain).where(DomainState.allowed))
    return frozenset(d.lower() for d in [*partners, *allowed])


async def handshaking_domains(db: AsyncSession) -> frozenset[str]:
    rows = await db.scalars(
        select(Partnership.domain).where(Partnership.state.in_(HANDSHAKE_STATES))
    )
    return frozenset(d.lower() for d in rows)


async def refusal_reason(
    db: AsyncSession, domain: str, *, default_mode: str, incoming: Incoming | None = None
) -> str | None:
    """Why activities from ``domain`` are refused, or None when they are welcome."""
    domain = domain.lower()
    mode = await federation_mode(db, default_mode)
    allowed = domain in await allowed_domains(db) if mode == "partners" else True
    handshaking = domain in await handshaking_domains(db)
    blocked = await is_domain_blocked(db, domain)
    return _reason(blocked, domain, mode, allowed, incoming, handshaking=handshaking)


async def set_domain_block(db: AsyncSession, domain: str, blocked: bool) -> None:
    row = await db.get(DomainState, domain.lower())
    if row is None:
        row = DomainState(domain=domain.lower(), failures=0)
        db.add(row)
    row.blocked = blocked
    db.info[POLICY_CHANGED] = True
    record_audit(db, "domain.blocked" if blocked else "domain.unblocked", target=domain.lower())


async def set_domain_allowed(db: AsyncSession, domain: str, allowed: bool) -> None:
    """Allow a domain that is not a partner in ``partners`` mode (a supplier's server, a
    public service the firm follows)."""
    row = await db.get(DomainState, domain.lower())
    if row is None:
        row = DomainState(domain=domain.lower(), failures=0, blocked=False)
        db.add(row)
    row.allowed = allowed
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
    record_audit(db, "federation.mode", target=mode)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    blocked: frozenset[str]
    mode: str
    #: in partners mode: the domains we talk to (``allowed_domains``), and those we are
    #: forming a partnership with (``handshaking_domains``)
    allowed: frozenset[str]
    handshaking: frozenset[str]
    #: actors an admin suspended (node/moderation): the inbox refuses them
    suspended: frozenset[int]
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

    async def refusal_reason(
        self, node: Node, domain: str, incoming: Incoming | None = None
    ) -> str | None:
        """Like :func:`refusal_reason`, from memory when the snapshot is fresh."""
        snapshot = await self._fresh(node)
        domain = domain.lower()
        allowed = snapshot.mode != "partners" or domain in snapshot.allowed
        return _reason(
            domain in snapshot.blocked,
            domain,
            snapshot.mode,
            allowed,
            incoming,
            handshaking=domain in snapshot.handshaking,
        )

    async def actor_suspended(self, node: Node, actor_id: int) -> bool:
        """Suspended by an admin here: everything it sends is refused (from memory, like
        the rest of the policy; the moderation actions mark their session changed)."""
        return actor_id in (await self._fresh(node)).suspended

    async def fetch_allowed(self, node: Node, domain: str | None) -> bool:
        """May a requester from ``domain`` (None: an unsigned request) read what this node
        serves over ActivityPub? In partners and closed mode only signed requests from
        the domains we talk to may; blocked domains never."""
        snapshot = await self._fresh(node)
        if domain is None:
            return snapshot.mode == "open"
        domain = domain.lower()
        if domain in snapshot.blocked or snapshot.mode == "closed":
            return False
        return snapshot.mode == "open" or domain in snapshot.allowed

    async def delivery_allowed(self, node: Node, domain: str, *, handshake: bool) -> bool:
        """May we deliver to ``domain``? ``handshake``: the activity is our Organization
        actor's Follow, Accept, Reject or Undo, which must reach a firm we are not (yet,
        or any more) partners with."""
        snapshot = await self._fresh(node)
        domain = domain.lower()
        if domain in snapshot.blocked or snapshot.mode == "closed":
            return False
        return snapshot.mode == "open" or handshake or domain in snapshot.allowed

    async def _fresh(self, node: Node) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is None or snapshot.expires_at < time.monotonic():
            snapshot = await self._reload(node)
        return snapshot

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
                partners_mode = mode == "partners"
                allowed = await allowed_domains(db) if partners_mode else frozenset()
                handshaking = await handshaking_domains(db) if partners_mode else frozenset()
                suspended = await db.scalars(
                    select(AccountModeration.actor_id).where(
                        AccountModeration.suspended_at.is_not(None)
                    )
                )
                snapshot = _Snapshot(
                    frozenset(blocked),
                    mode,
                    allowed,
                    handshaking,
                    frozenset(suspended),
                    time.monotonic() + self.ttl,
                )
            if generation == self._generation:
                self._snapshot = snapshot
            return snapshot
