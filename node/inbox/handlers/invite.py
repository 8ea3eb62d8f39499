"""Invite: a group elsewhere invites one of our people (node/groups.py sends it). The
person is told; joining is then an ordinary Follow of the group, accepted at once."""

from __future__ import annotations

from sqlalchemy import select

from node.db.models import Actor
from node.inbox.registry import InboxContext, handles
from node.notifications import notify


@handles("Invite")
async def apply(ctx: InboxContext) -> None:
    target = ctx.activity.target
    if ctx.actor.type != "Group" or ctx.activity.object_id != ctx.actor.uri or not target:
        ctx.notes.append("only invitations to a group, from the group itself, are understood")
        return
    person = await ctx.db.scalar(select(Actor).where(Actor.uri == target, Actor.local.is_(True)))
    if person is None:
        ctx.notes.append("invitation for someone who is not here: ignored")
        return
    await notify(ctx.db, owner=person, kind="group_invite", from_actor_id=ctx.actor.id)
