"""The durable delivery queue: rows written in the caller's transaction, claimed by workers.

A post and its deliveries commit together (DESIGN.md section 5), so a crash can never
leave a stored post that nobody will deliver. One row per (activity, inbox): recipients
are grouped by shared inbox before rows are written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import Actor, Delivery, DomainState
from node.db.models.delivery import DEAD, DONE, IN_FLIGHT, PENDING
from node.db.types import utcnow
from node.remote_actors import host_of

#: A claim older than this belongs to a worker that died: the row is handed out again.
STALE_CLAIM = timedelta(minutes=5)


def inboxes_for(recipients: Iterable[Actor]) -> list[str]:
    """One inbox per remote server where it has a shared inbox, else per actor."""
    seen: dict[str, None] = {}
    for actor in recipients:
        if actor.local:
            continue
        inbox = actor.delivery_inbox
        if inbox:
            seen.setdefault(inbox, None)
    return list(seen)


async def blocked_domains(db: AsyncSession, domains: Iterable[str]) -> set[str]:
    wanted = set(domains)
    if not wanted:
        return set()
    rows = await db.scalars(
        select(DomainState.domain).where(DomainState.domain.in_(wanted), DomainState.blocked)
    )
    return set(rows)


async def enqueue(
    db: AsyncSession, *, sender: Actor, activity: dict[str, Any], inboxes: Iterable[str]
) -> int:
    """Queue ``activity`` for each inbox, skipping blocked domains; returns rows written."""
    targets = list(dict.fromkeys(inboxes))
    if not targets:
        return 0
    blocked = await blocked_domains(db, {host_of(i) for i in targets})
    body = json.dumps(activity, separators=(",", ":")).encode()
    now = utcnow()
    count = 0
    for inbox in targets:
        domain = host_of(inbox)
        if domain in blocked:
            continue
        db.add(
            Delivery(
                activity_uri=activity["id"],
                sender_id=sender.id,
                inbox=inbox,
                domain=domain,
                body=body,
                state=PENDING,
                next_attempt_at=now,
            )
        )
        count += 1
    return count


async def claim_batch(db: AsyncSession, *, limit: int, postgres: bool) -> list[Delivery]:
    """Take up to ``limit`` due rows; on PostgreSQL with SKIP LOCKED so workers never
    share a row; on SQLite the caller's single write transaction already serialises."""
    now = utcnow()
    stale = now - STALE_CLAIM
    query = (
        select(Delivery)
        .where(
            or_(
                (Delivery.state == PENDING) & (Delivery.next_attempt_at <= now),
                (Delivery.state == IN_FLIGHT) & (Delivery.claimed_at < stale),
            )
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True)
    rows = list(await db.scalars(query))
    for row in rows:
        row.state = IN_FLIGHT
        row.claimed_at = now
    return rows


async def finish(
    db: AsyncSession,
    delivery_id: int,
    *,
    state: str,
    status: int | None,
    error: str | None,
    next_attempt_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "state": state,
        "last_status": status,
        "last_error": error,
        "claimed_at": None,
        "attempts": Delivery.attempts + 1,
    }
    if state in (DONE, DEAD):
        values["finished_at"] = utcnow()
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    await db.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


async def retry_now(db: AsyncSession, domain: str | None = None) -> int:
    """Operator action: make failing rows due immediately."""
    query = update(Delivery).where(Delivery.state == PENDING).values(next_attempt_at=utcnow())
    if domain:
        query = query.where(Delivery.domain == domain)
    result = await db.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
