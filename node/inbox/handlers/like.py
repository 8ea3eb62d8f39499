"""Like (and Misskey's reaction-carrying Like) of one of our posts."""

from __future__ import annotations

from sqlalchemy import select, update

from node.db.models import Actor, Like, Post
from node.inbox.registry import InboxContext, handles
from node.notifications import notify


@handles("Like")
async def apply(ctx: InboxContext) -> None:
    post = await ctx.db.scalar(select(Post).where(Post.uri == ctx.activity.object_id))
    if post is None or post.deleted_at is not None:
        ctx.notes.append("like of an unknown post ignored")
        return
    exists = await ctx.db.scalar(
        select(Like.id).where(Like.actor_id == ctx.actor.id, Like.post_id == post.id)
    )
    if exists:
        return
    ctx.db.add(Like(actor_id=ctx.actor.id, post_id=post.id, uri=ctx.activity.id))
    author = await ctx.db.get(Actor, post.actor_id)
    if author is not None:
        await notify(
            ctx.db, owner=author, kind="favourite", from_actor_id=ctx.actor.id, post_id=post.id
        )
    await ctx.db.execute(
        update(Post).where(Post.id == post.id).values(likes_count=Post.likes_count + 1)
    )
