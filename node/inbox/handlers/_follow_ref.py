"""Finding which Follow an Accept, Reject or Undo refers to."""

from __future__ import annotations

from sqlalchemy import select

from node.db.models import Actor, Follow
from node.inbox.registry import InboxContext


async def referenced_follow(ctx: InboxContext, inner: dict | str | None) -> Follow | None:
    """By the Follow's id first; else by its actor, as some servers send only an id
    we never minted or an embedded Follow without id."""
    follow_id = inner if isinstance(inner, str) else (inner or {}).get("id")
    if follow_id:
        row = await ctx.db.scalar(select(Follow).where(Follow.activity_uri == follow_id))
        if row is not None:
            return row
    if isinstance(inner, dict):
        follower_uri = inner.get("actor")
        if isinstance(follower_uri, dict):
            follower_uri = follower_uri.get("id")
        follower = await ctx.db.scalar(
            select(Actor).where(Actor.uri == follower_uri, Actor.local.is_(True))
        )
        if follower is not None:
            return await ctx.db.scalar(
                select(Follow).where(
                    Follow.follower_id == follower.id, Follow.followee_id == ctx.actor.id
                )
            )
    return None
