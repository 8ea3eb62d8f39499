"""Timelines: home (written at post time, read by one index range scan), public, hashtag
and list timelines, and the notifications timeline — each paged the way Mastodon pages.

Every reader here takes a keyset ``Page`` over time-sortable ids, so a page is an index
range scan whatever the size of the tables. Home and list entries were written for their
owner, and public and hashtag timelines hold only public posts; the client API still
decides visibility again when it reads a page (node.visibility), since a follow or a
partnership may have ended since an entry was written.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Select, bindparam, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, defer

from node import audience as aud
from node.db.models import (
    Actor,
    Follow,
    Marker,
    Notification,
    Post,
    PostTag,
    TimelineEntry,
    User,
)
from node.db.models.follows import ACCEPTED
from node.db.one_hop import Reads
from node.db.rows import POST_COLUMNS, PostRow
from node.dbutil import insert_ignore
from node.errors import NotFound
from node.events import queue_event
from node.followed_tags import feed_tag_followers
from node.follows import Page, fetch_page
from node.moderation.state import hidden_from_public


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
    await feed_tag_followers(db, post.id, post.audience, post.reblog_of_id is not None, tags)
    if post.audience != aud.PUBLIC_AUDIENCE or post.reblog_of_id is not None:
        return
    where = "local" if post.local else "remote"
    queue_event(db, "update", "public", post.id)
    queue_event(db, "update", f"public:{where}", post.id)
    for tag in tags:
        queue_event(db, "update", f"hashtag:{tag}", post.id)
        if post.local:
            queue_event(db, "update", f"hashtag:local:{tag}", post.id)


async def replace_post_tags(db: AsyncSession, post: Post, hashtags: Iterable[str]) -> None:
    """After an edit: the hashtag index holds the post under its new tags only."""
    await db.execute(delete(PostTag).where(PostTag.post_id == post.id))
    tags = sorted({t.lower().lstrip("#") for t in hashtags if t})
    await insert_ignore(db, PostTag.__table__, [{"tag": t, "post_id": post.id} for t in tags])


async def timeline_owner_ids(db: AsyncSession, post_id: int) -> list[int]:
    """Whose home timelines hold the post: who must hear live that it changed or went."""
    return list(
        await db.scalars(select(TimelineEntry.owner_id).where(TimelineEntry.post_id == post_id))
    )


async def announce_deletion(db: AsyncSession, post: Post) -> None:
    """Tell live clients that had the post (home timelines, public streams) to drop it."""
    for owner in await timeline_owner_ids(db, post.id):
        queue_event(db, "delete", f"user:{owner}", post.id)
    if post.audience == aud.PUBLIC_AUDIENCE:
        queue_event(db, "delete", "public", post.id)
        queue_event(db, "delete", f"public:{'local' if post.local else 'remote'}", post.id)


#: What a rendered timeline never reads — the document as received and the addressing —
#: left unloaded (reading them raises): decoding those JSON columns cost ≈ 0.3 ms a page.
TIMELINE_DEFERRED = tuple(
    defer(getattr(Post, name), raiseload=True) for name in ("raw", "to", "cc")
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
    newest first) and ``min_id`` (newer than, the oldest of them first, then reversed).

    ORM posts without ``raw``, ``to`` and ``cc`` (see ``TIMELINE_DEFERRED``), for the web
    pages and the CLI; the client API reads the same page as plain records with
    ``read_home_page``."""
    query = (
        select(Post)
        .options(*TIMELINE_DEFERRED)
        .join(TimelineEntry, TimelineEntry.post_id == Post.id)
        .where(TimelineEntry.owner_id == owner_id, Post.deleted_at.is_(None))
    )
    if max_id is not None:
        query = query.where(TimelineEntry.post_id < max_id)
    if since_id is not None:
        query = query.where(TimelineEntry.post_id > since_id)
    if min_id is not None:
        query = query.where(TimelineEntry.post_id > min_id)
        posts = list(await db.scalars(query.order_by(TimelineEntry.post_id.asc()).limit(limit)))
        posts.reverse()
        return posts
    return list(await db.scalars(query.order_by(TimelineEntry.post_id.desc()).limit(limit)))


