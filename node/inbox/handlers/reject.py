"""Reject of one of our Follows (or removal of a follower): the relationship ends."""

from __future__ import annotations

from node.inbox.handlers._follow_ref import referenced_follow
from node.inbox.registry import InboxContext, handles


@handles("Reject")
async def apply(ctx: InboxContext) -> None:
    row = await referenced_follow(ctx, ctx.activity.object)
    if row is None or row.followee_id != ctx.actor.id:
        ctx.notes.append("reject of an unknown follow ignored")
        return
    await ctx.db.delete(row)
