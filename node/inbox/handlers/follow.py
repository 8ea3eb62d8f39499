"""Follow: a peer asks to follow one of our actors; accepted at once unless locked."""

from __future__ import annotations

from sqlalchemy import select

from node.ap.documents import respond_activity
from node.db.models import Block, Follow
from node.db.models.follows import ACCEPTED, PENDING
from node.delivery.queue import enqueue
from node.follows import find_follow
from node.groups import GROUP, is_invited
from node.inbox.handlers._partnership import after_org_follow_change, is_partnership_pair
from node.inbox.registry import InboxContext, handles
from node.notifications import notify
from node.remote_posts import local_actors_by_uri


@handles("Follow")
async def apply(ctx: InboxContext) -> None:
    targets = await local_actors_by_uri(ctx.db, [ctx.activity.object_id or ""])
    if not targets:
        ctx.notes.append("follow of an unknown actor ignored")
        return
    target = targets[0]
    blocked = await ctx.db.scalar(
        select(Block.id).where(Block.blocker_id == target.id, Block.blocked_id == ctx.actor.id)
    )
    if blocked:
        reject = respond_activity(ctx.node.urls, "Reject", target, ctx.activity.id, ctx.actor.uri)
        await enqueue(ctx.db, sender=target, activity=reject, inboxes=[ctx.actor.inbox])
        ctx.queued = True
        ctx.notes.append("follow from a blocked actor rejected")
        return
    row = await find_follow(ctx.db, ctx.actor.id, target.id)
    if row is None:
        row = Follow(
            follower_id=ctx.actor.id,
            followee_id=target.id,
            state=PENDING,
            activity_uri=ctx.activity.id,
        )
        ctx.db.add(row)
    else:
        # A repeated Follow (the peer lost our Accept): answer again with its new id.
        row.activity_uri = ctx.activity.id
    if target.type == GROUP:
        # Joining a group: invited people come in at once; a request otherwise waits for
        # the group's staff, or for the requester's own firm's moderators when the group
        # is co-hosted with that firm (node/groups.py).
        approve = row.state == ACCEPTED or await is_invited(ctx.db, target.id, ctx.actor.id)
    elif is_partnership_pair(ctx.actor, target):
        # A firm asks to be our partner: held for our admin, unless our admin proposed
        # first (we follow them already), in which case their Follow completes it.
        proposed = await find_follow(ctx.db, target.id, ctx.actor.id) is not None
        approve = proposed or row.state == ACCEPTED
    else:
        approve = not target.manually_approves or row.state == ACCEPTED
        if row.state != ACCEPTED:
            kind = "follow_request" if target.manually_approves else "follow"
            await notify(ctx.db, owner=target, kind=kind, from_actor_id=ctx.actor.id)
    if approve:
        row.state = ACCEPTED
        accept = respond_activity(ctx.node.urls, "Accept", target, ctx.activity.id, ctx.actor.uri)
        await enqueue(ctx.db, sender=target, activity=accept, inboxes=[ctx.actor.inbox])
        ctx.queued = True
    await after_org_follow_change(ctx, ctx.actor, target)
