"""How one account stands towards others: follows both ways, blocks, mutes.

Relationship facts are read in a fixed number of queries for any number of accounts, since
clients ask for a whole screen of them at once (``/api/v1/accounts/relationships?id[]=…``).
Blocking and muting live here too: a block ends the follows in both directions and, for a
remote account, is federated (Block, Undo Block) so the peer can hide us from its user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.ap.documents import respond_activity, undo_activity, with_context
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import Actor, Block, Follow, Mute
from node.db.models.follows import ACCEPTED, PENDING
from node.db.types import utcnow
from node.delivery.queue import enqueue
from node.errors import Forbidden, Invalid, NotFound
from node.follows import Page, fetch_page, find_follow, follow, respond
from node.follows import unfollow as end_follow
from node.lists import drop_from_lists


@dataclass(frozen=True)
class Relationship:
    """What ``viewer`` knows of its relation to account ``id`` (Mastodon's Relationship).

    Per-follow preferences (boosts shown, post notifications, languages) and private notes
    are not stored: boosts always show, notifications of new posts are off.
    """

    id: int
    following: bool = False
    requested: bool = False
    followed_by: bool = False
    requested_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False


async def relationships(
    db: AsyncSession, viewer_id: int, target_ids: Iterable[int]
) -> list[Relationship]:
    """Relationships of ``viewer_id`` to each of ``target_ids``, in the order given."""
    ids = list(dict.fromkeys(target_ids))
    if not ids:
        return []
    outgoing = dict(
        (
            await db.execute(
                select(Follow.followee_id, Follow.state).where(
                    Follow.follower_id == viewer_id, Follow.followee_id.in_(ids)
                )
            )
        ).all()
    )
    incoming = dict(
        (
            await db.execute(
                select(Follow.follower_id, Follow.state).where(
                    Follow.followee_id == viewer_id, Follow.follower_id.in_(ids)
                )
            )
        ).all()
    )
    blocks = (
        await db.execute(
            select(Block.blocker_id, Block.blocked_id).where(
                or_(
                    (Block.blocker_id == viewer_id) & Block.blocked_id.in_(ids),
                    (Block.blocked_id == viewer_id) & Block.blocker_id.in_(ids),
                )
            )
        )
    ).all()
    blocking = {blocked for blocker, blocked in blocks if blocker == viewer_id}
    blocked_by = {blocker for blocker, blocked in blocks if blocked == viewer_id}
    mutes = dict(
        (
            await db.execute(
                select(Mute.target_id, Mute.notifications).where(
                    Mute.actor_id == viewer_id, Mute.target_id.in_(ids), _mute_active()
                )
            )
        ).all()
    )
    return [
        Relationship(
            id=i,
            following=outgoing.get(i) == ACCEPTED,
            requested=outgoing.get(i) == PENDING,
            followed_by=incoming.get(i) == ACCEPTED,
            requested_by=incoming.get(i) == PENDING,
            blocking=i in blocking,
            blocked_by=i in blocked_by,
            muting=i in mutes,
            muting_notifications=bool(mutes.get(i)),
        )
        for i in ids
    ]


async def relationship(db: AsyncSession, viewer_id: int, target_id: int) -> Relationship:
    return (await relationships(db, viewer_id, [target_id]))[0]


async def blocked_either_way(db: AsyncSession, a_id: int, b_id: int) -> bool:
    """Does either account block the other? No follow may start then."""
    row = await db.scalar(
        select(Block.id).where(
            or_(
                (Block.blocker_id == a_id) & (Block.blocked_id == b_id),
                (Block.blocker_id == b_id) & (Block.blocked_id == a_id),
            )
        )
    )
    return row is not None


def _mute_active() -> Any:
    """A timed mute ends by itself: expired rows are ignored rather than swept away."""
    return or_(Mute.expires_at.is_(None), Mute.expires_at > utcnow())


# --- following, with blocks and lists taken into account ----------------------------


async def follow_account(node: Node, follower: Actor, target: Actor) -> Follow:
    """Follow (or ask to follow) ``target``; refused while either side blocks the other."""
    async with node.reads() as db:
        if await blocked_either_way(db, follower.id, target.id):
            raise Forbidden("This action is not allowed")
    return await follow(node, follower, target)


async def unfollow_account(node: Node, follower: Actor, target: Actor) -> None:
    """Stop following (or withdraw a request); the account also leaves the follower's
    lists, which may only hold followed accounts."""
    await end_follow(node, follower, target)
    async with transaction(node) as db:
        await drop_from_lists(db, follower.id, target.id)


async def remove_follower(node: Node, followee: Actor, follower: Actor) -> None:
    """Drop ``follower`` (a remote one is sent a Reject of its Follow, which Mastodon and
    Cercle read as "you no longer follow"). Not following already is not an error."""
    try:
        await respond(node, followee, follower, accept=False)
    except NotFound:
        return


async def answer_request(node: Node, followee: Actor, requester: Actor, *, accept: bool) -> None:
    """Authorize or reject a waiting follow request; 404 when there is none."""
    async with node.reads() as db:
        row = await find_follow(db, requester.id, followee.id)
    if row is None or row.state != PENDING:
        raise NotFound("Record not found")
    await respond(node, followee, requester, accept=accept)


# --- blocks -----------------------------------------------------------------------


def block_activity(node: Node, blocker: Actor, target: Actor) -> dict[str, Any]:
    return with_context(
        {
            "id": node.urls.activity(new_id()),
            "type": "Block",
            "actor": blocker.uri,
            "object": target.uri,
        }
    )


async def block(node: Node, blocker: Actor, target: Actor) -> None:
    """Block ``target``: both follows (and requests) end, the target leaves the blocker's
    lists, and a remote target's server is told — Undo of our Follow, Reject of theirs
    and the Block itself, as Mastodon sends them — in the same transaction."""
    if blocker.id == target.id:
        raise Invalid("you cannot block yourself")
    async with transaction(node) as db:
        existing = await db.scalar(
            select(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == target.id)
        )
        if existing is not None:
            return
        activity = block_activity(node, blocker, target)
        db.add(Block(blocker_id=blocker.id, blocked_id=target.id, activity_uri=activity["id"]))
        ours, theirs = await _end_follows(db, blocker, target)
        await drop_from_lists(db, blocker.id, target.id)
        if not target.local:
            if ours is not None:
                inner = {
                    "id": ours.activity_uri,
                    "type": "Follow",
                    "actor": blocker.uri,
                    "object": target.uri,
                }
                await _send(db, blocker, target, undo_activity(node.urls, blocker, inner))
            if theirs is not None:
                reject = respond_activity(
                    node.urls, "Reject", blocker, theirs.activity_uri, target.uri
                )
                await _send(db, blocker, target, reject)
            await _send(db, blocker, target, activity)
    node.delivery_wakeup.set()


async def unblock(node: Node, blocker: Actor, target: Actor) -> None:
    """Lift a block; a remote target's server gets an Undo of the original Block."""
    async with transaction(node) as db:
        row = await db.scalar(
            select(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == target.id)
        )
        if row is None:
            return
        await db.delete(row)
        if not target.local:
            inner = {
                "id": row.activity_uri,
                "type": "Block",
                "actor": blocker.uri,
                "object": target.uri,
            }
            await _send(db, blocker, target, undo_activity(node.urls, blocker, inner))
    node.delivery_wakeup.set()


async def _end_follows(
    db: AsyncSession, blocker: Actor, target: Actor
) -> tuple[Follow | None, Follow | None]:
    """Delete the follows (or requests) both ways; returns (ours, theirs) as they were."""
    rows = list(
        await db.scalars(
            select(Follow).where(
                or_(
                    (Follow.follower_id == blocker.id) & (Follow.followee_id == target.id),
                    (Follow.follower_id == target.id) & (Follow.followee_id == blocker.id),
                )
            )
        )
    )
    ours = next((r for r in rows if r.follower_id == blocker.id), None)
    theirs = next((r for r in rows if r.follower_id == target.id), None)
    if rows:
        await db.execute(delete(Follow).where(Follow.id.in_([r.id for r in rows])))
    return ours, theirs


async def _send(db: AsyncSession, sender: Actor, target: Actor, activity: dict[str, Any]) -> None:
    # Personal inbox, not the shared one: these activities concern one actor only.
    await enqueue(db, sender=sender, activity=activity, inboxes=[target.inbox])


async def blocks_page(db: AsyncSession, blocker_id: int, page: Page) -> list[Row[Any]]:
    """``(block id, blocked actor)`` rows, newest block first."""
    query = (
        select(Block.id, Actor)
        .join(Actor, Actor.id == Block.blocked_id)
        .where(Block.blocker_id == blocker_id)
    )
    return await fetch_page(db, query, Block.id, page)


# --- mutes ------------------------------------------------------------------------


async def mute(
    node: Node, actor: Actor, target: Actor, *, notifications: bool = True, duration: int = 0
) -> None:
    """Mute ``target`` (and its notifications unless told otherwise) for ``duration``
    seconds, 0 meaning until unmuted. Muting again updates the existing mute, as the
    client API promises. Mutes are private: nothing is federated."""
    if actor.id == target.id:
        raise Invalid("you cannot mute yourself")
    if duration < 0:
        raise Invalid("duration must be 0 or a number of seconds")
    expires_at = utcnow() + timedelta(seconds=duration) if duration else None
    async with transaction(node) as db:
        row = await db.scalar(
            select(Mute).where(Mute.actor_id == actor.id, Mute.target_id == target.id)
        )
        if row is None:
            row = Mute(actor_id=actor.id, target_id=target.id)
            db.add(row)
        row.notifications = notifications
        row.expires_at = expires_at


async def unmute(node: Node, actor: Actor, target: Actor) -> None:
    async with transaction(node) as db:
        await db.execute(delete(Mute).where(Mute.actor_id == actor.id, Mute.target_id == target.id))


async def mutes_page(db: AsyncSession, actor_id: int, page: Page) -> list[Row[Any]]:
    """``(mute id, muted actor, expires_at)`` rows of the mutes still in force."""
    query = (
        select(Mute.id, Actor, Mute.expires_at)
        .join(Actor, Actor.id == Mute.target_id)
        .where(Mute.actor_id == actor_id, _mute_active())
    )
    return await fetch_page(db, query, Mute.id, page)
