"""Posts received from peers: relevance, sanitising, storing, local fan-out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import APObject
from node import audience as aud
from node.db.ids import new_id
from node.db.models import Actor, Follow, Mention, Post, PostRecipient
from node.db.models.follows import ACCEPTED
from node.db.types import utcnow
from node.dbutil import insert_ignore
from node.notifications import notify
from node.places import received_place_columns
from node.text import sanitize_html
from node.timelines import add_to_timelines, index_public_post, local_follower_ids

POST_TYPES = frozenset({"Note", "Article", "Question", "Page", "Image", "Video", "Audio", "Event"})


async def local_actors_by_uri(db: AsyncSession, uris: list[str]) -> list[Actor]:
    if not uris:
        return []
    return list(await db.scalars(select(Actor).where(Actor.uri.in_(uris), Actor.local.is_(True))))


async def has_local_followers(db: AsyncSession, actor_id: int) -> bool:
    return bool(
        await db.scalar(
            select(
                exists().where(
                    Follow.followee_id == actor_id,
                    Follow.state == ACCEPTED,
                    Follow.follower_id.in_(select(Actor.id).where(Actor.local.is_(True))),
                )
            )
        )
    )


def _attachments(obj: APObject) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(a).items() if v is not None} for a in obj.attachments]


def _tags(obj: APObject) -> list[dict[str, Any]]:
    tags: list[dict[str, Any]] = [
        {"type": "Mention", "href": href, "name": name} for href, name in obj.mentions
    ]
    tags += [{"type": "Hashtag", "name": f"#{name}"} for name in obj.hashtags]
    return tags


def addressees(obj: APObject) -> list[str]:
    """Everyone a post is addressed to or mentions, once each, in order."""
    addressed = [*obj.to, *obj.cc, *obj.bto, *obj.bcc, *(h for h, _ in obj.mentions)]
    return list(dict.fromkeys(addressed))


def concerns_someone_here(local_targets: bool, followed: bool, parent_is_local: bool) -> bool:
    """Like Mastodon, a post nobody here follows, that mentions nobody here and replies to
    nothing here is not kept: it would only be spam in the database."""
    return local_targets or followed or parent_is_local


def new_post_values(obj: APObject, author: Actor, *, parent_id: int | None) -> dict[str, Any]:
    """The columns of a received post's row (``store_remote_post`` and its batch twin
    ``node.remote_posts_bulk`` store exactly these)."""
    audience = aud.audience_from_addressing(
        [*obj.to, *obj.bto], [*obj.cc, *obj.bcc], followers_url=author.followers_url
    )
    published = obj.published or utcnow()
    return {
        "id": new_id(published),
        "uri": obj.id,
        "url": obj.url or obj.id,
        "actor_id": author.id,
        "local": False,
        "type": obj.type,
        "audience": audience,
        "content": sanitize_html(obj.content or ""),
        "summary": obj.summary or "",
        "sensitive": bool(obj.sensitive),
        "in_reply_to_uri": obj.in_reply_to,
        "in_reply_to_id": parent_id,
        "to": list(obj.to),
        "cc": list(obj.cc),
        "tags": _tags(obj),
        "attachments": _attachments(obj),
        "raw": dict(obj.raw),
        "published": published,
        **received_place_columns(obj),
    }


def home_owners(audience: str, target_ids: Iterable[int], follower_ids: Iterable[int]) -> set[int]:
    """Whose home timelines get the post: the local addressees, and the author's local
    followers unless it is for listed people only (a direct message, a circle post)."""
    owners = set(target_ids)
    if audience not in aud.LISTED_AUDIENCES:
        owners.update(follower_ids)
    return owners


def mentioned(obj: APObject, targets: Iterable[Actor]) -> list[Actor]:
    """The local addressees the post mentions by a Mention tag: they get notified."""
    hrefs = {href for href, _ in obj.mentions}
    return [t for t in targets if t.uri in hrefs]


async def store_remote_post(
    db: AsyncSession,
    obj: APObject,
    author: Actor,
    *,
    via: Actor | None = None,
    audience: str | None = None,
    also_for: Iterable[int] = (),
) -> Post | None:
    """Store ``obj`` when it concerns someone here; returns None when it does not.

    ``via`` is a Group that relayed the post (FEP-1b12): its followers here count as its
    audience too. ``audience`` overrides what the addressing says, for what only the
    inbox knows (node/inbox/restricted.py): a partner firm's post, a circle post; then
    ``also_for`` are the local people it is for besides its addressees (everyone here,
    or the owner of the personal inbox it came to). ``node.remote_posts_bulk`` does the
    same for many open posts at once: a change here must be made there too
    (tests/federation/test_inbox_batch.py compares).
    """
    existing = await db.scalar(select(Post).where(Post.uri == obj.id))
    if existing is not None:
        return existing
    local_targets = await local_actors_by_uri(db, addressees(obj))
    parent = None
    if obj.in_reply_to:
        parent = await db.scalar(select(Post).where(Post.uri == obj.in_reply_to))
    followed = await has_local_followers(db, author.id) or (
        via is not None and await has_local_followers(db, via.id)
    )
    extra = set(also_for)
    if not concerns_someone_here(
        bool(local_targets) or bool(extra), followed, parent is not None and parent.local
    ):
        return None
    post = Post(**new_post_values(obj, author, parent_id=parent.id if parent else None))
    if audience is not None:
        post.audience = audience
    db.add(post)
    await db.flush()
    for target in local_targets:
        db.add(Mention(post_id=post.id, actor_id=target.id))
    if post.audience == aud.CIRCLE:
        readers = extra | {t.id for t in local_targets}
        await insert_ignore(
            db, PostRecipient.__table__, [{"post_id": post.id, "actor_id": a} for a in readers]
        )
    if parent is not None:
        parent.replies_count += 1
    followers = await local_follower_ids(db, author.id) if post.audience != aud.DIRECT else []
    if via is not None and post.audience != aud.DIRECT:
        followers += await local_follower_ids(db, via.id)
    await add_to_timelines(
        db,
        post.id,
        home_owners(post.audience, [*(t.id for t in local_targets), *extra], followers),
    )
    await index_public_post(db, post, obj.hashtags)
    for target in mentioned(obj, local_targets):
        await notify(db, owner=target, kind="mention", from_actor_id=author.id, post_id=post.id)
    return post


def update_remote_post(post: Post, obj: APObject, *, edited: bool = True) -> None:
    """Apply a peer's Update; ``edited`` False for one that changed only counts (a
    poll's), which must not mark the post as edited."""
    post.content = sanitize_html(obj.content or "")
    post.summary = obj.summary or ""
    post.sensitive = bool(obj.sensitive)
    post.attachments = _attachments(obj)
    post.tags = _tags(obj)
    post.raw = dict(obj.raw)
    if edited:
        post.edited_at = obj.updated or utcnow()


async def delete_posts_of(db: AsyncSession, actor_id: int) -> None:
    posts = await db.scalars(
        select(Post).where(Post.actor_id == actor_id, Post.deleted_at.is_(None))
    )
    now = utcnow()
    for post in posts:
        post.deleted_at = now


def is_post_type(doc: dict[str, Any] | str | None) -> bool:
    return isinstance(doc, dict) and doc.get("type") in POST_TYPES
