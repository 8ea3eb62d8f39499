"""Deliveries left in flight by a process of this machine that was killed (SIGKILL, OOM,
power cut): handed back to the queue when ``cercle serve`` starts again.

Without this a killed node's claimed rows wait for their lease to run out (five minutes,
node/delivery/queue.py) before anyone sends them: nothing is lost, but a restarted node
sits on them. A holder is ``host:pid`` (``worker_identity``); a holder on this host whose
process no longer exists cannot finish its rows, so they are released at once. A pid reused
by an unrelated process merely leaves its rows to the lease, as before. Rows of a live
worker in another pid namespace under the same host name would be sent twice at worst —
receivers tell replays apart by activity id — never lost.
"""

from __future__ import annotations

import os
import socket

from sqlalchemy import select

from node.context import Node, transaction
from node.db.models import Delivery
from node.db.models.delivery import IN_FLIGHT
from node.delivery.queue import release


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def dead_local_holder(holder: str, host: str) -> bool:
    """Whether ``holder`` names a process of ``host`` that is gone (pure but for the probe)."""
    name, _, pid = holder.rpartition(":")
    if name != host or not pid.isdigit() or int(pid) == os.getpid():
        return False
    return not _process_exists(int(pid))


async def release_orphans(node: Node) -> int:
    """Release every in-flight row held by a dead process of this host; returns the count."""
    host = socket.gethostname()
    released = 0
    async with transaction(node) as db:
        rows = (
            await db.execute(
                select(Delivery.id, Delivery.claimed_by).where(
                    Delivery.state == IN_FLIGHT, Delivery.claimed_by.like(f"{host}:%")
                )
            )
        ).all()
        by_holder: dict[str, list[int]] = {}
        for delivery_id, holder in rows:
            by_holder.setdefault(holder, []).append(delivery_id)
        for holder, ids in by_holder.items():
            if dead_local_holder(holder, host):
                released += await release(db, ids, holder=holder)
    return released
