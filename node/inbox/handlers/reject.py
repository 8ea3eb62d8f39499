"""Reject of one of our Follows (or removal of a follower): the relationship ends."""

from __future__ import annotations

from node.db.models import Actor
from node.inbox.handlers._follow_ref import referenced_follow
from node.inbox.handlers._group_delegation import decided_by_firm
from node.inbox.handlers._partnership import after_org_follow_change
from node.inbox.registry import InboxContext, handles


@handles("Reject")
async def apply(ctx: InboxContext) -> None:
    row = await referenced_follow(ctx, ctx.activity.object)
    if row is not None and row.followee_id != ctx.actor.id:
        if await decided_by_firm(ctx, row, accept=False):
            return
    if row is None or row.followee_id != ctx.actor.id:
        ctx.notes.append("reject of an unknown follow ignored")
        return
    await ctx.db.delete(row)
    follower = await ctx.db.get(Actor, row.follower_id)
    if follower is not None:
        await after_org_follow_change(ctx, follower, ctx.actor)
