"""Account moves, both ways, as Mastodon does them.

Outgoing: the new account lists the old one in ``alsoKnownAs`` (an alias, set on the
new account's server), then the old account moves: it gets ``movedTo`` and sends
``Move {actor: old, object: old, target: new}`` to its followers' servers. Mastodon
refuses a move whose target does not list the old account; so does Cercle, on both ends.

Incoming: a peer's ``Move`` of its own actor is checked against the target's freshly
fetched document (``alsoKnownAs`` must hold the old actor); then each local follower
of the old account follows the new one (``Follow`` sent) and stops following the old
one (``Undo`` sent), as Mastodon's ``MoveWorker`` does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import require_user_actor
from node.ap.documents import follow_activity, undo_activity, update_actor_activity, with_context
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import Actor, Follow
from node.db.models.follows import ACCEPTED, PENDING
from node.delivery.queue import enqueue, inboxes_for
from node.errors import Invalid
from node.follows import follower_actors
from node.notifications import notify
from node.remote_actors import get_or_fetch_actor, resolve_account

#: Mastodon lets an account list this many aliases.
ALIAS_LIMIT = 10


def aliases_of(actor: Actor) -> list[str]:
    found = (actor.raw or {}).get("alsoKnownAs") or []
    if isinstance(found, str):
        found = [found]
    return [a for a in found if isinstance(a, str)]


def move_activity(urls_activity: str, old: Actor, new_uri: str) -> dict[str, Any]:
    return with_context(
        {
            "id": urls_activity,
            "type": "Move",
            "actor": old.uri,
            "object": old.uri,
            "target": new_uri,
        }
    )


async def _announce_profile(node: Node, db: AsyncSession, actor: Actor) -> bool:
    """Send the changed actor document (``Update``) to the followers' servers."""
    followers = await follower_actors(db, actor.id)
    return bool(
        await enqueue(
            db,
            sender=actor,
            activity=update_actor_activity(node.urls, actor),
            inboxes=inboxes_for(followers),
        )
    )


async def set_aliases(node: Node, username: str, handles: list[str]) -> list[str]:
    """Replace the account's ``alsoKnownAs`` with the accounts ``handles`` name
    (``user@domain`` or actor URLs, resolved by WebFinger). An empty list clears it."""
    if len(handles) > ALIAS_LIMIT:
        raise Invalid(f"at most {ALIAS_LIMIT} aliases")
    uris = []
    for handle in handles:
        uris.append((await resolve_account(node, handle)).uri)
    async with transaction(node) as db:
        _, me = await require_user_actor(db, username)
        if me.uri in uris:
            raise Invalid("an account cannot be its own alias")
        me.raw = {**(me.raw or {}), "alsoKnownAs": list(dict.fromkeys(uris))}
        queued = await _announce_profile(node, db, me)
    if queued:
        node.delivery_wakeup.set()
    return uris


async def move_account(node: Node, username: str, target_handle: str) -> Actor:
    """Move the local account to ``target_handle``, which must list it as an alias;
    returns the target. The old account keeps existing, marked moved."""
    target = await resolve_account(node, target_handle)
    if not target.local:
        target = await get_or_fetch_actor(node, target.uri, refresh=True)
    async with transaction(node) as db:
        _, me = await require_user_actor(db, username)
        if target.id == me.id:
            raise Invalid("an account cannot move to itself")
        if me.uri not in aliases_of(target):
            raise Invalid(
                f"{target.handle} does not list {me.handle} in alsoKnownAs: "
                "add the alias on the new account first"
            )
        me.raw = {**(me.raw or {}), "movedTo": target.uri}
        followers = await follower_actors(db, me.id)
        await enqueue(
            db,
            sender=me,
            activity=move_activity(node.urls.activity(new_id()), me, target.uri),
            inboxes=inboxes_for(followers),
        )
        await _announce_profile(node, db, me)
        await migrate_local_followers(node, db, me, target)
    node.delivery_wakeup.set()
    return target


async def verified_target(
    node: Node, old: Actor, object_uri: str | None, target_uri: str | None
) -> Actor:
    """The target of a received ``Move``, fetched afresh; Invalid when the move is not
    the actor's own or the target does not list the old actor in ``alsoKnownAs``."""
    if not target_uri or object_uri != old.uri:
        raise Invalid("a Move must move its own actor and name a target")
    if target_uri == old.uri:
        raise Invalid("a Move cannot target the moving account")
    target = await get_or_fetch_actor(node, target_uri, refresh=True)
    if old.uri not in aliases_of(target):
        raise Invalid("the Move target does not list the moving account in alsoKnownAs")
    return target


async def migrate_local_followers(node: Node, db: AsyncSession, old: Actor, new: Actor) -> int:
    """Each local follower of ``old`` follows ``new`` and stops following ``old``; returns
    how many moved. Runs in the caller's transaction."""
    rows = (
        await db.execute(
            select(Follow, Actor)
            .join(Actor, Actor.id == Follow.follower_id)
            .where(Follow.followee_id == old.id, Follow.state == ACCEPTED, Actor.local.is_(True))
        )
    ).all()
    moved = 0
    for follow_row, follower in rows:
        if follower.id == new.id:
            continue
        existing = await db.scalar(
            select(Follow).where(Follow.follower_id == follower.id, Follow.followee_id == new.id)
        )
        if existing is None:
            activity = follow_activity(node.urls, follower, new)
            row = Follow(
                follower_id=follower.id,
                followee_id=new.id,
                state=PENDING,
                activity_uri=activity["id"],
            )
            db.add(row)
            if new.local:
                if not new.manually_approves:
                    row.state = ACCEPTED
                await notify(
                    db,
                    owner=new,
                    kind="follow" if row.state == ACCEPTED else "follow_request",
                    from_actor_id=follower.id,
                )
            else:
                await enqueue(db, sender=follower, activity=activity, inboxes=[new.inbox])
        if not old.local:
            inner = {
                "id": follow_row.activity_uri,
                "type": "Follow",
                "actor": follower.uri,
                "object": old.uri,
            }
            await enqueue(
                db,
                sender=follower,
                activity=undo_activity(node.urls, follower, inner),
                inboxes=[old.inbox],
            )
        await db.delete(follow_row)
        moved += 1
    return moved
