"""Home timelines: written at post time, read by one index range scan."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.db.models import Actor, Follow, Post, PostTag, TimelineEntry, User
from node.db.models.follows import ACCEPTED
from node.dbutil import insert_ignore
from node.events import queue_event


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
    for owner in owners:
        queue_event(db, "update", f"user:{owner}", post_id)


async def index_public_post(db: AsyncSession, post: Post, hashtags: Iterable[str]) -> None:
    """Hashtag index rows, and live events for the public and hashtag streams."""
    tags = sorted({t.lower().lstrip("#") for t in hashtags if t})
    await insert_ignore(db, PostTag.__table__, [{"tag": t, "post_id": post.id} for t in tags])
    if post.audience != aud.PUBLIC_AUDIENCE or post.reblog_of_id is not None:
        return
    where = "local" if post.local else "remote"
    queue_event(db, "update", "public", post.id)
    queue_event(db, "update", f"public:{where}", post.id)
    for tag in tags:
        queue_event(db, "update", f"hashtag:{tag}", post.id)
        if post.local:
            queue_event(db, "update", f"hashtag:local:{tag}", post.id)


async def announce_deletion(db: AsyncSession, post: Post) -> None:
    """Tell live clients that had the post (home timelines, public streams) to drop it."""
    owners = await db.scalars(
        select(TimelineEntry.owner_id).where(TimelineEntry.post_id == post.id)
    )
    for owner in owners:
        queue_event(db, "delete", f"user:{owner}", post.id)
    if post.audience == aud.PUBLIC_AUDIENCE:
        queue_event(db, "delete", "public", post.id)
        queue_event(db, "delete", f"public:{'local' if post.local else 'remote'}", post.id)


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
