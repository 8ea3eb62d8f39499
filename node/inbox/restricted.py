"""Received posts whose readers the addressing alone does not say (DESIGN.md section 3).

* A partner firm's ``partners`` post is addressed to our Organization actor: it is for
  everyone here, but only while that firm is an active partner (a firm that is not gets
  its post ignored, not shown to anyone).
* A circle post (Mastodon's "limited" posts too) comes to each addressee's personal
  inbox and names none of them: the inbox it came to says whom it is for. It is stored
  once, as a ``circle`` post readable by the owners of the inboxes it came to; each
  further delivery adds its addressee (node/inbox/receipts.py keeps them apart).
"""

from __future__ import annotations

from sqlalchemy import select

from federation.vocab import APObject
from node import audience as aud
from node.db.models import Actor, Mention, Post, PostRecipient
from node.dbutil import insert_ignore
from node.inbox.forwarding import store_thread_reply
from node.inbox.group_posts import local_group_addressed, receive_for_group
from node.inbox.registry import InboxContext
from node.partners import is_partner_domain
from node.remote_posts import addressees, store_remote_post
from node.timelines import add_to_timelines, all_local_user_ids

NOT_A_PARTNER = "partners post from a firm that is not a partner: ignored"


def received_audience(obj: APObject, author: Actor, org_uri: str) -> str:
    return aud.audience_from_addressing(
        [*obj.to, *obj.bto],
        [*obj.cc, *obj.bcc],
        followers_url=author.followers_url,
        local_org_uri=org_uri,
    )


async def store_received_post(ctx: InboxContext, obj: APObject) -> Post | None:
    """Store a received post with the audience it has here; None when it concerns nobody
    here (or may not be shown: ``ctx.notes`` says why)."""
    author = ctx.actor
    group = await local_group_addressed(ctx, obj)
    if group is not None:
        return await receive_for_group(ctx, obj, group)
    if (threaded := await store_thread_reply(ctx, obj)) is not None:  # inbox/forwarding.py
        return threaded
    audience = received_audience(obj, author, ctx.node.urls.org())
    if audience == aud.PARTNERS:
        if not await is_partner_domain(ctx.db, author.domain):
            ctx.notes.append(NOT_A_PARTNER)
            return None
        everyone = await all_local_user_ids(ctx.db)
        return await store_remote_post(
            ctx.db, obj, author, audience=aud.PARTNERS, also_for=everyone
        )
    if audience == aud.DIRECT and ctx.recipient:
        reader = await _local_user(ctx, ctx.recipient)
        if reader is not None and reader.uri not in addressees(obj):
            existing = await ctx.db.scalar(select(Post).where(Post.uri == obj.id))
            if existing is not None:
                await add_reader(ctx, existing, reader)
                return existing
            return await store_remote_post(
                ctx.db, obj, author, audience=aud.CIRCLE, also_for=[reader.id]
            )
    return await store_remote_post(ctx.db, obj, author)


async def _local_user(ctx: InboxContext, username: str) -> Actor | None:
    return await ctx.db.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == username.lower())
    )


async def add_reader(ctx: InboxContext, post: Post, reader: Actor) -> None:
    """One more addressee of a post stored already (as Mastodon adds the inbox owner of
    each delivery to a limited post as a silent mention)."""
    if post.audience not in aud.LISTED_AUDIENCES or post.actor_id != ctx.actor.id:
        return
    readers = {reader.id}
    if post.audience == aud.DIRECT:
        # It was a direct message to the people it named; now it is for them and the
        # owner of this inbox.
        post.audience = aud.CIRCLE
        readers |= set(
            await ctx.db.scalars(select(Mention.actor_id).where(Mention.post_id == post.id))
        )
    await insert_ignore(
        ctx.db, PostRecipient.__table__, [{"post_id": post.id, "actor_id": a} for a in readers]
    )
    await add_to_timelines(ctx.db, post.id, [reader.id])