@functools.lru_cache(maxsize=8)
def _home_rows_query(older: bool, newer: bool, oldest_first: bool) -> Select[Any]:
    """``home_page``'s statement as plain rows (``PostRow``), one per combination of
    paging parameters, built once: ``:owner``, ``:max_id``, ``:newer_than``, ``:limit``."""
    query = (
        select(*POST_COLUMNS)
        .join(TimelineEntry, TimelineEntry.post_id == Post.id)
        .where(TimelineEntry.owner_id == bindparam("owner"), Post.deleted_at.is_(None))
    )
    if older:
        query = query.where(TimelineEntry.post_id < bindparam("max_id"))
    if newer:
        query = query.where(TimelineEntry.post_id > bindparam("newer_than"))
    order = TimelineEntry.post_id.asc() if oldest_first else TimelineEntry.post_id.desc()
    return query.order_by(order).limit(bindparam("limit"))


def read_home_page(reads: Reads, owner_id: int, page: Page) -> list[Any]:
    """``home_page`` as ``PostRow`` records, for the client API (see node.db.rows):
    the same posts in the same order, read on the caller's one hand-off."""
    newer = [i for i in (page.since_id, page.min_id) if i is not None]
    oldest_first = page.min_id is not None
    query = _home_rows_query(page.max_id is not None, bool(newer), oldest_first)
    params: dict[str, Any] = {"owner": owner_id, "limit": page.limit}
    if page.max_id is not None:
        params["max_id"] = page.max_id
    if newer:
        params["newer_than"] = max(newer)
    posts = [PostRow(*row) for row in reads.all(query, params)]
    if oldest_first:
        posts.reverse()
    return posts


async def _posts(db: AsyncSession, query: Select[Any], key: Any, page: Page) -> list[Post]:
    """Run a ``select(key, Post)`` query as one keyset page and keep the posts."""
    return [row[1] for row in await fetch_page(db, query, key, page)]


def _not_reply_to_others() -> Any:
    """Mastodon leaves replies out of public timelines, except self-replies (threads)."""
    parent = aliased(Post)
    return or_(
        Post.in_reply_to_uri.is_(None),
        exists().where(parent.id == Post.in_reply_to_id, parent.actor_id == Post.actor_id),
    )


def _public_base(*, local: bool, remote: bool, only_media: bool) -> Select[Any]:
    query = select(Post.id, Post).where(
        Post.audience == aud.PUBLIC_AUDIENCE,
        Post.reblog_of_id.is_(None),
        Post.deleted_at.is_(None),
        Post.actor_id.not_in(hidden_from_public()),  # silenced or suspended accounts
    )
    # ``local`` and ``remote`` both set cancel out, as in Mastodon.
    if local and not remote:
        query = query.where(Post.local.is_(True))
    elif remote and not local:
        query = query.where(Post.local.is_(False))
    if only_media:
        query = query.where(func.json_array_length(Post.attachments) > 0)
    return query


async def public_page(
    db: AsyncSession,
    page: Page,
    *,
    local: bool = False,
    remote: bool = False,
    only_media: bool = False,
) -> list[Post]:
    """The public timeline: public posts (never unlisted ones, never boosts), no replies
    to others, newest first."""
    query = _public_base(local=local, remote=remote, only_media=only_media).where(
        _not_reply_to_others()
    )
    return await _posts(db, query, Post.id, page)


def normalise_tag(name: str) -> str:
    return name.strip().lstrip("#").lower()


async def tag_page(
    db: AsyncSession,
    tag: str,
    page: Page,
    *,
    any_tags: Collection[str] = (),
    all_tags: Collection[str] = (),
    none_tags: Collection[str] = (),
    local: bool = False,
    remote: bool = False,
    only_media: bool = False,
) -> list[Post]:
    """Public posts carrying ``tag`` or one of ``any_tags``, every one of ``all_tags`` and
    none of ``none_tags`` (Mastodon's ``any[]``/``all[]``/``none[]``), replies included."""
    wanted = {normalise_tag(t) for t in (tag, *any_tags) if normalise_tag(t)}
    query = _public_base(local=local, remote=remote, only_media=only_media).where(
        Post.id.in_(select(PostTag.post_id).where(PostTag.tag.in_(wanted)))
    )
    for required in {normalise_tag(t) for t in all_tags} - {""}:
        query = query.where(Post.id.in_(select(PostTag.post_id).where(PostTag.tag == required)))
    excluded = {normalise_tag(t) for t in none_tags} - {""}
    if excluded:
        query = query.where(
            Post.id.not_in(select(PostTag.post_id).where(PostTag.tag.in_(excluded)))
        )
    return await _posts(db, query, Post.id, page)


