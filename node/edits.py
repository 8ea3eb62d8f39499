"""Editing a post: the new version replaces the old, the old is kept as a ``PostEdit``,
and the servers that received the post get an ``Update`` of it.

An edit is a full replacement, as Mastodon's ``PUT /api/v1/statuses/:id`` is: text,
content warning, sensitivity, media and poll are what the request says, and what it leaves
out goes (a poll not sent again is removed). Changing a poll's options or its kind voids
the votes cast, as in Mastodon; people who boosted or favourited the post hear of the edit
(an ``update`` notification).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.ap.documents import update_note_activity
from node.context import Node, transaction
from node.db.models import Actor, Like, MediaAttachment, Mention, Poll, PollVote, Post, PostEdit
from node.db.types import utcnow
from node.delivery.queue import enqueue, inboxes_for
from node.errors import Invalid, NotFound
from node.events import queue_event
from node.media import attachment_documents, claim_for_post
from node.notifications import notify_ids
from node.polls import PollSpec, new_poll, poll_of, with_question
from node.posts import MAX_CHARS, remote_recipients, rendered_text, resolve_mentions
from node.timelines import add_to_timelines, replace_post_tags, timeline_owner_ids


@dataclass(frozen=True)
class Version:
    """One version of a post, for ``GET /api/v1/statuses/:id/history``: ``media`` holds
    attachment documents, each with ``media_id`` when it was one of our uploads."""

    content: str
    summary: str
    sensitive: bool
    created_at: datetime
    media: list[dict[str, Any]]
    poll: Poll | None = None


def _media_snapshot(base_url: str, items: Sequence[MediaAttachment]) -> list[dict[str, Any]]:
    documents = attachment_documents(base_url, items)
    return [{"media_id": m.id, **doc} for m, doc in zip(items, documents, strict=True)]


async def editable_post(db: AsyncSession, author: Actor, post_id: int) -> Post:
    """The author's own live post (not a boost); anything else is NotFound."""
    post = await db.get(Post, post_id)
    if (
        post is None
        or post.actor_id != author.id
        or post.deleted_at is not None
        or post.reblog_of_id is not None
    ):
        raise NotFound("Record not found")
    return post


def _poll_changed(poll: Poll, spec: PollSpec) -> bool:
    return [o["title"] for o in poll.options] != list(spec.options) or (
        poll.multiple != spec.multiple
    )


async def _apply_poll(db: AsyncSession, post: Post, spec: PollSpec | None) -> bool:
    """Make the post's poll what ``spec`` says; True when anything changed."""
    poll = await poll_of(db, post.id, for_update=True)
    if spec is None:
        if poll is None:
            return False
        await db.delete(poll)
        post.type = "Note"
        return True
    post.type = "Question"
    fresh = new_poll(post.id, spec)
    if poll is None:
        db.add(fresh)
        return True
    changed = _poll_changed(poll, spec)
    if changed:
        await db.execute(delete(PollVote).where(PollVote.post_id == post.id))
        poll.options = fresh.options
        poll.multiple = fresh.multiple
        poll.voters_count = 0
    poll.expires_at = fresh.expires_at
    return changed


async def edit_post(
    node: Node,
    author: Actor,
    post_id: int,
    text: str,
    *,
    summary: str = "",
    sensitive: bool = False,
    language: str | None = None,
    media_ids: Sequence[int | str] = (),
    poll: PollSpec | None = None,
) -> Post:
    """Replace the content of ``author``'s post ``post_id`` (see the module docstring)."""
    if not text.strip() and not media_ids:
        raise Invalid("Text can't be blank")
    if len(text) > MAX_CHARS:
        raise Invalid(f"a post is at most {MAX_CHARS} characters")
    if media_ids and poll is not None:
        raise Invalid("a post cannot have both media and a poll")
    async with node.reads() as db:
        await editable_post(db, author, post_id)
    # Looking accounts up may fetch them from their servers: never inside the transaction.
    mentioned = await resolve_mentions(node, text)
    async with transaction(node) as db:
        post = await editable_post(db, author, post_id)
        current_media = list(
            await db.scalars(
                select(MediaAttachment)
                .where(MediaAttachment.post_id == post.id)
                .order_by(MediaAttachment.id)
            )
        )
        previous = PostEdit(
            post_id=post.id,
            content=post.content,
            summary=post.summary,
            sensitive=post.sensitive,
            attachments=_media_snapshot(node.settings.base_url, current_media)
            if current_media
            else list(post.attachments),
        )
        await db.execute(
            update(MediaAttachment).where(MediaAttachment.post_id == post.id).values(post_id=None)
        )
        media = await claim_for_post(db, author.id, media_ids, post.id)
        poll_changed = await _apply_poll(db, post, poll)

        old_mentions = set(
            await db.scalars(select(Mention.actor_id).where(Mention.post_id == post.id))
        )
        parent = await db.get(Post, post.in_reply_to_id) if post.in_reply_to_id else None
        parent_author = await db.get(Actor, parent.actor_id) if parent else None
        content, tags, mention_actors, hashtags = rendered_text(
            node, text, mentioned, parent_author=parent_author, author=author
        )
        # Nobody loses sight of a post by an edit that drops their mention (Mastodon keeps
        # such mentions too, silently): addressing keeps every account ever mentioned.
        new_mentions = [a for a in mention_actors if a.id not in old_mentions]
        everyone_mentioned = (
            list(await db.scalars(select(Actor).where(Actor.id.in_(old_mentions)))) + new_mentions
        )
        changed = (
            content != post.content
            or summary != post.summary
            or (sensitive or bool(summary)) != post.sensitive
            or [m.id for m in media] != [m.id for m in current_media]
            or poll_changed
        )
        post.content = content
        post.source = text
        post.summary = summary
        post.sensitive = sensitive or bool(summary)
        if language:
            post.language = language
        post.tags = tags
        post.attachments = attachment_documents(node.settings.base_url, media)
        post.to, post.cc = aud.addressing(
            post.audience,
            followers_url=author.followers_url,
            mentioned_uris=[a.uri for a in everyone_mentioned],
        )
        if changed:
            post.edited_at = previous.created_at = utcnow()
            db.add(previous)
            for actor in new_mentions:
                db.add(Mention(post_id=post.id, actor_id=actor.id))
            await db.flush()
            await add_to_timelines(db, post.id, {a.id for a in new_mentions if a.local})
            await replace_post_tags(db, post, hashtags)
            await announce_edit(db, post)
        if changed or poll is not None:
            # A save that changes nothing is no new version; one that only moves a poll's
            # end time is none either, but peers must still learn the new end time.
            await federate_update(node, db, post, author)
    node.delivery_wakeup.set()
    return post


