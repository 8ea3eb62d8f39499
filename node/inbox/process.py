"""Applying a verified activity: policy, idempotency, then the handler in one transaction
(shared with concurrent activities through group commit when the node serves).

Nothing here reads the database in the common case: the policy comes from memory
(``node.policy``) and a replay is recognised by the ``received_activities`` primary key
inside the write transaction. Only an activity whose ``prepare`` may fetch something is
looked up first, so a replayed Announce does not refetch the boosted post.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from federation.vocab import Activity
from node.context import Node, transaction
from node.db.models import Actor, ReceivedActivity
from node.inbox.receipts import receipt_key
from node.inbox.registry import InboxContext, InboxRefusal, handler_for
from node.moderation.state import SUSPENDED_REFUSAL
from node.policy import Incoming
from node.remote_actors import host_of

log = logging.getLogger(__name__)


async def process_activity(
    node: Node, activity: Activity, actor: Actor, *, recipient: str | None = None
) -> str:
    """Returns a short status word for the 202 body: applied, duplicate or ignored."""
    reason = await node.policy.refusal_reason(node, host_of(actor.uri), incoming_of(node, activity))
    if reason is None and await node.policy.actor_suspended(node, actor.id):
        reason = SUSPENDED_REFUSAL  # an admin suspended this account here (moderation)
    if reason is not None:
        raise InboxRefusal(403, reason)
    handler = handler_for(activity.type)
    if handler is None:
        raise InboxRefusal(422, f"activity type {activity.type} is not supported")
    prepared = None
    if handler.prepare is not None:
        if handler.fetches(activity) and await already_received(node, activity.id):
            return "duplicate"
        prepared = await handler.prepare(node, activity, actor)
    receipt = receipt_key(activity, prepared, recipient, actor.followers_url)
    if node.inbox_committer is not None:
        return await node.inbox_committer.submit(
            activity, actor, handler, prepared, recipient=recipient, receipt=receipt
        )
    try:
        async with transaction(node) as db:
            db.add(ReceivedActivity(uri=receipt, type=activity.type, actor_uri=actor.uri))
            await db.flush()
            ctx = InboxContext(
                node=node,
                db=db,
                activity=activity,
                actor=actor,
                prepared=prepared,
                recipient=recipient,
            )
            await handler.apply(ctx)
    except IntegrityError:
        # The same activity arrived twice (or at once) and was applied the first time;
        # any other integrity failure is a bug and must surface.
        if await already_received(node, receipt):
            return "duplicate"
        raise
    forget_changed_actor(node, activity, actor)
    if ctx.queued:
        node.delivery_wakeup.set()
    if ctx.notes:
        log.info("inbox %s %s: %s", activity.type, activity.id, "; ".join(ctx.notes))
        return "ignored"
    return "applied"


def incoming_of(node: Node, activity: Activity) -> Incoming:
    return Incoming(activity.type, activity.object_id, node.urls.org())


async def already_received(node: Node, activity_id: str) -> bool:
    async with node.reads() as db:
        seen = await db.scalar(
            select(ReceivedActivity.uri).where(ReceivedActivity.uri == activity_id)
        )
    return seen is not None


def forget_changed_actor(node: Node, activity: Activity, actor: Actor) -> None:
    """After an actor's Update or Delete of itself committed, its remembered key owner is
    stale: the next request reads the actor row again."""
    if activity.type in ("Update", "Delete") and activity.object_id == actor.uri:
        node.key_owners.forget_actor(actor.uri)
