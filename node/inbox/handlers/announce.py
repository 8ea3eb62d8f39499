"""Announce (boost) of a post: kept as a post pointing at the boosted one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from federation.errors import FetchError, ValidationError
from federation.integrity import proof_verification_method, verify_proof
from federation.vocab import ACTIVITY_TYPES, parse_activity, parse_object
from node import audience as aud
from node.db.ids import new_id
from node.db.models import Actor, Post
from node.db.types import utcnow
from node.groups import GROUP
from node.inbox.group_posts import store_group_post
from node.inbox.handlers._objects import embedded_or_fetched
from node.inbox.registry import InboxContext, InboxRefusal, handles
from node.integrity_keys import assertion_key
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
    embedded = isinstance(inner.object, dict)
    if embedded and host_of(inner.object_id or "") == host_of(group.uri):
        obj_doc = inner.object
    elif embedded and await _proven_by_actor(node, activity.object, inner.actor):
        # A members-only group's post by a member elsewhere cannot be refetched by us
        # (its author's server shows it to members only): its author's proof vouches.
        obj_doc = inner.object
    else:
        try:
            fetched = inner.object_id and await node.require_fetcher().get_json(inner.object_id)
        except FetchError:
            return None
        obj_doc = fetched if isinstance(fetched, dict) else None
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


async def _proven_by_actor(node: Any, doc: Any, actor_uri: str) -> bool:
    """``doc`` carries a FEP-8b32 proof made with one of ``actor_uri``'s own keys."""
    method = proof_verification_method(doc) if isinstance(doc, dict) else None
    if method is None:
        return False
    try:
        actor = await get_or_fetch_actor(node, actor_uri)
    except FetchError:
        return False
    key = assertion_key(actor, method)
    return key is not None and verify_proof(doc, key)


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
        post = await store_group_post(ctx, obj, await ctx.db.merge(author), ctx.actor)
        if post is None:
            ctx.notes.append("relayed post concerns nobody here: not stored")
        return
    original = await ctx.db.scalar(select(Post).where(Post.uri == ctx.activity.object_id))
    if ctx.actor.type == GROUP:
        # A group's boost of a post (a public group, FEP-1b12 as Mastodon can read it)
        # is the post itself, in that group.
        if original is None and isinstance(ctx.prepared, tuple):
            obj, author = ctx.prepared
            original = await store_group_post(ctx, obj, await ctx.db.merge(author), ctx.actor)
        elif original is not None and original.group_id is None and not original.local:
            original.group_id = ctx.actor.id
        if original is None:
            ctx.notes.append("group post concerns nobody here: not stored")
        return
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
