"""Notifications for local accounts, written in the transaction of what caused them."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import Actor, Mute, Notification
from node.db.types import utcnow
from node.events import queue_event

TYPES = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
)


def is_notifiable(owner: Actor, from_actor_id: int) -> bool:
    """Only local people are notified, and never of their own doing."""
    return owner.local and owner.id != from_actor_id and owner.type == "Person"


def _mutes_notifications() -> ColumnElement[bool]:
    return and_(Mute.notifications, or_(Mute.expires_at.is_(None), Mute.expires_at > utcnow()))


async def muted_pairs(db: AsyncSession, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which ``(owner_id, from_actor_id)`` pairs are muted for notifications: one query for
    a whole inbox batch (``node.remote_posts_bulk``) instead of one per notification."""
    if not pairs:
        return set()
    owners = {owner for owner, _ in pairs}
    causes = {cause for _, cause in pairs}
    rows = await db.execute(
        select(Mute.actor_id, Mute.target_id).where(
            Mute.actor_id.in_(owners), Mute.target_id.in_(causes), _mutes_notifications()
        )
    )
    return {(owner, cause) for owner, cause in rows} & set(pairs)


async def notify(
    db: AsyncSession, *, owner: Actor, kind: str, from_actor_id: int, post_id: int | None = None
) -> Notification | None:
    """Notify ``owner`` (if local and not the cause itself, and not muting the cause)."""
    if not is_notifiable(owner, from_actor_id):
        return None
    muted = await db.scalar(
        select(Mute.id).where(
            Mute.actor_id == owner.id, Mute.target_id == from_actor_id, _mutes_notifications()
        )
    )
    if muted:
        return None
    row = Notification(owner_id=owner.id, type=kind, from_actor_id=from_actor_id, post_id=post_id)
    db.add(row)
    await db.flush()
    queue_event(db, "notification", f"user:{owner.id}", row.id)
    return row


async def notify_ids(
    db: AsyncSession, owner_ids: list[int], *, kind: str, from_actor_id: int, post_id: int | None
) -> None:
    if not owner_ids:
        return
    owners = await db.scalars(select(Actor).where(Actor.id.in_(owner_ids)))
    for owner in owners:
        await notify(db, owner=owner, kind=kind, from_actor_id=from_actor_id, post_id=post_id)
