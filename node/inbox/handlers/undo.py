"""Undo of a Follow, Like, Announce or Block sent earlier by the same actor."""

from __future__ import annotations

from sqlalchemy import select, update

from node.db.models import Actor, Block, Like, Post
from node.db.types import utcnow
from node.inbox.handlers._follow_ref import referenced_follow
from node.inbox.handlers._partnership import after_org_follow_change
from node.inbox.registry import InboxContext, handles


def _inner_type(inner: object) -> str | None:
    return inner.get("type") if isinstance(inner, dict) else None


def _inner_id(inner: object) -> str | None:
    if isinstance(inner, str):
        return inner
    return inner.get("id") if isinstance(inner, dict) else None


@handles("Undo")
async def apply(ctx: InboxContext) -> None:
    inner = ctx.activity.object
    kind = _inner_type(inner)
    inner_id = _inner_id(inner)
    if (
        isinstance(inner, dict)
        and inner.get("actor") not in (None, ctx.actor.uri)
        and not (isinstance(inner.get("actor"), dict) and inner["actor"].get("id") == ctx.actor.uri)
    ):
        ctx.notes.append("undo of someone else's activity ignored")
        return
    if kind in (None, "Follow"):
        row = await referenced_follow(ctx, {"id": inner_id} if kind is None else inner)
        if row is not None and row.follower_id == ctx.actor.id:
            await ctx.db.delete(row)
            followee = await ctx.db.get(Actor, row.followee_id)
            if followee is not None:
                await after_org_follow_change(ctx, ctx.actor, followee)
            return
    if kind in (None, "Like", "EmojiReact"):
        like = await ctx.db.scalar(
            select(Like).where(Like.uri == inner_id, Like.actor_id == ctx.actor.id)
        )
        if like is not None:
            await ctx.db.delete(like)
            await ctx.db.execute(
                update(Post).where(Post.id == like.post_id).values(likes_count=Post.likes_count - 1)
            )
            return
    if kind in (None, "Announce"):
        boost = await ctx.db.scalar(
            select(Post).where(
                Post.uri == inner_id, Post.actor_id == ctx.actor.id, Post.deleted_at.is_(None)
            )
        )
        if boost is not None and boost.reblog_of_id is not None:
            boost.deleted_at = utcnow()
            await ctx.db.execute(
                update(Post)
                .where(Post.id == boost.reblog_of_id)
                .values(reblogs_count=Post.reblogs_count - 1)
            )
            return
    if kind in (None, "Block"):
        block = await ctx.db.scalar(
            select(Block).where(Block.activity_uri == inner_id, Block.blocker_id == ctx.actor.id)
        )
        if block is not None:
            await ctx.db.delete(block)
            return
    ctx.notes.append("undo of an unknown activity ignored")
