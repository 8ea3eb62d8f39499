"""Read markers: where an account stopped reading its home timeline and its notifications,
so that another of its apps (phone, web) can resume there.

Each save bumps ``version``; Mastodon answers 409 when two saves collide, which cannot
happen here because each save is one write transaction on one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.context import Node, transaction
from node.db.models import Marker
from node.db.types import utcnow
from node.errors import Invalid

TIMELINES = ("home", "notifications")


async def markers(db: AsyncSession, actor_id: int, timelines: Iterable[str]) -> list[Marker]:
    """The saved markers among ``timelines``; unknown names are ignored, as in Mastodon."""
    wanted = [t for t in dict.fromkeys(timelines) if t in TIMELINES]
    if not wanted:
        return []
    return list(
        await db.scalars(
            select(Marker).where(Marker.actor_id == actor_id, Marker.timeline.in_(wanted))
        )
    )


async def save_markers(node: Node, actor_id: int, positions: Mapping[str, int]) -> list[Marker]:
    """Save ``{timeline: last_read_id}``; returns the saved markers."""
    unknown = [t for t in positions if t not in TIMELINES]
    if unknown:
        raise Invalid(f"unknown timeline {unknown[0]!r}: one of {', '.join(TIMELINES)}")
    saved = []
    async with transaction(node) as db:
        for timeline, last_read_id in positions.items():
            row = await db.get(Marker, (actor_id, timeline))
            if row is None:
                row = Marker(actor_id=actor_id, timeline=timeline, version=0)
                db.add(row)
            row.last_read_id = last_read_id
            row.version = (row.version or 0) + 1
            row.updated_at = utcnow()
            saved.append(row)
    return saved
