"""Group commit for the inbox: activities verified concurrently are applied in shared
write transactions, one savepoint each.

SQLite has a single writer and a commit costs more than applying a typical activity, so
committing each inbox POST alone caps throughput at the commit rate. Here a single
applier takes whatever has queued up while the previous transaction ran (up to
``MAX_BATCH``), applies each in its own SAVEPOINT — so one bad activity rolls back only
itself — and commits once. Every request still gets its 202 only after its transaction
committed: nothing is acknowledged that could be lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from federation.vocab import Activity
from node.context import Node, transaction
from node.db.models import Actor, ReceivedActivity
from node.inbox.registry import Handler, InboxContext, InboxRefusal

log = logging.getLogger(__name__)

MAX_BATCH = 128


@dataclass
class _Pending:
    activity: Activity
    actor: Actor
    handler: Handler
    prepared: object
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommitter:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name="inbox-group-commit")

    async def stop(self) -> None:
        """Apply what is queued, then stop."""
        if self.task is None:
            return
        await self.queue.join()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None

    async def submit(
        self, activity: Activity, actor: Actor, handler: Handler, prepared: object
    ) -> str:
        item = _Pending(activity=activity, actor=actor, handler=handler, prepared=prepared)
        await self.queue.put(item)
        return await item.done

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while len(batch) < MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            try:
                await self._apply(batch)
            except Exception as exc:  # the commit itself failed: every item fails
                log.exception("inbox batch of %d failed", len(batch))
                for item in batch:
                    if not item.done.done():
                        item.done.set_exception(exc)
            finally:
                for _ in batch:
                    self.queue.task_done()

    async def _apply(self, batch: list[_Pending]) -> None:
        outcomes: list[tuple[_Pending, str | BaseException]] = []
        queued = False
        async with transaction(self.node) as db:
            for item in batch:
                try:
                    async with db.begin_nested():
                        db.add(
                            ReceivedActivity(
                                uri=item.activity.id,
                                type=item.activity.type,
                                actor_uri=item.actor.uri,
                            )
                        )
                        await db.flush()
                        ctx = InboxContext(
                            node=self.node,
                            db=db,
                            activity=item.activity,
                            actor=item.actor,
                            prepared=item.prepared,
                        )
                        await item.handler.apply(ctx)
                except IntegrityError as exc:
                    if await db.get(ReceivedActivity, item.activity.id) is not None:
                        outcomes.append((item, "duplicate"))
                    else:
                        outcomes.append((item, exc))
                    continue
                except (InboxRefusal, Exception) as exc:
                    outcomes.append((item, exc))
                    continue
                queued = queued or ctx.queued
                if ctx.notes:
                    log.info(
                        "inbox %s %s: %s",
                        item.activity.type,
                        item.activity.id,
                        "; ".join(ctx.notes),
                    )
                outcomes.append((item, "ignored" if ctx.notes else "applied"))
        if queued:
            self.node.delivery_wakeup.set()
        for item, outcome in outcomes:
            if isinstance(outcome, BaseException):
                item.done.set_exception(outcome)
            else:
                item.done.set_result(outcome)