async def list_page(
    db: AsyncSession,
    owner_id: int,
    member_ids: Collection[int],
    page: Page,
    *,
    replies_policy: str = "list",
) -> list[Post]:
    """A list timeline: the entries of the owner's home timeline written by list members.

    Reading from the home timeline means a list can never show what its owner could not
    see anyway. Replies follow the list's ``replies_policy``: ``none`` hides them,
    ``list`` keeps replies to members (or to the owner), ``followed`` replies to anyone
    the owner follows.
    """
    if not member_ids:
        return []
    query = (
        select(TimelineEntry.post_id, Post)
        .join(Post, Post.id == TimelineEntry.post_id)
        .where(
            TimelineEntry.owner_id == owner_id,
            Post.actor_id.in_(list(member_ids)),
            Post.deleted_at.is_(None),
        )
    )
    parent = aliased(Post)
    if replies_policy == "none":
        query = query.where(Post.in_reply_to_uri.is_(None))
    elif replies_policy == "list":
        allowed = {owner_id, *member_ids}
        query = query.where(
            or_(
                Post.in_reply_to_uri.is_(None),
                exists().where(parent.id == Post.in_reply_to_id, parent.actor_id.in_(allowed)),
            )
        )
    elif replies_policy == "followed":
        followed = select(Follow.followee_id).where(
            Follow.follower_id == owner_id, Follow.state == ACCEPTED
        )
        query = query.where(
            or_(
                Post.in_reply_to_uri.is_(None),
                exists().where(
                    parent.id == Post.in_reply_to_id,
                    or_(parent.actor_id == owner_id, parent.actor_id.in_(followed)),
                ),
            )
        )
    return await _posts(db, query, TimelineEntry.post_id, page)


# --- the notifications timeline -------------------------------------------------------


def _notifications_query(
    owner_id: int,
    *columns: Any,
    types: Collection[str] = (),
    exclude_types: Collection[str] = (),
    account_id: int | None = None,
) -> Select[Any]:
    """An owner's notifications, without those about posts deleted since (Mastodon
    removes them with the post; ours are kept soft-deleted, so they are hidden here)."""
    query = (
        select(*(columns or (Notification.id, Notification)))
        .select_from(Notification)
        .outerjoin(Post, Post.id == Notification.post_id)
        .where(
            Notification.owner_id == owner_id,
            or_(Notification.post_id.is_(None), Post.deleted_at.is_(None)),
        )
    )
    if types:
        query = query.where(Notification.type.in_(list(types)))
    if exclude_types:
        query = query.where(Notification.type.not_in(list(exclude_types)))
    if account_id is not None:
        query = query.where(Notification.from_actor_id == account_id)
    return query


async def notifications_page(
    db: AsyncSession,
    owner_id: int,
    page: Page,
    *,
    types: Collection[str] = (),
    exclude_types: Collection[str] = (),
    account_id: int | None = None,
) -> list[Notification]:
    query = _notifications_query(
        owner_id, types=types, exclude_types=exclude_types, account_id=account_id
    )
    return [row[1] for row in await fetch_page(db, query, Notification.id, page)]


async def notification(db: AsyncSession, owner_id: int, notification_id: int) -> Notification:
    """One of the owner's notifications; someone else's is as unknown as a missing one."""
    row = await db.get(Notification, notification_id)
    if row is None or row.owner_id != owner_id:
        raise NotFound("Record not found")
    return row


async def unread_count(
    db: AsyncSession,
    owner_id: int,
    *,
    limit: int = 100,
    types: Collection[str] = (),
    exclude_types: Collection[str] = (),
    account_id: int | None = None,
) -> int:
    """Notifications newer than the owner's ``notifications`` marker, counted up to
    ``limit`` (a capped count stays one short index scan however far behind one is)."""
    last_read = await db.scalar(
        select(Marker.last_read_id).where(
            Marker.actor_id == owner_id, Marker.timeline == "notifications"
        )
    )
    query = _notifications_query(
        owner_id, Notification.id, types=types, exclude_types=exclude_types, account_id=account_id
    )
    if last_read is not None:
        query = query.where(Notification.id > last_read)
    capped = query.limit(limit).subquery()
    return int(await db.scalar(select(func.count()).select_from(capped)) or 0)


async def dismiss_notification(db: AsyncSession, owner_id: int, notification_id: int) -> None:
    row = await notification(db, owner_id, notification_id)
    await db.delete(row)


async def clear_notifications(db: AsyncSession, owner_id: int) -> None:
    await db.execute(delete(Notification).where(Notification.owner_id == owner_id))
