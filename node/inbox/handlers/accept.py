"""Accept of one of our Follows: the relationship becomes active."""

from __future__ import annotations

from node.db.models import Actor
from node.db.models.follows import ACCEPTED
from node.inbox.handlers._follow_ref import referenced_follow
from node.inbox.handlers._group_delegation import decided_by_firm
from node.inbox.handlers._partnership import after_org_follow_change
from node.inbox.registry import InboxContext, handles


@handles("Accept")
async def apply(ctx: InboxContext) -> None:
    row = await referenced_follow(ctx, ctx.activity.object)
    # Only the followed actor may accept: otherwise anyone could accept on its behalf.
    if row is not None and row.followee_id != ctx.actor.id:
        if await decided_by_firm(ctx, row, accept=True):
            return
    if row is None or row.followee_id != ctx.actor.id:
        ctx.notes.append("accept of an unknown follow ignored")
        return
    row.state = ACCEPTED
    follower = await ctx.db.get(Actor, row.follower_id)
    if follower is not None:
        await after_org_follow_change(ctx, follower, ctx.actor)
