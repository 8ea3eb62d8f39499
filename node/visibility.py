"""Gathering the facts ``node.audience.can_see`` decides on, for one post or a page.

Every read path (ActivityPub GET, client API, web pages, search, notifications,
streaming) asks here; the rules themselves stay pure in node/audience.py.

The facts are gathered by plain functions over ``node.db.one_hop.Reads`` (``read_*``),
so that a page's checks cost one hand-off to the database driver, or none of their own
when a timeline runs them inside its page's hand-off; the async functions wrap them for
callers holding ORM posts. Posts and the reader are first reduced to the few attributes
the rules read (``PostKey``, ``ViewerKey``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.db.models import Actor, Follow, GroupSettings, Mention, Partnership, Post, PostRecipient
from node.db.models.follows import ACCEPTED
from node.db.models.partners import ACTIVE
from node.db.one_hop import Reads, one_hop


def _ids() -> Any:
    return bindparam("ids", expanding=True)


# Built once (see node.db.one_hop): a page's facts cost a few statements on one hand-off.
PARTNER_DOMAINS = select(Partnership.domain).where(Partnership.state == ACTIVE)
FOLLOWED = (
    select(Follow.followee_id, Actor.type)
    .join(Actor, Actor.id == Follow.followee_id)
    .where(Follow.follower_id == bindparam("viewer"), Follow.state == ACCEPTED)
)
MENTIONED = select(Mention.post_id, Mention.actor_id).where(Mention.post_id.in_(_ids()))
RECIPIENTS = select(PostRecipient.post_id, PostRecipient.actor_id).where(
    PostRecipient.post_id.in_(_ids())
)
AUTHORS = select(Actor.id, Actor.local, Actor.domain).where(Actor.id.in_(_ids()))
PUBLIC_GROUPS = select(GroupSettings.actor_id).where(
    GroupSettings.actor_id.in_(_ids()), GroupSettings.members_only.is_(False)
)


@dataclass(frozen=True, slots=True)
class PostKey:
    """What the facts of a post are gathered from: read from the post beforehand, so
    that gathering them needs nothing from the ORM (it may run on the driver's thread)."""

    id: int
    audience: str
    actor_id: int
    group_id: int | None
    deleted_at: datetime | None

    @classmethod
    def of(cls, post: Any) -> PostKey:
        """``post``: a ``Post`` or any object with those attributes (a timeline row)."""
        return cls(post.id, post.audience, post.actor_id, post.group_id, post.deleted_at)


@dataclass(frozen=True, slots=True)
class ViewerKey:
    """The reader's identity, read from its ``Actor`` beforehand (None: anonymous)."""

    id: int
    local: bool
    domain: str

    @classmethod
    def of(cls, actor: Any) -> ViewerKey | None:
        return None if actor is None else cls(actor.id, actor.local, actor.domain)


async def active_partner_domains(db: AsyncSession) -> frozenset[str]:
    return await one_hop(db, read_partner_domains)


def read_partner_domains(reads: Reads) -> frozenset[str]:
    return frozenset(row[0] for row in reads.all(PARTNER_DOMAINS))


def read_viewer(reads: Reads, viewer: ViewerKey | None) -> aud.Viewer:
    if viewer is None:
        return aud.ANONYMOUS
    rows = reads.all(FOLLOWED, {"viewer": viewer.id})
    return aud.Viewer(
        actor_id=viewer.id,
        local=viewer.local,
        domain=viewer.domain,
        following=frozenset(followee for followee, _ in rows),
        groups=frozenset(followee for followee, kind in rows if kind == "Group"),
    )


async def viewer_for(db: AsyncSession, actor: Actor | None) -> aud.Viewer:
    key = ViewerKey.of(actor)
    return await one_hop(db, lambda reads: read_viewer(reads, key))


def read_facts(reads: Reads, posts: Sequence[PostKey]) -> dict[int, aud.PostFacts]:
    """Facts for a whole page in a fixed number of statements."""
    if not posts:
        return {}
    ids = [p.id for p in posts]
    mentioned: dict[int, set[int]] = {}
    for post_id, actor_id in reads.all(MENTIONED, {"ids": ids}):
        mentioned.setdefault(post_id, set()).add(actor_id)
    listed = [p.id for p in posts if p.audience in aud.LISTED_AUDIENCES]
    recipients: dict[int, set[int]] = {}
    if listed:
        for post_id, actor_id in reads.all(RECIPIENTS, {"ids": listed}):
            recipients.setdefault(post_id, set()).add(actor_id)
    authors = {
        actor_id: (local, domain)
        for actor_id, local, domain in reads.all(
            AUTHORS, {"ids": list({p.actor_id for p in posts})}
        )
    }
    partners = (
        read_partner_domains(reads)
        if any(p.audience == aud.PARTNERS for p in posts)
        else frozenset()
    )
    group_ids = list({p.group_id for p in posts if p.group_id is not None})
    public_groups: set[int] = set()
    if group_ids:
        public_groups = {row[0] for row in reads.all(PUBLIC_GROUPS, {"ids": group_ids})}
    facts = {}
    for post in posts:
        local, domain = authors.get(post.actor_id, (False, ""))
        facts[post.id] = aud.PostFacts(
            audience=post.audience,
            author_id=post.actor_id,
            author_local=local,
            author_domain=domain,
            mentioned_ids=frozenset(mentioned.get(post.id, ())),
            deleted=post.deleted_at is not None,
            recipient_ids=frozenset(recipients.get(post.id, ())),
            partner_domains=partners if local else frozenset(),
            group_id=post.group_id,
            group_public=post.group_id in public_groups,
        )
    return facts


async def facts_for(db: AsyncSession, posts: Sequence[Post]) -> dict[int, aud.PostFacts]:
    """Facts for a whole page in a fixed number of statements, on one hand-off."""
    if not posts:
        return {}
    keys = [PostKey.of(p) for p in posts]
    return await one_hop(db, lambda reads: read_facts(reads, keys))


async def post_facts(db: AsyncSession, post: Post) -> aud.PostFacts:
    return (await facts_for(db, [post]))[post.id]


async def viewer_can_see(db: AsyncSession, viewer: Actor | None, post: Post) -> bool:
    return bool(await visible_posts(db, viewer, [post]))


FOLLOWED_AMONG = FOLLOWED.where(Follow.followee_id.in_(_ids()))


def read_viewer_for(reads: Reads, viewer: ViewerKey | None, posts: Sequence[PostKey]) -> aud.Viewer:
    """``read_viewer``, but only as far as ``posts`` need: ``can_see`` consults whom the
    reader follows for followers-only posts (their authors) and group posts (their
    groups) alone, so only those follows are read — one index lookup instead of every
    account the reader follows (0.4 ms for 200 through the join)."""
    if viewer is None:
        return aud.ANONYMOUS
    followees = {p.actor_id for p in posts if p.audience == aud.FOLLOWERS}
    followees |= {p.group_id for p in posts if p.audience == aud.GROUP and p.group_id}
    rows = (
        reads.all(FOLLOWED_AMONG, {"viewer": viewer.id, "ids": list(followees)})
        if followees
        else []
    )
    return aud.Viewer(
        actor_id=viewer.id,
        local=viewer.local,
        domain=viewer.domain,
        following=frozenset(followee for followee, _ in rows),
        groups=frozenset(followee for followee, kind in rows if kind == "Group"),
    )


def read_visible(reads: Reads, viewer: ViewerKey | None, posts: Sequence[PostKey]) -> set[int]:
    """The ids of the posts ``viewer`` may see."""
    if not posts:
        return set()
    who = read_viewer_for(reads, viewer, posts)
    facts = read_facts(reads, posts)
    return {p.id for p in posts if aud.can_see(who, facts[p.id])}


async def visible_posts(
    db: AsyncSession, viewer: Actor | None, posts: Sequence[Post]
) -> list[Post]:
    """The posts ``viewer`` may see, in order."""
    if not posts:
        return []
    who, keys = ViewerKey.of(viewer), [PostKey.of(p) for p in posts]
    shown = await one_hop(db, lambda reads: read_visible(reads, who, keys))
    return [p for p in posts if p.id in shown]
