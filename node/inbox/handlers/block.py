"""Block of one of our actors: both follow relationships end."""

from __future__ import annotations

from sqlalchemy import delete, or_, select

from node.db.models import Block, Follow
from node.inbox.registry import InboxContext, handles
from node.remote_posts import local_actors_by_uri


@handles("Block")
async def apply(ctx: InboxContext) -> None:
    targets = await local_actors_by_uri(ctx.db, [ctx.activity.object_id or ""])
    if not targets:
        return
    target = targets[0]
    existing = await ctx.db.scalar(
        select(Block.id).where(Block.blocker_id == ctx.actor.id, Block.blocked_id == target.id)
    )
    if existing is None:
        ctx.db.add(
            Block(blocker_id=ctx.actor.id, blocked_id=target.id, activity_uri=ctx.activity.id)
        )
    await ctx.db.execute(
        delete(Follow).where(
            or_(
                (Follow.follower_id == ctx.actor.id) & (Follow.followee_id == target.id),
                (Follow.follower_id == target.id) & (Follow.followee_id == ctx.actor.id),
            )
        )
    )
