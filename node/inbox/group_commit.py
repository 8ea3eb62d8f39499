"""Group commit for the inbox: activities verified concurrently are applied in shared
write transactions.

SQLite has a single writer and a commit costs more than applying a typical activity, so
committing each inbox POST alone caps throughput at the commit rate. Here a single
applier takes whatever has queued up while the previous transaction ran (up to
``MAX_BATCH``), after letting the requests still on their way join when the queue holds
fewer than the previous batch (``GroupCommitter._gather``), and commits once. Every
request still gets its 202 only after its transaction committed: nothing is
acknowledged that could be lost.

A batch is cut, in arrival order, into runs:

* consecutive activities a handler can apply together (plain Create(Note)s: see
  ``handles(..., apply_many=...)``) are recorded as received with one statement — the
  ``received_activities`` primary key tells replays apart — and applied in one go;
* every other activity is applied alone in its own SAVEPOINT, so one bad activity rolls
  back only itself.

The common case under load, a batch that is a single run of Creates, goes through a
transaction of its own without session or savepoint (node/batch_io.py): on SQLite its
statements are sent in three hand-offs to the driver's thread; on PostgreSQL straight to
a pooled asyncpg connection, each text prepared once per connection. Should a run
applied together fail, it is rolled back and applied again one activity at a time, each
in its own SAVEPOINT: the others of its batch are unaffected. Live events queued by what
was rolled back are dropped with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from federation.vocab import Activity
from node.batch_io import (
    BatchIO,
    Insert,
    Query,
    batch_io,
    is_aiosqlite,
    is_asyncpg,
    pg_transaction,
    sqlite_transaction,
)
from node.context import Node, transaction
from node.db.models import Actor, ReceivedActivity
from node.db.types import utcnow
from node.events import EVENTS_KEY, take_events
from node.inbox.process import forget_changed_actor
from node.inbox.registry import Handler, InboxContext, InboxRefusal

log = logging.getLogger(__name__)

MAX_BATCH = 128
#: While a batch fills up (``GroupCommitter._gather``): two steps in a row that bring
#: no new activity end the wait, and the wait never lasts longer than the maximum.
GATHER_STEP_SECONDS = 0.0003
GATHER_QUIET_STEPS = 2
GATHER_MAX_SECONDS = 0.005

Outcome = str | BaseException
Result = tuple[Outcome, InboxContext | None]


@dataclass(slots=True)
class _Pending:
    activity: Activity
    actor: Actor
    handler: Handler
    prepared: object
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    #: the personal inbox it came to, and the key it is remembered by (node/inbox/receipts.py)
    recipient: str | None = None
    receipt: str = ""

    def __post_init__(self) -> None:
        if not self.receipt:
            self.receipt = self.activity.id

    @property
    def bulk(self) -> bool:
        return self.handler.apply_many is not None and self.handler.can_batch(
            self.activity, self.actor, self.prepared
        )


class GroupCommitter:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.pending: deque[_Pending] = deque()
        self.task: asyncio.Task[None] | None = None
        #: set by ``submit`` when the applier waits for work
        self._wakeup: asyncio.Future[None] | None = None
        self._stopping = False
        #: collects the live events of a batch applied directly (never bound, never
        #: holding rows: one is enough for the committer's life)
        self._events = AsyncSession()
        engine = node.engine
        #: how a batch gets a transaction of its own without a session, if the driver has one
        self._direct: Callable[[AsyncEngine], AbstractAsyncContextManager[BatchIO]] | None = (
            sqlite_transaction
            if is_aiosqlite(engine)
            else pg_transaction
            if is_asyncpg(engine)
            else None
        )

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="inbox-group-commit")

    async def stop(self) -> None:
        """Apply what is queued, then stop."""
        if self.task is None:
            return
        self._stopping = True
        self._wake()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None

    async def submit(
        self,
        activity: Activity,
        actor: Actor,
        handler: Handler,
        prepared: object,
        *,
        recipient: str | None = None,
        receipt: str | None = None,
    ) -> str:
        done = asyncio.get_running_loop().create_future()
        item = _Pending(activity, actor, handler, prepared, done, recipient, receipt or activity.id)
        self.pending.append(item)
        self._wake()
        return await item.done

    def _wake(self) -> None:
        waiter = self._wakeup
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _run(self) -> None:
        previous = 1
        while True:
            if not self.pending:
                if self._stopping:
                    return
                self._wakeup = asyncio.get_running_loop().create_future()
                await self._wakeup
                self._wakeup = None
                continue
            if not self._stopping:
                await self._gather(min(previous, MAX_BATCH))
            pending = self.pending
            batch = [pending.popleft() for _ in range(min(len(pending), MAX_BATCH))]
            previous = len(batch)
            try:
                await self._apply(batch)
            except Exception as exc:  # the commit itself failed: every item fails
                log.exception("inbox batch of %d failed", len(batch))
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)

    async def _gather(self, expected: int) -> None:
        """Let the batch fill up with the requests that are on their way.

        Every request of the previous batch has just been answered, and a busy peer sends
        its next one at once; taking only what is queued at this instant would commit
        those stragglers first, in a transaction nearly as costly as a full one, and the
        rest right after (batches then alternate between 1 and 63 under 64 concurrent
        requests). So while fewer activities are queued than the previous batch held,
        the loop keeps serving requests, until short steps bring none (the previous
        batch's peers have all sent theirs, or have nothing more) or ``GATHER_MAX_SECONDS``
        has passed. Two quiet steps, not one: a process that lost its core for a moment
        finds the requests that arrived meanwhile only read, not yet submitted. A lone
        request (previous batch of one) never waits.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATHER_MAX_SECONDS
        quiet = 0
        while len(self.pending) < expected and quiet < GATHER_QUIET_STEPS:
            if loop.time() >= deadline:
                return
            before = len(self.pending)
            await asyncio.sleep(GATHER_STEP_SECONDS)
            quiet = quiet + 1 if len(self.pending) == before else 0

    async def _apply(self, batch: list[_Pending]) -> None:
        runs = list(_runs(batch))
        results = None
        if len(runs) == 1 and runs[0][1] and self._direct is not None:
            results = await self._apply_direct(batch)
        if results is None:
            results = await self._apply_in_session(runs)
        # Committed: only now may the requests hear 202 and the workers wake up.
        queued = False
        for item, (outcome, ctx) in zip(batch, results, strict=True):
            if ctx is not None:
                queued = queued or ctx.queued
                forget_changed_actor(self.node, item.activity, item.actor)
            if item.done.done():  # its request went away (cancelled): nobody to tell
                continue
            if isinstance(outcome, BaseException):
                item.done.set_exception(outcome)
            else:
                item.done.set_result(outcome)
        if queued:
            self.node.delivery_wakeup.set()

    async def _apply_in_session(self, runs: list[tuple[list[_Pending], bool]]) -> list[Result]:
        results: list[Result] = []
        async with transaction(self.node) as db:
            for run, bulk in runs:
                if bulk:
                    results += await self._apply_together(db, run)
                else:
                    results += [await self._apply_one(db, item) for item in run]
        return results

    async def _apply_direct(self, batch: list[_Pending]) -> list[Result] | None:
        """The common case — a batch that is one run of activities applied together — in
        a transaction of its own with no session and no savepoint (node/batch_io.py: on
        SQLite three hand-offs to the driver's thread in all). None if it failed: it was
        rolled back, and the caller applies the batch the general way."""
        # Unbound, it only collects the queued live events: every statement goes through
        # ``io`` (one through this session would fail at once, not wait for the writer
        # connection this transaction holds).
        events = self._events
        assert self._direct is not None
        try:
            async with self._direct(self.node.engine) as io:
                results = await self._together(events, io, batch)
        except Exception:
            take_events(events)  # rolled back with their rows
            log.warning("inbox: batch of %d failed, applying it again", len(batch), exc_info=True)
            return None
        self.node.events.publish_all(take_events(events))
        return results

    async def _apply_one(self, db: AsyncSession, item: _Pending) -> Result:
        mark = _event_mark(db)
        try:
            async with db.begin_nested():
                db.add(
                    ReceivedActivity(
                        uri=item.receipt, type=item.activity.type, actor_uri=item.actor.uri
                    )
                )
                await db.flush()
                ctx = _context(self.node, db, item)
                await item.handler.apply(ctx)
        except IntegrityError as exc:
            _drop_events(db, mark)
            if await db.get(ReceivedActivity, item.receipt) is not None:
                return "duplicate", None
            return exc, None
        except (InboxRefusal, Exception) as exc:
            _drop_events(db, mark)
            return exc, None
        return _finished(ctx), ctx

    async def _apply_together(self, db: AsyncSession, run: list[_Pending]) -> list[Result]:
        """A run of activities one handler applies together, in a savepoint; one by one
        if that fails."""
        mark = _event_mark(db)
        try:
            async with db.begin_nested():
                io = batch_io(db)
                results = await self._together(db, io, run)
                await io.flush()
        except Exception:
            log.warning("inbox: applying %d activities together failed", len(run), exc_info=True)
            _drop_events(db, mark)
            return [await self._apply_one(db, item) for item in run]
        return results

    async def _together(self, db: AsyncSession, io: BatchIO, run: list[_Pending]) -> list[Result]:
        apply_many = run[0].handler.apply_many
        assert apply_many is not None
        fresh = await _record_received(io, run)
        contexts = {i: _context(self.node, db, run[i]) for i in fresh}
        if contexts:
            await apply_many(list(contexts.values()), io)
        return [
            ("duplicate", None) if (ctx := contexts.get(i)) is None else (_finished(ctx), ctx)
            for i in range(len(run))
        ]


def _runs(batch: list[_Pending]) -> Iterator[tuple[list[_Pending], bool]]:
    """The batch in arrival order, cut into runs of activities one handler applies
    together (``True``) and of activities applied alone (``False``)."""
    run: list[_Pending] = []
    run_bulk = False
    for item in batch:
        bulk = item.bulk
        if run and (bulk != run_bulk or (bulk and item.handler is not run[0].handler)):
            yield run, run_bulk
            run = []
        run.append(item)
        run_bulk = bulk
    if run:
        yield run, run_bulk


async def _record_received(io: BatchIO, run: list[_Pending]) -> list[int]:
    """The indexes of the run's activities not received before (nor earlier in the run);
    their ``received_activities`` rows are deferred onto ``io``'s next write."""
    ids = list(dict.fromkeys(item.activity.id for item in run))
    (rows,) = await io.fetch(
        [Query("SELECT uri FROM received_activities WHERE uri IN :ids", {"ids": ids})]
    )
    seen = {uri for (uri,) in rows}
    fresh: list[int] = []
    for i, item in enumerate(run):
        if item.activity.id not in seen:
            seen.add(item.activity.id)
            fresh.append(i)
    now = utcnow()
    io.write(
        [
            Insert(
                ReceivedActivity.__table__,
                [
                    {
                        "uri": run[i].activity.id,
                        "type": run[i].activity.type,
                        "actor_uri": run[i].actor.uri,
                        "received_at": now,
                    }
                    for i in fresh
                ],
            )
        ]
    )
    return fresh


def _context(node: Node, db: AsyncSession, item: _Pending) -> InboxContext:
    return InboxContext(
        node=node,
        db=db,
        activity=item.activity,
        actor=item.actor,
        prepared=item.prepared,
        recipient=item.recipient,
    )


def _finished(ctx: InboxContext) -> str:
    if ctx.notes:
        log.info("inbox %s %s: %s", ctx.activity.type, ctx.activity.id, "; ".join(ctx.notes))
        return "ignored"
    return "applied"


def _event_mark(db: AsyncSession) -> int:
    return len(db.info.get(EVENTS_KEY, ()))


def _drop_events(db: AsyncSession, mark: int) -> None:
    """Forget the live events queued since ``mark``: their rows were rolled back."""
    events = db.info.get(EVENTS_KEY)
    if events is not None:
        del events[mark:]
