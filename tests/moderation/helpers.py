"""Shared steps of the moderation tests: follows across nodes, delivery outcomes."""

from __future__ import annotations

from sqlalchemy import select

from node.db.models import Delivery, Follow
from node.db.models.follows import ACCEPTED
from node.follows import follow
from node.remote_actors import resolve_account
from tests.harness import RunningNode, wait_for

ADMIN_SCOPES = "read write admin:read admin:write"


async def follows(node: RunningNode, follower: str, followee_uri: str) -> bool:
    """Whether ``follower`` (local on ``node``) follows ``followee_uri``, accepted."""
    me = await node.actor(follower)
    target = await node.actor_by_uri(followee_uri)
    if target is None:
        return False
    async with node.node.reads() as db:
        state = await db.scalar(
            select(Follow.state).where(Follow.follower_id == me.id, Follow.followee_id == target.id)
        )
    return state == ACCEPTED


async def make_follow(node: RunningNode, follower: str, other: RunningNode, followee: str) -> None:
    """``follower`` on ``node`` follows ``followee`` on ``other`` and waits for the Accept."""
    me = await node.actor(follower)
    target = await resolve_account(node.node, other.handle(followee))
    await follow(node.node, me, target)
    await wait_for(lambda: follows(node, follower, other.actor_uri(followee)))


async def delivery_outcome(node: RunningNode, activity_uri: str) -> tuple[str, int | None] | None:
    """(state, last HTTP status) of the delivery of one activity, once it is finished."""
    async with node.node.reads() as db:
        row = await db.scalar(select(Delivery).where(Delivery.activity_uri == activity_uri))
    if row is None or row.state not in ("done", "dead"):
        return None
    return row.state, row.last_status
