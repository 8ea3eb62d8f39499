"""Posts to and from groups (FEP-1b12, DESIGN.md section 3).

* As the group's host: a member's post addressed to one of our groups (in ``to``/``cc``,
  in ``audience``, or by a mention, as any Mastodon client addresses a group) is stored
  as a group post and Announced by the group to its members' servers. A non-member's is
  not stored: a group speaks only for its members.
* As a member's server: a group's Announce of a post is the post itself, stored as a
  post of that group (not a boost), shown to the group's members here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from federation.vocab import APObject
from node import audience as aud
from node import groups
from node.db.models import Actor, Post
from node.inbox.registry import InboxContext
from node.remote_posts import addressees, store_remote_post
from node.timelines import local_follower_ids

NOT_A_MEMBER = "post to a group from someone who is not a member: not stored"


async def local_group_addressed(ctx: InboxContext, obj: APObject) -> Actor | None:
    """The group hosted here that ``obj`` is addressed to, if any."""
    uris = [*obj.audience, *addressees(obj)]
    candidates = [u for u in uris if u.startswith(ctx.node.urls.base + "/groups/")]
    if not candidates:
        return None
    return await ctx.db.scalar(
        select(Actor).where(
            Actor.uri.in_(candidates), Actor.local.is_(True), Actor.type == groups.GROUP
        )
    )


async def receive_for_group(ctx: InboxContext, obj: APObject, group: Actor) -> Post | None:
    """As the host of ``group``: store a member's post and relay it to the members."""
    author = ctx.actor
    if not await groups.is_member(ctx.db, group.id, author.id):
        ctx.notes.append(NOT_A_MEMBER)
        return None
    settings = await groups.group_settings(ctx.db, group.id)
    members_only = settings is None or settings.members_only
    post = await store_group_post(ctx, obj, author, group)
    if post is None:
        return None
    inner: dict[str, Any] | str = dict(ctx.activity.raw) if members_only else post.uri
    await groups.relay(
        ctx.db, group, inner, members_only=members_only, skip_domains=[author.domain]
    )
    ctx.queued = True
    return post


async def store_group_post(
    ctx: InboxContext, obj: APObject, author: Actor, group: Actor
) -> Post | None:
    """Store ``obj`` as a post of ``group``, in the home timelines of its members here."""
    existing = await ctx.db.scalar(select(Post).where(Post.uri == obj.id))
    if existing is not None:
        return existing
    member_ids = await local_follower_ids(ctx.db, group.id)
    post = await store_remote_post(
        ctx.db,
        obj,
        author,
        audience=group_audience(obj, group),
        also_for=member_ids,
    )
    if post is not None:
        post.group_id = group.id
    return post


def group_audience(obj: APObject, group: Actor) -> str:
    """A group's post is a group post, whatever else its addressing says; a post that
    only mentions a group from a Mastodon client keeps its own (public) audience."""
    addressed = aud.audience_from_addressing(
        obj.to, obj.cc, followers_url=None, group_uris=[group.uri], audience_field=obj.audience
    )
    return addressed if addressed in aud.OPEN_AUDIENCES else aud.GROUP
