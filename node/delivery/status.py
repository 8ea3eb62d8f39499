"""What the admin's delivery page shows, and its "retry now" button.

Read-only figures over the durable queue (``node/delivery/queue.py``): how many rows are
waiting, which domains are failing and why. Retrying a domain makes its pending rows due
now and closes its circuit breaker, then wakes the workers: an admin who has just heard
that a partner's server is back should not wait for the next backoff step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.context import Node, transaction
from node.db.models import Delivery, DomainState
from node.db.models.delivery import DEAD, IN_FLIGHT, PENDING
from node.db.types import utcnow
from node.delivery.queue import retry_now
from node.errors import Invalid

#: How many failing domains the page lists, worst first.
MAX_DOMAINS = 100


@dataclass(frozen=True)
class FailingDomain:
    domain: str
    pending: int
    #: consecutive failures counted by the circuit breaker
    failures: int
    #: deliveries to it are paused until then (breaker open), or None
    paused_until: datetime | None
    last_error: str | None
    last_status: int | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class QueueStatus:
    pending: int
    in_flight: int
    dead: int
    failing: list[FailingDomain]


async def _count(db: AsyncSession, state: str) -> int:
    return int(
        await db.scalar(select(func.count()).select_from(Delivery).where(Delivery.state == state))
        or 0
    )


async def queue_status(node: Node) -> QueueStatus:
    """The queue's figures. A domain is failing when its breaker counts failures or when a
    pending row to it has already failed once (``attempts > 0``)."""
    now = utcnow()
    async with node.reads() as db:
        pending = await _count(db, PENDING)
        in_flight = await _count(db, IN_FLIGHT)
        dead = await _count(db, DEAD)
        retried = (
            select(
                Delivery.domain,
                func.count().label("pending"),
                func.min(Delivery.next_attempt_at).label("next_attempt_at"),
                func.max(Delivery.id).label("latest"),
            )
            .where(Delivery.state == PENDING, Delivery.attempts > 0)
            .group_by(Delivery.domain)
        )
        by_domain = {row.domain: row for row in (await db.execute(retried)).all()}
        breakers = {
            s.domain: s
            for s in await db.scalars(
                select(DomainState).where(
                    DomainState.blocked.is_(False),
                    or_(DomainState.failures > 0, DomainState.open_until > now),
                )
            )
        }
        latest_ids = [row.latest for row in by_domain.values()]
        errors = {
            d.domain: d
            for d in await db.scalars(select(Delivery).where(Delivery.id.in_(latest_ids)))
        }
        all_pending = dict(
            (
                await db.execute(
                    select(Delivery.domain, func.count())
                    .where(Delivery.state == PENDING, Delivery.domain.in_(list(breakers)))
                    .group_by(Delivery.domain)
                )
            ).all()
        )
    failing = []
    for domain in set(by_domain) | set(breakers):
        row, breaker, latest = by_domain.get(domain), breakers.get(domain), errors.get(domain)
        failing.append(
            FailingDomain(
                domain=domain,
                pending=max(row.pending if row else 0, int(all_pending.get(domain, 0))),
                failures=breaker.failures if breaker else 0,
                paused_until=(
                    breaker.open_until
                    if breaker and breaker.open_until and breaker.open_until > now
                    else None
                ),
                last_error=latest.last_error if latest else None,
                last_status=latest.last_status if latest else None,
                next_attempt_at=row.next_attempt_at if row else None,
            )
        )
    failing.sort(key=lambda f: (-f.failures, -f.pending, f.domain))
    return QueueStatus(pending, in_flight, dead, failing[:MAX_DOMAINS])


async def retry_domain_now(node: Node, domain: str) -> int:
    """Make ``domain``'s pending deliveries due now and close its breaker; returns how
    many rows were made due. A blocked domain stays blocked: retrying is not unblocking."""
    name = domain.strip().lower()
    if not name or "/" in name or " " in name:
        raise Invalid(f"invalid domain {domain!r}")
    async with transaction(node) as db:
        state = await db.get(DomainState, name)
        if state is not None and state.blocked:
            raise Invalid(f"{name} is blocked: unblock it before retrying")
        if state is not None:
            state.failures = 0
            state.open_until = None
            state.updated_at = utcnow()
        count = await retry_now(db, name)
    node.delivery_wakeup.set()
    return count
