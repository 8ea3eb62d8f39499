"""Delivery workers: claim due rows, sign and POST them, record the outcome.

Runs inside ``cercle serve`` by default and alone as ``cercle worker``. ``run_once`` is
the deterministic single cycle the tests drive.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from federation.breaker import BreakerState, is_open, record
from federation.retry import decide
from federation.transport import DeliveryOutcome, deliver
from node.context import Node, transaction
from node.db.models import Actor, Delivery, DomainState
from node.db.models.delivery import DEAD, DONE, PENDING
from node.db.types import utcnow
from node.delivery.queue import claim_batch, finish

log = logging.getLogger(__name__)

BATCH = 64
IDLE_POLL_SECONDS = 1.0


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


async def _breaker_states(node: Node, domains: set[str]) -> dict[str, DomainState]:
    async with node.reads() as db:
        rows = await db.scalars(select(DomainState).where(DomainState.domain.in_(domains)))
        return {r.domain: r for r in rows}


async def _deliver_one(node: Node, row: Delivery, sender: Actor) -> DeliveryOutcome:
    assert node.http is not None
    return await deliver(node.http, row.inbox, row.body, node.signer(sender))


async def run_once(node: Node, *, limit: int = BATCH, concurrency: int = 16) -> int:
    """Deliver one batch of due rows; returns how many were attempted."""
    async with transaction(node) as db:
        rows = await claim_batch(db, limit=limit, postgres=not node.settings.is_sqlite)
        sender_ids = {r.sender_id for r in rows}
        senders = {a.id: a for a in await db.scalars(select(Actor).where(Actor.id.in_(sender_ids)))}
    if not rows:
        return 0
    now = utcnow()
    states = await _breaker_states(node, {r.domain for r in rows})
    postponed: list[tuple[Delivery, datetime]] = []
    to_send: list[Delivery] = []
    for row in rows:
        state = states.get(row.domain)
        if state is not None and state.blocked:
            postponed.append((row, now))  # finished below as dead
        elif state is not None and is_open(_breaker(state), now.timestamp()):
            postponed.append((row, state.open_until or now))
        else:
            to_send.append(row)

    semaphore = asyncio.Semaphore(concurrency)

    async def attempt(row: Delivery) -> tuple[Delivery, DeliveryOutcome]:
        async with semaphore:
            return row, await _deliver_one(node, row, senders[row.sender_id])

    results = await asyncio.gather(*(attempt(r) for r in to_send))
    async with transaction(node) as db:
        for row, until in postponed:
            blocked = states.get(row.domain) is not None and states[row.domain].blocked
            if blocked:
                await finish(db, row.id, state=DEAD, status=None, error="domain blocked")
            else:
                await db.execute(
                    Delivery.__table__.update()
                    .where(Delivery.id == row.id)
                    .values(state=PENDING, claimed_at=None, next_attempt_at=until)
                )
        outcomes_by_domain: dict[str, list[bool]] = {}
        for row, outcome in results:
            age = (now - row.created_at).total_seconds()
            decision = decide(outcome, attempts=row.attempts + 1, age=age)
            ok = decision.action == "done"
            outcomes_by_domain.setdefault(row.domain, []).append(
                ok or (outcome.status is not None and outcome.status < 500)
            )
            if decision.action == "done":
                await finish(db, row.id, state=DONE, status=outcome.status, error=None)
            elif decision.action == "dead":
                await finish(db, row.id, state=DEAD, status=outcome.status, error=decision.reason)
            else:
                await finish(
                    db,
                    row.id,
                    state=PENDING,
                    status=outcome.status,
                    error=outcome.error or decision.reason,
                    next_attempt_at=now + timedelta(seconds=decision.delay or 0),
                )
        await _update_breakers(db, outcomes_by_domain, now)
    return len(rows)


def _breaker(state: DomainState) -> BreakerState:
    return BreakerState(failures=state.failures, open_until=_ts(state.open_until))


async def _update_breakers(db, outcomes: dict[str, list[bool]], now: datetime) -> None:  # type: ignore[no-untyped-def]
    """A domain that answers (even 4xx) is alive; only 5xx and network errors count."""
    for domain, results in outcomes.items():
        state = await db.get(DomainState, domain)
        if state is None:
            if all(results):
                continue
            state = DomainState(domain=domain, failures=0)
            db.add(state)
        current = _breaker(state)
        for ok in results:
            current = record(current, ok, now.timestamp())
        state.failures = current.failures
        state.open_until = (
            datetime.fromtimestamp(current.open_until, tz=UTC) if current.open_until else None
        )
        state.updated_at = now


async def run_forever(node: Node, *, stop: asyncio.Event) -> None:
    """Deliver until ``stop`` is set; finishes the batch in flight before returning."""
    while not stop.is_set():
        try:
            attempted = await run_once(node)
        except Exception:  # a worker must outlive one bad batch
            log.exception("delivery batch failed")
            attempted = 0
        if attempted:
            continue
        node.delivery_wakeup.clear()
        waiters = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(node.delivery_wakeup.wait()),
        ]
        _, pending = await asyncio.wait(
            waiters, timeout=IDLE_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
