"""``cercle worker``: the queue workers of a node, in a process of their own.

Run beside ``cercle serve --no-workers``, any number of times, on any machine that
reaches the database (PostgreSQL: rows are claimed with ``FOR UPDATE SKIP LOCKED`` and a
lease, see node/delivery/queue.py). Each process runs the delivery loop and the poll
closer (whose cursor row is locked, so several closers never close a poll twice); the
CLI relays the live events it causes to the web processes (node/events_pg.py).

SIGTERM or SIGINT stops claiming new rows and lets the batch in flight finish (at most
``grace`` seconds); what is still unfinished then is handed back to the queue at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from node.context import Node
from node.delivery.queue import worker_identity
from node.delivery.worker import run_forever
from node.polls import run_poll_closer

log = logging.getLogger(__name__)


async def run_worker(
    node: Node,
    *,
    lease: timedelta,
    concurrency: int,
    grace: float = 30.0,
    announce: bool = True,
) -> None:
    """Until SIGTERM/SIGINT. ``announce`` prints ``worker <id> ready`` once claiming starts
    (scripts and tests wait for it instead of sleeping)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    holder = worker_identity()
    tasks = [
        asyncio.create_task(
            run_forever(node, stop=stop, holder=holder, lease=lease, concurrency=concurrency),
            name="delivery",
        ),
        asyncio.create_task(run_poll_closer(node, stop), name="poll-closer"),
    ]
    log.info("worker started", extra={"worker": holder, "lease_s": lease.total_seconds()})
    if announce:
        print(f"worker {holder} ready", flush=True)
    await stop.wait()
    log.info("worker stopping: finishing the deliveries in flight")
    node.delivery_wakeup.set()
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    log.info("worker stopped", extra={"worker": holder})
