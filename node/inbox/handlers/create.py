"""Create of a post: stored when it concerns someone here. A Create of a poll vote (a
named Note answering one of our Questions, as Mastodon sends votes) is counted instead."""

from __future__ import annotations

from node.inbox.handlers._objects import authored_by, embedded_or_fetched
from node.inbox.registry import InboxContext, InboxRefusal, handles
from node.polls import receive_vote, store_remote_poll
from node.remote_posts import POST_TYPES, store_remote_post


@handles("Create", prepare=embedded_or_fetched)
async def apply(ctx: InboxContext) -> None:
    obj = ctx.prepared
    if obj is None:
        raise InboxRefusal(422, "the created object is missing or cannot be fetched")
    if obj.type not in POST_TYPES:
        raise InboxRefusal(422, f"objects of type {obj.type} are not supported")
    if not authored_by(obj, ctx.actor):
        ctx.notes.append("create of an object attributed to someone else ignored")
        return
    if await receive_vote(ctx.db, obj, ctx.actor):
        ctx.notes.append("poll vote")
        return
    post = await store_remote_post(ctx.db, obj, ctx.actor)
    if post is None:
        ctx.notes.append("post concerns nobody here: not stored")
    elif obj.poll is not None:
        await store_remote_poll(ctx.db, post, obj.poll)
