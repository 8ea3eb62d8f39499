"""The audience of a reply to a circle or partners post: the thread's, never wider.

Only the node of the thread's first post (its *root*) knows who a circle post was for, and
a partners thread belongs to the partners of the root author's firm, not to the
replier's. So a reply in such a thread is addressed as the thread is and sent to the root
author's node alone, which stores it for the audience and forwards it to the others
(node/inbox/forwarding.py; docs/federation.md, "Threads that stay in their audience").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.context import Node
from node.db.models import Actor, Post, PostRecipient
from node.delivery.queue import inboxes_for
from node.partners import partner_org_actors

#: Audiences whose replies stay in the thread's audience.
THREAD_AUDIENCES = frozenset({aud.CIRCLE, aud.PARTNERS})
#: Longest chain of replies walked up to find a thread's root.
MAX_DEPTH = 200


@dataclass(frozen=True)
class ReplyAudience:
    """What ``create_post`` uses instead of the audience the replier chose.

    ``inboxes`` None: delivered as any post of that audience (the thread is ours, we know
    its audience); otherwise exactly there (the root author's node)."""

    audience: str
    readers: list[Actor] = field(default_factory=list)
    partner_orgs: list[Actor] = field(default_factory=list)
    inboxes: list[str] | None = None


def inherits(parent_audience: str, chosen: str) -> bool:
    """A reply to a circle or partners post takes the thread's audience, whatever was
    chosen, except a direct message (narrower: only the people it names)."""
    return parent_audience in THREAD_AUDIENCES and chosen != aud.DIRECT


async def thread_root(db: AsyncSession, post: Post) -> Post:
    """The first post of ``post``'s thread among those of the same audience known here."""
    current = post
    for _ in range(MAX_DEPTH):
        if current.in_reply_to_id is None:
            break
        parent = await db.get(Post, current.in_reply_to_id)
        if parent is None or parent.audience != current.audience:
            break
        current = parent
    return current


async def readers_of(db: AsyncSession, post: Post) -> list[Actor]:
    """The people a circle post is for here, with its author."""
    readers = list(
        await db.scalars(
            select(Actor)
            .join(PostRecipient, PostRecipient.actor_id == Actor.id)
            .where(PostRecipient.post_id == post.id)
        )
    )
    author = await db.get(Actor, post.actor_id)
    return [*readers, author] if author is not None else readers


async def reply_audience(
    node: Node, replier: Actor, parent: Post | None, chosen: str
) -> ReplyAudience | None:
    """The audience a reply to ``parent`` must have; None when the chosen one stands."""
    if parent is None or not inherits(parent.audience, chosen):
        return None
    async with node.reads() as db:
        root = await thread_root(db, parent)
        root_author = await db.get(Actor, root.actor_id)
        if root_author is None:
            return None
        ours = root_author.local
        if parent.audience == aud.CIRCLE:
            everyone = [*await readers_of(db, parent), root_author]
            readers = list({a.id: a for a in everyone if a.id != replier.id}.values())
            inboxes = None if ours else [root_author.inbox]
            return ReplyAudience(aud.CIRCLE, readers=readers, inboxes=inboxes)
        orgs = await partner_org_actors(db)
        if ours:
            return ReplyAudience(aud.PARTNERS, partner_orgs=orgs)
        theirs = [o for o in orgs if o.domain == root_author.domain]
        return ReplyAudience(aud.PARTNERS, partner_orgs=theirs, inboxes=inboxes_for(theirs))
