"""Remove, the group moderation activity (docs/federation.md, "Groups").

* To a group hosted here, from one of its admins or moderators (on any node: a co-host's
  moderator): take a post, or a member, out of the group. The group then tells every
  member's server (node/groups.py).
* From a group, to a member's server: drop a post of that group.

Anything else is ignored: only a group's own staff moderate it, and only a group
removes posts from itself.
"""

from __future__ import annotations

from sqlalchemy import select

from node import groups
from node.db.models import Actor, Post
from node.db.types import utcnow
from node.errors import CercleError
from node.inbox.registry import InboxContext, InboxRefusal, handles
from node.timelines import announce_deletion


@handles("Remove")
async def apply(ctx: InboxContext) -> None:
    object_id = ctx.activity.object_id
    target = ctx.activity.target or next(iter(ctx.activity.audience), None)
    if not object_id or not target:
        raise InboxRefusal(422, "Remove needs an object and a target group")
    if ctx.actor.type == groups.GROUP and ctx.actor.uri == target:
        await _group_removes_post(ctx, object_id)
        return
    group = await ctx.db.scalar(
        select(Actor).where(Actor.uri == target, Actor.local.is_(True), Actor.type == groups.GROUP)
    )
    if group is None:
        ctx.notes.append("remove from something that is not a group here: ignored")
        return
    try:
        post = await ctx.db.scalar(select(Post).where(Post.uri == object_id))
        if post is not None:
            await groups.remove_post_in(ctx.node, ctx.db, group, ctx.actor, post)
        else:
            member = await ctx.db.scalar(select(Actor).where(Actor.uri == object_id))
            if member is None:
                ctx.notes.append("remove of something unknown: ignored")
                return
            await groups.remove_member_in(ctx.node, ctx.db, group, ctx.actor, member)
    except CercleError as exc:
        # Not staff, not in the group...: the group refuses, and says why.
        raise InboxRefusal(exc.status, exc.message) from exc
    ctx.queued = True


async def _group_removes_post(ctx: InboxContext, post_uri: str) -> None:
    post = await ctx.db.scalar(select(Post).where(Post.uri == post_uri))
    if post is None or post.group_id != ctx.actor.id:
        ctx.notes.append("remove of a post not in that group: ignored")
        return
    if post.deleted_at is None:
        post.deleted_at = utcnow()
        await announce_deletion(ctx.db, post)
