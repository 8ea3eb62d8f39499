"""A partner firm's moderator deciding on one of their own people's request to join a
group co-hosted here (node/group_remote.py sends it): an Accept or Reject of that
person's Follow of the group, from a staff member of the group on the same domain."""

from __future__ import annotations

from node import groups
from node.db.models import Actor, Follow
from node.db.models.follows import PENDING
from node.inbox.registry import InboxContext


async def decided_by_firm(ctx: InboxContext, row: Follow, *, accept: bool) -> bool:
    """True when ``ctx``'s Accept/Reject was such a decision and has been applied."""
    group = await ctx.db.get(Actor, row.followee_id)
    member = await ctx.db.get(Actor, row.follower_id)
    if group is None or member is None or group.type != groups.GROUP or not group.local:
        return False
    if row.state != PENDING or ctx.actor.domain != member.domain:
        return False
    if await groups.role_of(ctx.db, group.id, ctx.actor.id) is None:
        return False
    await groups.answer_request(ctx.node, ctx.db, group, member, row, accept=accept)
    ctx.queued = True
    return True
