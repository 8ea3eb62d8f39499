"""Threads that stay in their audience (docs/federation.md, DESIGN.md section 3).

A reply to a circle or partners post is sent by the replier's node to the original
author's node only: the replier's node does not know the circle, and its own partner
firms are not the author's. The author's node, which knows the audience, stores the reply
with the parent's audience and readers and forwards the reply's Create, unchanged and
with the replier's FEP-8b32 proof, to the parent's other readers. Their nodes accept it
from the forwarder because of that proof (node/inbox/proven_actor.py) and store it with
the parent's audience, since the parent's node vouched for it.

Only a reply by someone allowed to see the parent is treated so; any other reply is
stored as what its addressing says (a message to the people it names) and forwarded to
no one. Group threads (FEP-1b12) are relayed by the group instead; ``forward_reply``
takes any parent and raw activity so that other audiences can use it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.integrity import proof_verification_method, verify_proof
from federation.vocab import APObject
from node import audience as aud
from node.db.models import Actor, Post, PostRecipient
from node.dbutil import insert_ignore
from node.delivery.queue import enqueue, inboxes_for
from node.inbox.proven_actor import ForwardedActivity
from node.inbox.registry import InboxContext
from node.integrity_keys import assertion_key
from node.partners import is_partner_domain, partner_org_actors
from node.remote_posts import store_remote_post
from node.thread_audience import THREAD_AUDIENCES, readers_of, thread_root
from node.timelines import all_local_user_ids
from node.visibility import viewer_can_see

log = logging.getLogger(__name__)


async def store_thread_reply(ctx: InboxContext, obj: APObject) -> Post | None:
    """Store ``obj`` as a reply in a circle or partners thread (and forward it, on the
    node of the thread's first post); None when it is not one, for the caller to store it
    as usual."""
    if not obj.in_reply_to:
        return None
    parent = await ctx.db.scalar(select(Post).where(Post.uri == obj.in_reply_to))
    if parent is None or parent.deleted_at is not None:
        return None
    if parent.audience not in THREAD_AUDIENCES:
        return None
    root = await thread_root(ctx.db, parent)
    if root.local:
        return await _reply_in_our_thread(ctx, obj, parent, root)
    if await _forwarded_by_root_node(ctx, root):
        return await _forwarded_reply(ctx, obj, parent, root)
    return None


async def _reply_in_our_thread(
    ctx: InboxContext, obj: APObject, parent: Post, root: Post
) -> Post | None:
    replier = ctx.actor
    if not await viewer_can_see(ctx.db, replier, parent):
        log.info(
            "reply %s by %s, who cannot see %s: not forwarded", obj.id, replier.uri, parent.uri
        )
        return None
    existing = await ctx.db.scalar(select(Post).where(Post.uri == obj.id))
    if existing is not None:
        return existing  # a second delivery of it (personal and shared inbox): forwarded once
    post = await _store_in_thread(ctx.db, obj, replier, parent)
    if post is None:
        return None
    raw = _proven_create(ctx, obj)
    if raw is None:
        log.info("reply %s carries no valid proof by its author: not forwarded", obj.id)
        return post
    author = await ctx.db.get(Actor, root.actor_id)
    assert author is not None and author.local
    inboxes = await forward_targets(ctx.db, root, replier)
    if await forward_reply(ctx.db, author, raw, inboxes):
        ctx.queued = True
    return post


async def _forwarded_by_root_node(ctx: InboxContext, root: Post) -> bool:
    """Passed on by the server of the thread's first post, which alone knows its audience."""
    if not isinstance(ctx.activity, ForwardedActivity):
        return False
    author = await ctx.db.get(Actor, root.actor_id)
    forwarder = await ctx.db.scalar(select(Actor).where(Actor.uri == ctx.activity.forwarded_by))
    return author is not None and forwarder is not None and forwarder.domain == author.domain


async def _forwarded_reply(
    ctx: InboxContext, obj: APObject, parent: Post, root: Post
) -> Post | None:
    existing = await ctx.db.scalar(select(Post).where(Post.uri == obj.id))
    if existing is not None:
        return existing  # forwarded to several of our people: stored for all of them at once
    if parent.audience == aud.PARTNERS:
        # The thread is the root's firm's: shown here while that firm is our partner.
        author = await ctx.db.get(Actor, root.actor_id)
        if author is None or not await is_partner_domain(ctx.db, author.domain):
            return None
    return await _store_in_thread(ctx.db, obj, ctx.actor, parent)


async def _store_in_thread(
    db: AsyncSession, obj: APObject, replier: Actor, parent: Post
) -> Post | None:
    """The reply with the parent's audience: a circle reply for the parent's readers here
    (its author's node: everyone the post was for, and its author), a partners reply for
    all our accounts."""
    if parent.audience == aud.PARTNERS:
        everyone = await all_local_user_ids(db)
        return await store_remote_post(db, obj, replier, audience=aud.PARTNERS, also_for=everyone)
    readers = await readers_of(db, parent)
    local = [a.id for a in readers if a.local]
    post = await store_remote_post(db, obj, replier, audience=aud.CIRCLE, also_for=local)
    if post is not None:
        # Remote readers: only for who may read it here (no home timeline of theirs).
        rows = [{"post_id": post.id, "actor_id": a.id} for a in readers if not a.local]
        await insert_ignore(db, PostRecipient.__table__, rows)
    return post


def _proven_create(ctx: InboxContext, obj: APObject) -> Mapping[str, Any] | None:
    """The Create of ``obj`` as its author sent it, when its proof verifies: forwarding
    anything else would only get it refused by every receiver."""
    activity, replier = ctx.activity, ctx.actor
    if activity.type != "Create" or activity.object_id != obj.id or activity.actor != replier.uri:
        return None
    raw = activity.raw
    method = proof_verification_method(raw)
    key = assertion_key(replier, method) if method else None
    return raw if key is not None and verify_proof(raw, key) else None


async def forward_targets(db: AsyncSession, root: Post, replier: Actor) -> list[str]:
    """Where a reply in the thread of our post ``root`` is forwarded: the personal inboxes
    of the circle's remote readers, or the partner firms' inboxes; never to the replier's
    own server, which has the reply already."""
    if root.audience == aud.CIRCLE:
        readers = await readers_of(db, root)
        return [a.inbox for a in readers if not a.local and a.inbox and a.domain != replier.domain]
    if root.audience == aud.PARTNERS:
        orgs = [o for o in await partner_org_actors(db) if o.domain != replier.domain]
        return inboxes_for(orgs)
    return []


async def forward_reply(
    db: AsyncSession, forwarder: Actor, activity: Mapping[str, Any], inboxes: Sequence[str]
) -> int:
    """Queue ``activity`` as received (its proof intact) for ``inboxes``, signed at the
    HTTP level by ``forwarder`` (a local actor: the parent's author, or the group)."""
    return await enqueue(db, sender=forwarder, activity=dict(activity), inboxes=inboxes)
