"""Following: requests, approval (automatic unless the account is locked), undo."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.ap.documents import follow_activity, respond_activity, undo_activity
from node.context import Node, transaction
from node.db.models import Actor, Follow
from node.db.models.follows import ACCEPTED, PENDING
from node.delivery.queue import enqueue
from node.errors import Invalid, NotFound
from node.notifications import notify


async def follow(node: Node, follower: Actor, target: Actor) -> Follow:
    """Ask to follow ``target``; a repeat request returns the existing relationship."""
    if follower.id == target.id:
        raise Invalid("you cannot follow yourself")
    async with transaction(node) as db:
        existing = await find_follow(db, follower.id, target.id)
        if existing is not None:
            return existing
        activity = follow_activity(node.urls, follower, target)
        row = Follow(
            follower_id=follower.id,
            followee_id=target.id,
            state=PENDING,
            activity_uri=activity["id"],
        )
        db.add(row)
        if target.local:
            if not target.manually_approves:
                row.state = ACCEPTED
            kind = "follow" if row.state == ACCEPTED else "follow_request"
            await notify(db, owner=target, kind=kind, from_actor_id=follower.id)
        else:
            await enqueue(db, sender=follower, activity=activity, inboxes=[target.inbox])
    node.delivery_wakeup.set()
    return row


async def find_follow(db: AsyncSession, follower_id: int, followee_id: int) -> Follow | None:
    return await db.scalar(
        select(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
    )


async def respond(node: Node, followee: Actor, follower: Actor, *, accept: bool) -> None:
    """Approve or refuse a pending request to a local (locked) account."""
    async with transaction(node) as db:
        row = await find_follow(db, follower.id, followee.id)
        if row is None:
            raise NotFound(f"no follow request from {follower.handle}")
        if accept:
            row.state = ACCEPTED
        else:
            await db.delete(row)
        if not follower.local:
            activity = respond_activity(
                node.urls,
                "Accept" if accept else "Reject",
                followee,
                row.activity_uri,
                follower.uri,
            )
            await enqueue(db, sender=followee, activity=activity, inboxes=[follower.inbox])
    node.delivery_wakeup.set()


async def unfollow(node: Node, follower: Actor, target: Actor) -> bool:
    async with transaction(node) as db:
        row = await find_follow(db, follower.id, target.id)
        if row is None:
            return False
        await db.execute(delete(Follow).where(Follow.id == row.id))
        if not target.local:
            inner = {
                "id": row.activity_uri,
                "type": "Follow",
                "actor": follower.uri,
                "object": target.uri,
            }
            await enqueue(
                db,
                sender=follower,
                activity=undo_activity(node.urls, follower, inner),
                inboxes=[target.inbox],
            )
    node.delivery_wakeup.set()
    return True


async def follower_actors(db: AsyncSession, actor_id: int) -> list[Actor]:
    rows = await db.scalars(
        select(Actor)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.followee_id == actor_id, Follow.state == ACCEPTED)
    )
    return list(rows)


async def following_ids(db: AsyncSession, actor_id: int) -> frozenset[int]:
    rows = await db.scalars(
        select(Follow.followee_id).where(Follow.follower_id == actor_id, Follow.state == ACCEPTED)
    )
    return frozenset(rows)
