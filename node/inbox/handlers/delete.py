"""Delete of a post (Tombstone or bare id) or of the sending actor itself."""

from __future__ import annotations

from sqlalchemy import delete, or_, select

from node.db.models import Actor, Follow, Post
from node.db.types import utcnow
from node.inbox.registry import InboxContext, handles
from node.remote_posts import delete_posts_of
from node.timelines import announce_deletion


@handles("Delete")
async def apply(ctx: InboxContext) -> None:
    target = ctx.activity.object_id
    if target == ctx.actor.uri:
        await delete_posts_of(ctx.db, ctx.actor.id)
        await ctx.db.execute(
            delete(Follow).where(
                or_(Follow.follower_id == ctx.actor.id, Follow.followee_id == ctx.actor.id)
            )
        )
        actor = await ctx.db.get(Actor, ctx.actor.id)
        if actor is not None:
            actor.inbox = ""
            actor.shared_inbox = None
        return
    post = await ctx.db.scalar(select(Post).where(Post.uri == target))
    if post is None or post.actor_id != ctx.actor.id:
        ctx.notes.append("delete of an unknown post ignored")
        return
    post.deleted_at = utcnow()
    await announce_deletion(ctx.db, post)
