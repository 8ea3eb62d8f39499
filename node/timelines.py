"""Home timelines: written at post time, read by one index range scan."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import Actor, Follow, Post, TimelineEntry, User
from node.db.models.follows import ACCEPTED
from node.dbutil import insert_ignore


async def local_follower_ids(db: AsyncSession, actor_id: int) -> list[int]:
    rows = await db.scalars(
        select(Follow.follower_id)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.followee_id == actor_id, Follow.state == ACCEPTED, Actor.local.is_(True))
    )
    return list(rows)


async def all_local_user_ids(db: AsyncSession) -> list[int]:
    rows = await db.scalars(select(User.actor_id).where(User.disabled.is_(False)))
    return list(rows)


async def add_to_timelines(db: AsyncSession, post_id: int, owner_ids: Iterable[int]) -> None:
    owners = sorted(set(owner_ids))
    await insert_ignore(
        db, TimelineEntry.__table__, [{"owner_id": o, "post_id": post_id} for o in owners]
    )


async def home_page(
    db: AsyncSession,
    owner_id: int,
    *,
    limit: int = 20,
    max_id: int | None = None,
    since_id: int | None = None,
    min_id: int | None = None,
) -> list[Post]:
    """Newest first, Mastodon paging: ``max_id`` (older than), ``since_id`` (newer than,
    newest first) and ``min_id`` (newer than, the oldest of them first, then reversed)."""
    query = (
        select(Post)
        .join(TimelineEntry, TimelineEntry.post_id == Post.id)
        .where(TimelineEntry.owner_id == owner_id, Post.deleted_at.is_(None))
    )
    if max_id is not None:
        query = query.where(TimelineEntry.post_id < max_id)
    if since_id is not None:
        query = query.where(TimelineEntry.post_id > since_id)
    if min_id is not None:
        query = query.where(TimelineEntry.post_id > min_id)
        rows = list(await db.scalars(query.order_by(TimelineEntry.post_id.asc()).limit(limit)))
        return rows[::-1]
    return list(await db.scalars(query.order_by(TimelineEntry.post_id.desc()).limit(limit)))
