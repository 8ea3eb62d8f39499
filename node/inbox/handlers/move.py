"""Move: a peer account moved; our local followers of it follow its new account, once
the new account's own document confirms the move (``alsoKnownAs`` lists the old one)."""

from __future__ import annotations

from typing import Any

from federation.errors import FetchError
from federation.vocab import Activity
from node.context import Node
from node.db.models import Actor
from node.errors import Invalid
from node.inbox.registry import InboxContext, InboxRefusal, handles
from node.moderation.moves import migrate_local_followers, verified_target


async def _prepare(node: Node, activity: Activity, actor: Actor) -> Any:
    """Fetch the target (network, before the transaction) and check it lists the actor."""
    try:
        return await verified_target(node, actor, activity.object_id, activity.target)
    except Invalid as exc:
        raise InboxRefusal(422, exc.message) from exc
    except FetchError as exc:
        raise InboxRefusal(422, f"the Move target could not be fetched: {exc}") from exc


@handles("Move", prepare=_prepare)
async def apply(ctx: InboxContext) -> None:
    target: Actor = ctx.prepared
    old = await ctx.db.get(Actor, ctx.actor.id)
    new = await ctx.db.get(Actor, target.id)
    assert old is not None and new is not None
    old.raw = {**(old.raw or {}), "movedTo": new.uri}
    if await migrate_local_followers(ctx.node, ctx.db, old, new):
        ctx.queued = True
