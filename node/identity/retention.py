"""Retention policies per audience, and legal holds that suspend them for chosen accounts.

A run deletes the local posts older than their audience's policy, except those of
accounts under legal hold, through the same deletion as an author's (``posts.delete_post``:
soft delete, timelines, a federated ``Delete``). The ``Delete`` also goes to every inbox
the post's ``Create`` was queued for (``deliveries`` rows), so a peer that received it
hears of its deletion even if the follower who brought it there has left since.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.ap.documents import delete_activity
from node.context import Node, transaction
from node.db.models import Actor, Delivery, LegalHold, Post, RetentionPolicy
from node.db.types import utcnow
from node.delivery.queue import enqueue
from node.errors import Invalid, NotFound
from node.identity.audit import record_audit
from node.posts import delete_post

#: Posts deleted per transaction of a run: a large backlog does not hold the writer.
BATCH = 200
MAX_DAYS = 36_500


async def set_policy(db: AsyncSession, audience: str, days: int | None) -> None:
    """Keep posts of ``audience`` ``days`` days; ``None`` removes the policy."""
    if audience not in aud.AUDIENCES:
        raise Invalid(f"unknown audience {audience!r}: one of {', '.join(aud.AUDIENCES)}")
    row = await db.get(RetentionPolicy, audience)
    if days is None:
        if row is not None:
            await db.delete(row)
    else:
        if not 1 <= days <= MAX_DAYS:
            raise Invalid(f"days must be between 1 and {MAX_DAYS}")
        if row is None:
            db.add(RetentionPolicy(audience=audience, days=days, updated_at=utcnow()))
        else:
            row.days, row.updated_at = days, utcnow()
    record_audit(db, "retention.policy", target=audience, detail={"days": days})


async def policies(db: AsyncSession) -> list[RetentionPolicy]:
    return list(await db.scalars(select(RetentionPolicy).order_by(RetentionPolicy.audience)))


async def set_hold(db: AsyncSession, username: str, on: bool, reason: str = "") -> None:
    actor = await db.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == username.lower())
    )
    if actor is None:
        raise NotFound(f"unknown user {username!r}")
    row = await db.get(LegalHold, actor.id)
    if on and row is None:
        db.add(LegalHold(actor_id=actor.id, reason=reason, created_at=utcnow()))
    elif not on and row is not None:
        await db.delete(row)
    record_audit(db, "retention.hold", target=actor.username, detail={"on": on, "reason": reason})


async def holds(db: AsyncSession) -> list[tuple[LegalHold, Actor]]:
    rows = await db.execute(
        select(LegalHold, Actor)
        .join(Actor, Actor.id == LegalHold.actor_id)
        .order_by(Actor.username)
    )
    return [(h, a) for h, a in rows.all()]


def cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


async def expired_posts(db: AsyncSession, now: datetime, limit: int) -> list[Post]:
    """Local posts past their audience's policy whose author is not under legal hold."""
    held = select(LegalHold.actor_id)
    found: list[Post] = []
    for policy in await policies(db):
        rows = await db.scalars(
            select(Post)
            .where(
                Post.local.is_(True),
                # Boosts are not content said here: they go with what they boost.
                Post.reblog_of_id.is_(None),
                Post.audience == policy.audience,
                Post.deleted_at.is_(None),
                Post.published < cutoff(now, policy.days),
                Post.actor_id.not_in(held),
            )
            .order_by(Post.id)
            .limit(limit - len(found))
        )
        found += list(rows)
        if len(found) >= limit:
            break
    return found


@dataclass(frozen=True)
class RetentionReport:
    deleted: int


async def _also_tell_past_recipients(node: Node, post: Post, author: Actor) -> None:
    """Queue the Delete for inboxes the Create went to that ``delete_post`` did not."""
    activity = delete_activity(post, author)
    async with transaction(node) as db:
        received = set(
            await db.scalars(
                select(Delivery.inbox).where(Delivery.activity_uri == f"{post.uri}/activity")
            )
        )
        told = set(
            await db.scalars(select(Delivery.inbox).where(Delivery.activity_uri == activity["id"]))
        )
        await enqueue(db, sender=author, activity=activity, inboxes=sorted(received - told))


async def run_retention(node: Node, now: datetime | None = None) -> RetentionReport:
    """Delete every expired post (in batches) and federate the deletions."""
    moment = now or utcnow()
    deleted = 0
    while True:
        async with node.reads() as db:
            batch = await expired_posts(db, moment, BATCH)
            authors = {
                a.id: a
                for a in await db.scalars(
                    select(Actor).where(Actor.id.in_({p.actor_id for p in batch}))
                )
            }
        if not batch:
            break
        for post in batch:
            author = authors[post.actor_id]
            await delete_post(node, author, post)
            if aud.is_federated(post.audience):
                await _also_tell_past_recipients(node, post, author)
            deleted += 1
    async with transaction(node) as db:
        record_audit(db, "retention.run", detail={"deleted": deleted})
    node.delivery_wakeup.set()
    return RetentionReport(deleted=deleted)
