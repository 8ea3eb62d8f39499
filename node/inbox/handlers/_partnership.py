"""Keeping a partnership in step with the follows between two Organization actors.

A partnership is nothing but the mutual follow of two firms' Organization actors
(DESIGN.md section 4), so every Follow, Accept, Reject and Undo between them may move it:
the handlers call ``after_org_follow_change`` once they changed the follow row.
"""

from __future__ import annotations

import logging

from node.db.models import Actor
from node.inbox.registry import InboxContext
from node.partners import sync_state

log = logging.getLogger(__name__)

ORGANIZATION = "Organization"


def is_partnership_pair(a: Actor, b: Actor) -> bool:
    """Both are firms' Organization actors, one of them ours."""
    return a.type == ORGANIZATION and b.type == ORGANIZATION and a.local != b.local


async def after_org_follow_change(ctx: InboxContext, follower: Actor, followee: Actor) -> None:
    if not is_partnership_pair(follower, followee):
        return
    ours, theirs = (follower, followee) if follower.local else (followee, follower)
    await ctx.db.flush()
    state = await sync_state(ctx.db, ours, theirs)
    log.info("partnership with %s: %s", theirs.domain, state)
