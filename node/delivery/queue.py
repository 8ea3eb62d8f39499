"""The durable delivery queue: rows written in the caller's transaction, claimed by workers.

A post and its deliveries commit together (DESIGN.md section 5), so a crash can never
leave a stored post that nobody will deliver. One row per (activity, inbox): recipients
are grouped by shared inbox before rows are written.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import Actor, Delivery, DomainState
from node.db.models.delivery import DEAD, DONE, IN_FLIGHT, PENDING
from node.db.types import UTCDateTime, utcnow
from node.remote_actors import host_of

DELIVERIES = Delivery.__table__

#: How long a worker holds the rows it claimed; past it they are handed out again, so a
#: killed worker's rows are retried. Longer than any batch (16 at a time, 30 s timeouts).
DEFAULT_LEASE = timedelta(minutes=5)


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


def worker_identity() -> str:
    """Who holds a claimed row: host and process, so an operator can tell workers apart
    and a test can tell which rows a killed worker had in flight."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def claim_batch(
    db: AsyncSession,
    *,
    limit: int,
    postgres: bool,
    holder: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> list[Delivery]:
    """Take up to ``limit`` due rows for ``lease``; on PostgreSQL with SKIP LOCKED so
    workers never share a row; on SQLite the caller's single write transaction already
    serialises. A row whose lease ran out belongs to a worker that died: it is due again."""
    now = utcnow()
    query = (
        select(Delivery)
        .where(
            or_(
                (Delivery.state == PENDING) & (Delivery.next_attempt_at <= now),
                (Delivery.state == IN_FLIGHT)
                & or_(
                    Delivery.lease_until < now,
                    # rows claimed before leases existed (migration 0007)
                    Delivery.lease_until.is_(None) & (Delivery.claimed_at < now - DEFAULT_LEASE),
                ),
            )
        )
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    )
    if postgres:
        query = query.with_for_update(skip_locked=True)
    rows = list(await db.scalars(query))
    if rows:
        # One statement for the batch; the returned objects are only read from.
        await db.execute(
            update(DELIVERIES)
            .where(DELIVERIES.c.id.in_([row.id for row in rows]))
            .values(
                state=IN_FLIGHT,
                claimed_at=now,
                claimed_by=holder or worker_identity(),
                lease_until=now + lease,
            )
        )
    return rows


async def renew(
    db: AsyncSession, delivery_ids: Iterable[int], *, holder: str, lease: timedelta
) -> int:
    """Extend the lease on rows this worker still holds: a slow batch stays its own,
    while a dead worker, which renews nothing, loses its rows when the lease ends."""
    ids = list(delivery_ids)
    if not ids:
        return 0
    result = await db.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.state == IN_FLIGHT, Delivery.claimed_by == holder)
        .values(lease_until=utcnow() + lease)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release(db: AsyncSession, delivery_ids: Iterable[int], *, holder: str) -> int:
    """Hand rows back unattempted (a worker stopping before it sent them)."""
    ids = list(delivery_ids)
    if not ids:
        return 0
    result = await db.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.state == IN_FLIGHT, Delivery.claimed_by == holder)
        .values(state=PENDING, claimed_at=None, claimed_by=None, lease_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def finish(
    db: AsyncSession,
    delivery_id: int,
    *,
    state: str,
    status: int | None,
    error: str | None,
    next_attempt_at: datetime | None = None,
    holder: str | None = None,
) -> None:
    """Record an attempt's outcome; with ``holder``, only while that worker still holds
    the row (a worker whose lease ran out must not overwrite the next holder's result)."""
    values: dict[str, Any] = {
        "state": state,
        "last_status": status,
        "last_error": error,
        "claimed_at": None,
        "claimed_by": None,
        "lease_until": None,
        "attempts": Delivery.attempts + 1,
    }
    if state in (DONE, DEAD):
        values["finished_at"] = utcnow()
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    query = update(Delivery).where(Delivery.id == delivery_id)
    if holder is not None:
        query = query.where(Delivery.claimed_by == holder)
    await db.execute(query.values(**values))


@dataclass(frozen=True)
class Finished:
    """The outcome of one attempt, as :func:`finish_many` records it."""

    delivery_id: int
    state: str
    status: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None


def _finish_statement(guarded: bool) -> Update:
    table = DELIVERIES
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            state=bindparam("b_state"),
            last_status=bindparam("b_status"),
            last_error=bindparam("b_error"),
            claimed_at=None,
            claimed_by=None,
            lease_until=None,
            attempts=table.c.attempts + 1,
            finished_at=bindparam("b_finished", type_=UTCDateTime),
            next_attempt_at=func.coalesce(
                bindparam("b_next", type_=UTCDateTime), table.c.next_attempt_at
            ),
        )
    )
    if guarded:
        statement = statement.where(table.c.claimed_by == bindparam("b_holder"))
    return statement


_FINISH = {True: _finish_statement(True), False: _finish_statement(False)}


async def finish_many(
    db: AsyncSession, finished: Sequence[Finished], *, holder: str | None = None
) -> None:
    """Record a batch of outcomes in one executemany (the fan-out's hot path: one
    statement compiled once instead of one ORM update per row); with ``holder``, only
    rows that worker still holds, as :func:`finish` does."""
    if not finished:
        return
    now = utcnow()
    params = [
        {
            "b_id": f.delivery_id,
            "b_state": f.state,
            "b_status": f.status,
            "b_error": f.error,
            "b_finished": now if f.state in (DONE, DEAD) else None,
            "b_next": f.next_attempt_at,
            "b_holder": holder,
        }
        for f in finished
    ]
    await db.execute(_FINISH[holder is not None], params)


async def retry_now(db: AsyncSession, domain: str | None = None) -> int:
    """Operator action: make failing rows due immediately."""
    query = update(Delivery).where(Delivery.state == PENDING).values(next_attempt_at=utcnow())
    if domain:
        query = query.where(Delivery.domain == domain)
    result = await db.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
