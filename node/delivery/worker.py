"""Delivery workers: claim due rows, sign and POST them, record the outcome.

Runs inside ``cercle serve`` by default and alone as ``cercle worker``. ``run_once`` is
the deterministic single cycle the tests drive.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from node.delivery.queue import (
    DEFAULT_LEASE,
    Finished,
    claim_batch,
    finish,
    finish_many,
    release,
    renew,
    worker_identity,
)
from node.gc_tuning import tune_for_serving

log = logging.getLogger(__name__)

#: Rows claimed per cycle. A cycle costs about ten database round trips and ends with a
#: tail in which fewer than ``concurrency`` requests are in flight; at 64 rows both cost
#: ≈ 0.3 CPU-ms per delivery of a fan-out (bench/fanout.py), at 256 nearly nothing. The
#: lease is renewed while a batch is sent, so a long batch never loses its rows.
BATCH = 256
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


async def run_once(
    node: Node,
    *,
    limit: int = BATCH,
    concurrency: int = 16,
    holder: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> int:
    """Deliver one batch of due rows; returns how many were attempted.

    Cancelled while sending (a shutdown that ran out of patience), it hands the rows it
    had not finished back to the queue at once instead of leaving them to their lease."""
    holder = holder or worker_identity()
    async with transaction(node) as db:
        rows = await claim_batch(
            db, limit=limit, postgres=not node.settings.is_sqlite, holder=holder, lease=lease
        )
        sender_ids = {r.sender_id for r in rows}
        senders = {a.id: a for a in await db.scalars(select(Actor).where(Actor.id.in_(sender_ids)))}
    if not rows:
        return 0
    now = utcnow()
    states = await _breaker_states(node, {r.domain for r in rows})
    postponed: list[tuple[Delivery, datetime]] = []
    to_send: list[Delivery] = []
    refused: list[Delivery] = []
    for row in rows:
        state = states.get(row.domain)
        # Partners mode: our Organization actor's partnership handshake goes anywhere
        # not blocked; everything else only to the domains we talk to (node/policy.py).
        sender = senders.get(row.sender_id)
        handshake = sender is not None and sender.type == "Organization"
        if not await node.policy.delivery_allowed(node, row.domain, handshake=handshake):
            refused.append(row)
        elif state is not None and state.blocked:
            postponed.append((row, now))  # finished below as dead
        elif state is not None and is_open(_breaker(state), now.timestamp()):
            postponed.append((row, state.open_until or now))
        else:
            to_send.append(row)

    semaphore = asyncio.Semaphore(concurrency)

    async def attempt(row: Delivery) -> tuple[Delivery, DeliveryOutcome]:
        async with semaphore:
            return row, await _deliver_one(node, row, senders[row.sender_id])

    renewer = asyncio.create_task(_keep_lease(node, [r.id for r in rows], holder, lease))
    try:
        results = await asyncio.gather(*(attempt(r) for r in to_send))
    except BaseException:  # cancelled, or a bug: the rows must not wait out their lease
        async with transaction(node) as db:
            await release(db, (r.id for r in rows), holder=holder)
        raise
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
    async with transaction(node) as db:
        for row in refused:
            await finish(
                db,
                row.id,
                state=DEAD,
                status=None,
                error="refused by the federation policy",
                holder=holder,
            )
        for row, until in postponed:
            blocked = states.get(row.domain) is not None and states[row.domain].blocked
            if blocked:
                await finish(
                    db, row.id, state=DEAD, status=None, error="domain blocked", holder=holder
                )
            else:
                await db.execute(
                    Delivery.__table__.update()
                    .where(Delivery.id == row.id)
                    .values(
                        state=PENDING,
                        claimed_at=None,
                        claimed_by=None,
                        lease_until=None,
                        next_attempt_at=until,
                    )
                )
        outcomes_by_domain: dict[str, list[bool]] = {}
        finished: list[Finished] = []
        for row, outcome in results:
            age = (now - row.created_at).total_seconds()
            decision = decide(outcome, attempts=row.attempts + 1, age=age)
            ok = decision.action == "done"
            outcomes_by_domain.setdefault(row.domain, []).append(
                ok or (outcome.status is not None and outcome.status < 500)
            )
            if decision.action == "done":
                finished.append(Finished(row.id, DONE, outcome.status))
            elif decision.action == "dead":
                finished.append(Finished(row.id, DEAD, outcome.status, decision.reason))
            else:
                finished.append(
                    Finished(
                        row.id,
                        PENDING,
                        outcome.status,
                        outcome.error or decision.reason,
                        next_attempt_at=now + timedelta(seconds=decision.delay or 0),
                    )
                )
        await finish_many(db, finished, holder=holder)
        await _update_breakers(db, outcomes_by_domain, now, states)
    return len(rows)


async def _keep_lease(node: Node, ids: list[int], holder: str, lease: timedelta) -> None:
    """Renew the batch's lease every third of it while the batch is being sent."""
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        try:
            async with transaction(node) as db:
                await renew(db, ids, holder=holder, lease=lease)
        except Exception:  # the next renewal may succeed; the lease covers the gap
            log.exception("renewing the delivery lease failed")


def _breaker(state: DomainState) -> BreakerState:
    return BreakerState(failures=state.failures, open_until=_ts(state.open_until))


def _healthy(state: DomainState | None) -> bool:
    return state is None or (state.failures == 0 and state.open_until is None)


async def _update_breakers(  # type: ignore[no-untyped-def]
    db, outcomes: dict[str, list[bool]], now: datetime, known: dict[str, DomainState]
) -> None:
    """A domain that answers (even 4xx) is alive; only 5xx and network errors count.

    A domain that was healthy before the batch and answered every request needs no
    write: the common case of a fan-out costs no breaker query at all."""
    for domain, results in outcomes.items():
        if all(results) and _healthy(known.get(domain)):
            continue
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


async def run_forever(
    node: Node,
    *,
    stop: asyncio.Event,
    holder: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    concurrency: int = 16,
) -> None:
    """Deliver until ``stop`` is set; finishes the batch in flight before returning.

    Tunes the garbage collector first (idempotent; ``cercle serve`` already did): in a
    ``cercle worker`` process nothing else would, and a fan-out allocates per delivery
    like a request does, so untuned collections cost ≈ 0.1 CPU-ms per delivery."""
    tune_for_serving()
    holder = holder or worker_identity()
    while not stop.is_set():
        try:
            attempted = await run_once(node, holder=holder, lease=lease, concurrency=concurrency)
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
