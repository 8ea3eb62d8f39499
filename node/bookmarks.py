"""What an account keeps of posts for itself: bookmarks (private) and pins (the posts
featured at the top of its profile), plus the pages of its bookmarks and favourites.

Pages are keyed by the bookmark's or the favourite's own row id, as in Mastodon, so that
they list posts in the order they were kept, not the order they were written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.context import Node, transaction
from node.db.models import Actor, Bookmark, Like, Pin, Post
from node.dbutil import insert_ignore
from node.errors import Invalid
from node.follows import Page, fetch_page

#: Mastodon's default limit of pinned posts per account.
MAX_PINS = 5


async def bookmark(node: Node, actor: Actor, post: Post) -> None:
    """Bookmark ``post`` (which the caller checked ``actor`` may see); twice is once."""
    async with transaction(node) as db:
        await insert_ignore(db, Bookmark.__table__, [{"actor_id": actor.id, "post_id": post.id}])


async def unbookmark(node: Node, actor: Actor, post_id: int) -> None:
    async with transaction(node) as db:
        await db.execute(
            delete(Bookmark).where(Bookmark.actor_id == actor.id, Bookmark.post_id == post_id)
        )


async def has_bookmarked(db: AsyncSession, actor_id: int, post_id: int) -> bool:
    found = await db.scalar(
        select(Bookmark.id).where(Bookmark.actor_id == actor_id, Bookmark.post_id == post_id)
    )
    return found is not None


async def pin(node: Node, actor: Actor, post: Post) -> None:
    """Feature one of one's own public or unlisted posts; at most ``MAX_PINS``."""
    if post.actor_id != actor.id:
        raise Invalid("Someone else's post cannot be pinned")
    if post.reblog_of_id is not None:
        raise Invalid("A boost cannot be pinned")
    if post.audience not in aud.OPEN_AUDIENCES:
        raise Invalid("Only public and unlisted posts can be pinned")
    async with transaction(node) as db:
        already = await db.scalar(
            select(Pin.id).where(Pin.actor_id == actor.id, Pin.post_id == post.id)
        )
        if already is not None:
            return
        count = await db.scalar(select(func.count()).where(Pin.actor_id == actor.id))
        if int(count or 0) >= MAX_PINS:
            raise Invalid("You have already pinned the maximum number of posts")
        db.add(Pin(actor_id=actor.id, post_id=post.id))


async def unpin(node: Node, actor: Actor, post_id: int) -> None:
    async with transaction(node) as db:
        await db.execute(delete(Pin).where(Pin.actor_id == actor.id, Pin.post_id == post_id))


async def bookmarks_page(db: AsyncSession, actor_id: int, page: Page) -> list[Row[Any]]:
    """``(bookmark id, post)`` rows, most recently bookmarked first; deleted posts left
    out (the caller still checks visibility: a follow may have ended since)."""
    query = (
        select(Bookmark.id, Post)
        .join(Post, Post.id == Bookmark.post_id)
        .where(Bookmark.actor_id == actor_id, Post.deleted_at.is_(None))
    )
    return await fetch_page(db, query, Bookmark.id, page)


async def favourites_page(db: AsyncSession, actor_id: int, page: Page) -> list[Row[Any]]:
    """``(favourite id, post)`` rows, most recently favourited first."""
    query = (
        select(Like.id, Post)
        .join(Post, Post.id == Like.post_id)
        .where(Like.actor_id == actor_id, Post.deleted_at.is_(None))
    )
    return await fetch_page(db, query, Like.id, page)


async def favourited_by_page(db: AsyncSession, post_id: int, page: Page) -> list[Row[Any]]:
    """``(favourite id, account)`` rows of who favourited a post."""
    query = (
        select(Like.id, Actor).join(Actor, Actor.id == Like.actor_id).where(Like.post_id == post_id)
    )
    return await fetch_page(db, query, Like.id, page)


async def reblogged_by_page(db: AsyncSession, post_id: int, page: Page) -> list[Row[Any]]:
    """``(boost id, account)`` rows of who boosted a post (boosts still standing)."""
    query = (
        select(Post.id, Actor)
        .join(Actor, Actor.id == Post.actor_id)
        .where(Post.reblog_of_id == post_id, Post.deleted_at.is_(None))
    )
    return await fetch_page(db, query, Post.id, page)
