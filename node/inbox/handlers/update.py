"""Update of a post (an edit) or of the sending actor's own profile."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from federation.errors import ValidationError
from federation.vocab import ACTOR_TYPES, parse_actor
from node.db.models import Actor, Post
from node.edits import announce_edit, record_remote_edit
from node.inbox.handlers._objects import authored_by, embedded_or_fetched, object_not_embedded
from node.inbox.registry import InboxContext, handles
from node.polls import sync_remote_poll
from node.remote_actors import apply_actor_document
from node.remote_posts import POST_TYPES, update_remote_post
from node.text import sanitize_html


async def _prepare(node: Any, activity: Any, actor: Any) -> Any:
    obj = activity.object
    if isinstance(obj, dict) and obj.get("type") in ACTOR_TYPES:
        return obj
    return await embedded_or_fetched(node, activity, actor)


@handles("Update", prepare=_prepare, fetches=object_not_embedded)
async def apply(ctx: InboxContext) -> None:
    prepared = ctx.prepared
    if isinstance(prepared, dict):
        if prepared.get("id") != ctx.actor.uri:
            ctx.notes.append("update of another actor ignored")
            return
        try:
            doc = parse_actor(prepared)
        except ValidationError as exc:
            ctx.notes.append(f"unusable actor update: {exc.reason}")
            return
        # Loaded here, not merged: ctx.actor may be a remembered copy (node/key_owners.py)
        # older than the row, and merging it would write its older fields back.
        actor = await ctx.db.get(Actor, ctx.actor.id)
        if actor is None:
            ctx.notes.append("update of an actor no longer stored ignored")
            return
        apply_actor_document(actor, doc)
        return
    if prepared is None or prepared.type not in POST_TYPES or not authored_by(prepared, ctx.actor):
        ctx.notes.append("update of an unsupported or foreign object ignored")
        return
    post = await ctx.db.scalar(select(Post).where(Post.uri == prepared.id))
    if post is None or post.actor_id != ctx.actor.id:
        ctx.notes.append("update of an unknown post ignored")
        return
    # Mastodon also sends Updates of a poll's counts alone: only a changed text is an
    # edit (a version in the history, live status.update events, update notifications).
    edited = (
        sanitize_html(prepared.content or "") != post.content
        or (prepared.summary or "") != post.summary
        or bool(prepared.sensitive) != post.sensitive
    )
    if edited:
        await record_remote_edit(ctx.db, post)
    update_remote_post(post, prepared, edited=edited)
    if prepared.type == "Question" or prepared.poll is not None:
        await sync_remote_poll(ctx.db, post, prepared.poll)
    if edited:
        await announce_edit(ctx.db, post)
