"""Applying a verified activity: policy, idempotency, then the handler in one transaction
(shared with concurrent activities through group commit when the node serves)."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from federation.vocab import Activity
from node.context import Node, transaction
from node.db.models import Actor, ReceivedActivity
from node.inbox.registry import InboxContext, InboxRefusal, handler_for
from node.policy import refusal_reason
from node.remote_actors import host_of

log = logging.getLogger(__name__)


async def process_activity(
    node: Node, activity: Activity, actor: Actor, *, recipient: str | None = None
) -> str:
    """Returns a short status word for the 202 body: applied, duplicate or ignored."""
    async with node.reads() as db:
        reason = await refusal_reason(
            db, host_of(actor.uri), default_mode=node.settings.federation_mode
        )
        if reason is not None:
            raise InboxRefusal(403, reason)
        seen = await db.scalar(
            select(ReceivedActivity.uri).where(ReceivedActivity.uri == activity.id)
        )
    if seen is not None:
        return "duplicate"
    handler = handler_for(activity.type)
    if handler is None:
        raise InboxRefusal(422, f"activity type {activity.type} is not supported")
    prepared = None
    if handler.prepare is not None:
        prepared = await handler.prepare(node, activity, actor)
    if node.inbox_committer is not None:
        return await node.inbox_committer.submit(activity, actor, handler, prepared)
    try:
        async with transaction(node) as db:
            db.add(ReceivedActivity(uri=activity.id, type=activity.type, actor_uri=actor.uri))
            await db.flush()
            ctx = InboxContext(node=node, db=db, activity=activity, actor=actor, prepared=prepared)
            await handler.apply(ctx)
    except IntegrityError:
        # The same activity arrived twice at once and the other request applied it;
        # any other integrity failure is a bug and must surface.
        async with node.reads() as db:
            if await db.get(ReceivedActivity, activity.id) is not None:
                return "duplicate"
        raise
    if ctx.queued:
        node.delivery_wakeup.set()
    if ctx.notes:
        log.info("inbox %s %s: %s", activity.type, activity.id, "; ".join(ctx.notes))
        return "ignored"
    return "applied"