async def record_remote_edit(db: AsyncSession, post: Post) -> None:
    """For the Update handler, before it applies a peer's edit: keep the version being
    replaced (so the history of remote posts grows too) and tell whoever follows it.
    Call ``announce_edit`` after the new version is applied."""
    db.add(
        PostEdit(
            post_id=post.id,
            content=post.content,
            summary=post.summary,
            sensitive=post.sensitive,
            attachments=list(post.attachments),
        )
    )


async def announce_edit(db: AsyncSession, post: Post) -> None:
    """Live ``status.update`` events where the post is shown, and ``update``
    notifications for the local people who boosted or favourited it."""
    for owner in await timeline_owner_ids(db, post.id):
        queue_event(db, "status.update", f"user:{owner}", post.id)
    if post.audience == aud.PUBLIC_AUDIENCE:
        queue_event(db, "status.update", "public", post.id)
        where = "local" if post.local else "remote"
        queue_event(db, "status.update", f"public:{where}", post.id)
    boosters = await db.scalars(
        select(Post.actor_id).where(Post.reblog_of_id == post.id, Post.deleted_at.is_(None))
    )
    likers = await db.scalars(select(Like.actor_id).where(Like.post_id == post.id))
    interested = sorted({*boosters, *likers} - {post.actor_id})
    await notify_ids(db, interested, kind="update", from_actor_id=post.actor_id, post_id=post.id)


async def federate_update(
    node: Node,
    db: AsyncSession,
    post: Post,
    author: Actor,
    *,
    extra_recipients: Iterable[Actor] = (),
) -> None:
    """Queue an ``Update`` of ``post`` for the servers its ``Create`` went to (plus
    ``extra_recipients``, e.g. remote voters of a poll), in the caller's transaction."""
    if not aud.is_federated(post.audience):
        return
    mentioned = list(
        await db.scalars(
            select(Actor)
            .join(Mention, Mention.actor_id == Actor.id)
            .where(Mention.post_id == post.id)
        )
    )
    inboxes = await remote_recipients(db, author, post.audience, mentioned)
    inboxes += inboxes_for(extra_recipients)
    poll = await poll_of(db, post.id)
    activity = with_question(update_note_activity(post, author), poll)
    await enqueue(db, sender=author, activity=activity, inboxes=inboxes)


async def history(db: AsyncSession, post: Post) -> list[Version]:
    """Every known version, oldest first, the current one last. A version's time is when
    it was written: the post's publication for the first, the edit's time for the rest."""
    edits = list(
        await db.scalars(select(PostEdit).where(PostEdit.post_id == post.id).order_by(PostEdit.id))
    )
    times = [post.published, *(e.created_at for e in edits)]
    versions = [
        Version(
            content=e.content,
            summary=e.summary,
            sensitive=e.sensitive,
            created_at=times[i],
            media=list(e.attachments),
        )
        for i, e in enumerate(edits)
    ]
    current_media = list(
        await db.scalars(
            select(MediaAttachment)
            .where(MediaAttachment.post_id == post.id)
            .order_by(MediaAttachment.id)
        )
    )
    versions.append(
        Version(
            content=post.content,
            summary=post.summary,
            sensitive=post.sensitive,
            created_at=times[-1] if edits else post.published,
            media=[{"media_id": m.id} for m in current_media] or list(post.attachments),
            poll=await poll_of(db, post.id),
        )
    )
    return versions
