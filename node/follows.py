"""Following: requests, approval (automatic unless the account is locked), undo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.ap.documents import follow_activity, respond_activity, undo_activity
from node.context import Node, transaction
from node.db.models import Actor, Follow, GroupInvitation
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
            if not target.manually_approves or await _invited(db, target, follower):
                row.state = ACCEPTED
            kind = "follow" if row.state == ACCEPTED else "follow_request"
            await notify(db, owner=target, kind=kind, from_actor_id=follower.id)
        else:
            await enqueue(db, sender=follower, activity=activity, inboxes=[target.inbox])
    node.delivery_wakeup.set()
    return row


async def _invited(db: AsyncSession, target: Actor, follower: Actor) -> bool:
    """Invited to a group hosted here: joining needs no approval (node/groups.py)."""
    if target.type != "Group":
        return False
    found = await db.scalar(
        select(GroupInvitation.actor_id).where(
            GroupInvitation.group_id == target.id, GroupInvitation.actor_id == follower.id
        )
    )
    return found is not None


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


# --- listings, paged the way the client API pages them ----------------------------


@dataclass(frozen=True)
class Page:
    """A keyset page: Mastodon's ``max_id`` (older than), ``since_id`` (newer than, newest
    first) and ``min_id`` (immediately newer than: the oldest of them, shown newest first).

    Keys are the time-sortable ids of the rows that make the listing (a Follow, a Block…),
    so each page is one index range scan however long the listing grows.
    """

    limit: int = 40
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None


async def fetch_page(
    db: AsyncSession, query: Select[Any], key: ColumnElement[int], page: Page
) -> list[Row[Any]]:
    """Rows of ``query`` (whose first column is ``key``), newest first, within ``page``.
    A ``limit`` of 0 or less means every row (Mastodon's ``limit=0`` on list members)."""
    if page.max_id is not None:
        query = query.where(key < page.max_id)
    if page.since_id is not None:
        query = query.where(key > page.since_id)
    if page.min_id is not None:
        query = query.where(key > page.min_id).order_by(key.asc())
        if page.limit > 0:
            query = query.limit(page.limit)
        return list((await db.execute(query)).all())[::-1]
    query = query.order_by(key.desc())
    if page.limit > 0:
        query = query.limit(page.limit)
    return list((await db.execute(query)).all())


async def followers_page(db: AsyncSession, actor_id: int, page: Page) -> list[Row[Any]]:
    """``(follow id, follower)`` rows of the accepted followers of ``actor_id``."""
    query = (
        select(Follow.id, Actor)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.followee_id == actor_id, Follow.state == ACCEPTED)
    )
    return await fetch_page(db, query, Follow.id, page)


async def following_page(db: AsyncSession, actor_id: int, page: Page) -> list[Row[Any]]:
    """``(follow id, followee)`` rows of the accounts ``actor_id`` follows (accepted)."""
    query = (
        select(Follow.id, Actor)
        .join(Actor, Actor.id == Follow.followee_id)
        .where(Follow.follower_id == actor_id, Follow.state == ACCEPTED)
    )
    return await fetch_page(db, query, Follow.id, page)


async def pending_requests_page(db: AsyncSession, actor_id: int, page: Page) -> list[Row[Any]]:
    """``(follow id, requester)`` rows of the follow requests waiting for ``actor_id``."""
    query = (
        select(Follow.id, Actor)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.followee_id == actor_id, Follow.state == PENDING)
    )
    return await fetch_page(db, query, Follow.id, page)


async def accept_all_pending(node: Node, db: AsyncSession, followee: Actor) -> int:
    """Approve every waiting request, in the caller's transaction: an account that stops
    being locked would otherwise keep requests nobody will ever answer (Mastodon does the
    same when a profile is unlocked). Returns how many were accepted."""
    rows = (
        await db.execute(
            select(Follow, Actor)
            .join(Actor, Actor.id == Follow.follower_id)
            .where(Follow.followee_id == followee.id, Follow.state == PENDING)
        )
    ).all()
    for row, follower in rows:
        row.state = ACCEPTED
        if not follower.local:
            activity = respond_activity(
                node.urls, "Accept", followee, row.activity_uri, follower.uri
            )
            await enqueue(db, sender=followee, activity=activity, inboxes=[follower.inbox])
    return len(rows)
