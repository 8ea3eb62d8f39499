"""The admins' actions, with Mastodon's effects (``POST /api/v1/admin/accounts/:id/action``).

* ``none``: a warning only; with a report, the report is resolved.
* ``sensitive``: the account's posts are marked sensitive.
* ``disable``: a local account can no longer sign in (its data stays).
* ``silence``: the account's posts leave the public timelines; followers still see them.
* ``suspend``: a local account is disabled, signed out everywhere and its actor deleted
  on its followers' servers (``Delete`` of the actor, as Mastodon sends); a remote
  account's follows end both ways, its posts are removed from this node and the inbox
  refuses everything it sends (403), so nothing is delivered to it either.

A post is removed from a report (Mastodon's "remove posts" on the report page): soft
deletion, and a local post's ``Delete`` goes to the servers it was sent to.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab.constants import PUBLIC
from node.ap.documents import with_context
from node.context import Node, transaction
from node.db.models import AccountModeration, Actor, Follow, Post, Report, User
from node.db.types import utcnow
from node.delivery.queue import enqueue, inboxes_for
from node.errors import Forbidden, Invalid, NotFound
from node.follows import follower_actors
from node.identity.sessions import revoke_sessions_and_tokens
from node.moderation.reports import mark_resolved
from node.policy import POLICY_CHANGED
from node.posts import delete_post
from node.remote_posts import delete_posts_of
from node.timelines import announce_deletion

ACTIONS = ("none", "sensitive", "disable", "silence", "suspend")


async def _standing(db: AsyncSession, actor_id: int) -> AccountModeration:
    row = await db.get(AccountModeration, actor_id)
    if row is None:
        row = AccountModeration(actor_id=actor_id, note="")
        db.add(row)
    row.updated_at = utcnow()
    return row


def delete_actor_activity(actor: Actor) -> dict[str, object]:
    """Mastodon's account deletion: the actor deletes itself, addressed to Public."""
    return with_context(
        {
            "id": f"{actor.uri}#delete",
            "type": "Delete",
            "actor": actor.uri,
            "object": actor.uri,
            "to": [PUBLIC],
        }
    )


async def _resolve_report(
    db: AsyncSession, acting: User, report_id: int | None, actor_id: int
) -> None:
    if report_id is None:
        return
    report = await db.get(Report, report_id)
    if report is None or report.account_id != actor_id:
        raise NotFound("Record not found")
    mark_resolved(report, acting)


async def take_action(
    node: Node,
    acting: User,
    actor_id: int,
    kind: str,
    *,
    report_id: int | None = None,
    text: str = "",
) -> None:
    """Apply one of ``ACTIONS`` to an account; a report named is resolved with it."""
    if kind not in ACTIONS:
        raise Invalid(f"type must be one of {', '.join(ACTIONS)}")
    queued = False
    async with transaction(node) as db:
        actor = await db.get(Actor, actor_id)
        if actor is None or actor.type == "Application":
            raise NotFound("Record not found")
        user = (
            await db.scalar(select(User).where(User.actor_id == actor.id)) if actor.local else None
        )
        if user is not None and user.id == acting.id and kind != "none":
            raise Forbidden("you cannot take this action on your own account")
        if user is not None and user.is_admin and kind in ("disable", "suspend"):
            raise Forbidden(
                "an admin account cannot be disabled or suspended: change its role first"
            )
        await _resolve_report(db, acting, report_id, actor.id)
        if kind == "none":
            if text:
                (await _standing(db, actor.id)).note = text
            return
        standing = await _standing(db, actor.id)
        standing.note = text
        now = utcnow()
        if kind == "sensitive":
            standing.sensitized_at = now
            await db.execute(update(Post).where(Post.actor_id == actor.id).values(sensitive=True))
        elif kind == "disable":
            if user is None:
                raise Invalid("disable applies to local accounts only")
            user.disabled = True
            await revoke_sessions_and_tokens(db, user.id)
        elif kind == "silence":
            standing.silenced_at = now
        elif kind == "suspend":
            standing.suspended_at = now
            db.info[POLICY_CHANGED] = True  # the inbox's in-memory policy refuses it now
            if user is not None:
                user.disabled = True
                await revoke_sessions_and_tokens(db, user.id)
                followers = await follower_actors(db, actor.id)
                queued = bool(
                    await enqueue(
                        db,
                        sender=actor,
                        activity=delete_actor_activity(actor),
                        inboxes=inboxes_for(followers),
                    )
                )
            else:
                await delete_posts_of(db, actor.id)
                await db.execute(
                    delete(Follow).where(
                        or_(Follow.follower_id == actor.id, Follow.followee_id == actor.id)
                    )
                )
    if queued:
        node.delivery_wakeup.set()


async def lift(node: Node, acting: User, actor_id: int, what: str) -> None:
    """``unsilence`` or ``unsuspend``. An unsuspended local account can sign in again; a
    remote one is accepted again, but its removed posts and ended follows stay gone."""
    async with transaction(node) as db:
        actor = await db.get(Actor, actor_id)
        if actor is None:
            raise NotFound("Record not found")
        standing = await _standing(db, actor.id)
        if what == "unsilence":
            standing.silenced_at = None
        elif what == "unsuspend":
            standing.suspended_at = None
            db.info[POLICY_CHANGED] = True
            if actor.local:
                user = await db.scalar(select(User).where(User.actor_id == actor.id))
                if user is not None:
                    user.disabled = False
        elif what == "unsensitive":
            standing.sensitized_at = None
        else:
            raise Invalid(f"unknown action {what!r}")


async def remove_post(
    node: Node, acting: User, post_id: int, *, report_id: int | None = None
) -> None:
    """Soft-delete a reported post; a local post's ``Delete`` is federated like the
    author's own deletion."""
    async with node.reads() as db:
        post = await db.get(Post, post_id)
        if post is None or post.deleted_at is not None:
            raise NotFound("Record not found")
        author = await db.get(Actor, post.actor_id)
        assert author is not None
    if post.local:
        await delete_post(node, author, post)
    else:
        async with transaction(node) as db:
            row = await db.get(Post, post.id)
            assert row is not None
            row.deleted_at = utcnow()
            await announce_deletion(db, row)  # live clients drop it
    if report_id is not None:
        async with transaction(node) as db:
            await _resolve_report(db, acting, report_id, author.id)
