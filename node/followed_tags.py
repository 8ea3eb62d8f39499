"""Followed hashtags (Mastodon's ``/api/v1/followed_tags``), and how they feed home
timelines.

As in Mastodon (``FanOutOnWriteService#deliver_to_hashtag_followers``), a public post
that is not a boost goes, when it is written, into the home timeline of every local
person following one of its hashtags. Read time still decides visibility
(``visible_posts``), so a home entry never shows what its owner may not see.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.batch_io import BatchIO, Insert, Query
from node.context import Node, transaction
from node.db.models import FollowedTag, TimelineEntry
from node.dbutil import insert_ignore
from node.errors import Invalid
from node.events import EVENTS_KEY, Event, queue_event
from node.follows import Page, fetch_page

#: What Mastodon accepts as a hashtag name (letters, digits, underscores, middle dots).
TAG_NAME = re.compile(r"^[\w·]{1,128}$")


def normalise(name: str) -> str:
    """The stored form of a tag: no ``#``, lower case; refused when it cannot be one."""
    tag = name.strip().lstrip("#").lower()
    if not TAG_NAME.match(tag):
        raise Invalid(f"{name!r} is not a hashtag name")
    return tag


def feeds_followers(audience: str, reblog: bool) -> bool:
    """Which posts hashtag followers get: public ones, never boosts (as Mastodon)."""
    return audience == aud.PUBLIC_AUDIENCE and not reblog


async def follow_tag(db: AsyncSession, actor_id: int, name: str) -> str:
    tag = normalise(name)
    await insert_ignore(db, FollowedTag.__table__, [{"actor_id": actor_id, "tag": tag}])
    return tag


async def unfollow_tag(db: AsyncSession, actor_id: int, name: str) -> str:
    tag = normalise(name)
    await db.execute(
        delete(FollowedTag).where(FollowedTag.actor_id == actor_id, FollowedTag.tag == tag)
    )
    return tag


async def follows_tag(db: AsyncSession, actor_id: int, tag: str) -> bool:
    return (
        await db.scalar(
            select(FollowedTag.id).where(FollowedTag.actor_id == actor_id, FollowedTag.tag == tag)
        )
    ) is not None


async def followed_tags_page(db: AsyncSession, actor_id: int, page: Page) -> list[FollowedTag]:
    query = select(FollowedTag.id, FollowedTag).where(FollowedTag.actor_id == actor_id)
    return [row[1] for row in await fetch_page(db, query, FollowedTag.id, page)]


async def tag_followers(db: AsyncSession, tags: Iterable[str]) -> list[int]:
    wanted = sorted(set(tags))
    if not wanted:
        return []
    rows = await db.scalars(
        select(FollowedTag.actor_id).where(FollowedTag.tag.in_(wanted)).distinct()
    )
    return sorted(rows)


async def feed_tag_followers(
    db: AsyncSession, post_id: int, audience: str, reblog: bool, tags: Sequence[str]
) -> None:
    """Put a new post in the home timelines of the people following its hashtags
    (``node.timelines.index_public_post`` calls this for every post it indexes)."""
    if not tags or not feeds_followers(audience, reblog):
        return
    owners = await tag_followers(db, tags)
    if not owners:
        return
    # Followers of the author already have it: they must not hear of it twice.
    present = set(
        await db.scalars(
            select(TimelineEntry.owner_id).where(
                TimelineEntry.post_id == post_id, TimelineEntry.owner_id.in_(owners)
            )
        )
    )
    owners = [o for o in owners if o not in present]
    await insert_ignore(
        db, TimelineEntry.__table__, [{"owner_id": o, "post_id": post_id} for o in owners]
    )
    for owner in owners:
        queue_event(db, "update", f"user:{owner}", post_id)


async def feed_tag_followers_bulk(
    db: AsyncSession,
    io: BatchIO,
    posts: Sequence[tuple[dict[str, Any], Sequence[str], Sequence[int]]],
) -> None:
    """The batch twin of ``feed_tag_followers`` for ``node.remote_posts_bulk``: ``posts``
    are ``(post row values, normalised tags, home owners already written)``. One query
    for the whole batch, and only when some post of it can feed followers at all."""
    candidates = [
        (values["id"], tags, set(owners))
        for values, tags, owners in posts
        if tags and feeds_followers(values["audience"], values.get("reblog_of_id") is not None)
    ]
    if not candidates:
        return
    wanted = sorted({t for _, tags, _ in candidates for t in tags})
    (rows,) = await io.fetch(
        [Query("SELECT actor_id, tag FROM followed_tags WHERE tag IN :tags", {"tags": wanted})]
    )
    followers: dict[str, set[int]] = {}
    for actor_id, tag in rows:
        followers.setdefault(tag, set()).add(actor_id)
    entries = []
    events = db.info.setdefault(EVENTS_KEY, [])
    for post_id, tags, present in candidates:
        owners = sorted({o for t in tags for o in followers.get(t, ())} - present)
        entries += [{"owner_id": o, "post_id": post_id} for o in owners]
        events.extend(Event("update", f"user:{o}", post_id) for o in owners)
    if entries:
        io.write([Insert(TimelineEntry.__table__, entries, ignore_conflicts=True)])


# --- for the web pages (each opens its own session) --------------------------------


async def followed_names(node: Node, actor_id: int) -> list[str]:
    async with node.reads() as db:
        return sorted(
            await db.scalars(select(FollowedTag.tag).where(FollowedTag.actor_id == actor_id))
        )


async def set_following(node: Node, actor_id: int, name: str, *, follow: bool) -> str:
    async with transaction(node) as db:
        return await (follow_tag if follow else unfollow_tag)(db, actor_id, name)
