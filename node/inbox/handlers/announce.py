"""Announce (boost) of a post: kept as a post pointing at the boosted one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from federation.errors import FetchError, ValidationError
from federation.vocab import ACTIVITY_TYPES, parse_activity, parse_object
from node import audience as aud
from node.db.ids import new_id
from node.db.models import Actor, Post
from node.db.types import utcnow
from node.inbox.handlers._objects import embedded_or_fetched
from node.inbox.registry import InboxContext, InboxRefusal, handles
from node.notifications import notify
from node.remote_actors import get_or_fetch_actor, host_of
from node.remote_posts import has_local_followers, store_remote_post
from node.timelines import add_to_timelines, local_follower_ids

RELAYED = "relayed"


async def _prepare_relayed(node: Any, activity: Any, group: Any) -> Any:
    """A Group announcing a Create it received (FEP-1b12, as Lemmy does): the post is
    trusted as embedded when it lives on the group's own server, else refetched from
    its origin, so a group cannot put words in a remote member's mouth."""
    try:
        inner = parse_activity(activity.object)
    except ValidationError as exc:
        raise InboxRefusal(422, f"relayed activity: {exc.reason}") from exc
    if inner.type != "Create":
        raise InboxRefusal(422, f"relayed {inner.type} activities are not supported")
    if not isinstance(inner.object, dict) or host_of(inner.object_id or "") != host_of(group.uri):
        fetched = inner.object_id and await node.require_fetcher().get_json(inner.object_id)
        obj_doc = fetched if isinstance(fetched, dict) else None
    else:
        obj_doc = inner.object
    if obj_doc is None:
        return None
    try:
        obj = parse_object(obj_doc)
    except ValidationError as exc:
        raise InboxRefusal(422, f"relayed object: {exc.reason}") from exc
    if obj.attributed_to != inner.actor:
        raise InboxRefusal(422, "relayed post is not attributed to the relayed actor")
    try:
        author = await get_or_fetch_actor(node, inner.actor)
    except FetchError:
        return None
    return RELAYED, obj, author


async def _prepare(node: Any, activity: Any, actor: Any) -> Any:
    """Boosts of our own posts need nothing; others need the boosted post and its author."""
    if isinstance(activity.object, dict) and activity.object.get("type") in ACTIVITY_TYPES:
        return await _prepare_relayed(node, activity, actor)
    object_id = activity.object_id
    async with node.reads() as db:
        known = await db.scalar(select(Post.id).where(Post.uri == object_id))
        followed = await has_local_followers(db, actor.id)
    if known is not None or not followed:
        return None
    obj = await embedded_or_fetched(node, activity, actor)
    if obj is None or not obj.attributed_to:
        return None
    try:
        author = await get_or_fetch_actor(node, obj.attributed_to)
    except FetchError:
        return None
    return obj, author


@handles("Announce", prepare=_prepare)
async def apply(ctx: InboxContext) -> None:
    if isinstance(ctx.prepared, tuple) and ctx.prepared[0] == RELAYED:
        _, obj, author = ctx.prepared
        post = await store_remote_post(ctx.db, obj, await ctx.db.merge(author), via=ctx.actor)
        if post is None:
            ctx.notes.append("relayed post concerns nobody here: not stored")
        return
    original = await ctx.db.scalar(select(Post).where(Post.uri == ctx.activity.object_id))
    if original is None and isinstance(ctx.prepared, tuple):
        obj, author = ctx.prepared
        author = await ctx.db.merge(author)
        original = await store_remote_post(ctx.db, obj, author)
    if original is None or original.deleted_at is not None:
        ctx.notes.append("announce of an unknown post ignored")
        return
    if original.audience not in aud.OPEN_AUDIENCES:
        ctx.notes.append("announce of a non-public post ignored")
        return
    if await ctx.db.scalar(select(Post.id).where(Post.uri == ctx.activity.id)):
        return
    published = ctx.activity.published or utcnow()
    boost = Post(
        id=new_id(published),
        uri=ctx.activity.id,
        actor_id=ctx.actor.id,
        local=False,
        type="Announce",
        audience=aud.audience_from_addressing(
            ctx.activity.to, ctx.activity.cc, followers_url=ctx.actor.followers_url
        ),
        reblog_of_id=original.id,
        to=list(ctx.activity.to),
        cc=list(ctx.activity.cc),
        published=published,
    )
    ctx.db.add(boost)
    await ctx.db.flush()
    await ctx.db.execute(
        update(Post).where(Post.id == original.id).values(reblogs_count=Post.reblogs_count + 1)
    )
    await add_to_timelines(ctx.db, boost.id, await local_follower_ids(ctx.db, ctx.actor.id))
    author = await ctx.db.get(Actor, original.actor_id)
    if author is not None:
        await notify(
            ctx.db, owner=author, kind="reblog", from_actor_id=ctx.actor.id, post_id=original.id
        )
