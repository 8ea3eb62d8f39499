"""Notifications for local accounts, written in the transaction of what caused them."""

from __future__ import annotations

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
    # Cercle: someone invited the owner to a group (``account`` is the group)
    "group_invite",
)


def is_notifiable(owner: Actor, from_actor_id: int) -> bool:
    """Only local people are notified, and never of their own doing."""
    return owner.local and owner.id != from_actor_id and owner.type == "Person"


def _mutes_notifications() -> ColumnElement[bool]:
    """A mute that silences notifications (node/remote_posts_bulk.py asks the same in SQL
    for a whole inbox batch)."""
    return and_(Mute.notifications, or_(Mute.expires_at.is_(None), Mute.expires_at > utcnow()))


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
