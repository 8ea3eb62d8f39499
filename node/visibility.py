"""Gathering the facts ``node.audience.can_see`` decides on, for one post or a page.

Every read path (ActivityPub GET, client API, web pages, search, notifications,
streaming) asks here; the rules themselves stay pure in node/audience.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.db.models import Actor, Follow, GroupSettings, Mention, Partnership, Post, PostRecipient
from node.db.models.follows import ACCEPTED
from node.db.models.partners import ACTIVE


async def active_partner_domains(db: AsyncSession) -> frozenset[str]:
    rows = await db.scalars(select(Partnership.domain).where(Partnership.state == ACTIVE))
    return frozenset(rows)


async def viewer_for(db: AsyncSession, actor: Actor | None) -> aud.Viewer:
    if actor is None:
        return aud.ANONYMOUS
    rows = (
        await db.execute(
            select(Follow.followee_id, Actor.type)
            .join(Actor, Actor.id == Follow.followee_id)
            .where(Follow.follower_id == actor.id, Follow.state == ACCEPTED)
        )
    ).all()
    return aud.Viewer(
        actor_id=actor.id,
        local=actor.local,
        domain=actor.domain,
        following=frozenset(followee for followee, _ in rows),
        groups=frozenset(followee for followee, kind in rows if kind == "Group"),
    )


async def facts_for(db: AsyncSession, posts: Sequence[Post]) -> dict[int, aud.PostFacts]:
    """Facts for a whole page in a fixed number of queries."""
    if not posts:
        return {}
    ids = [p.id for p in posts]
    mentioned: dict[int, set[int]] = {}
    for post_id, actor_id in (
        await db.execute(select(Mention.post_id, Mention.actor_id).where(Mention.post_id.in_(ids)))
    ).all():
        mentioned.setdefault(post_id, set()).add(actor_id)
    listed = [p.id for p in posts if p.audience in aud.LISTED_AUDIENCES]
    recipients: dict[int, set[int]] = {}
    if listed:
        for post_id, actor_id in (
            await db.execute(
                select(PostRecipient.post_id, PostRecipient.actor_id).where(
                    PostRecipient.post_id.in_(listed)
                )
            )
        ).all():
            recipients.setdefault(post_id, set()).add(actor_id)
    authors = {
        actor_id: (local, domain)
        for actor_id, local, domain in (
            await db.execute(
                select(Actor.id, Actor.local, Actor.domain).where(
                    Actor.id.in_({p.actor_id for p in posts})
                )
            )
        ).all()
    }
    partners = (
        await active_partner_domains(db)
        if any(p.audience == aud.PARTNERS for p in posts)
        else frozenset()
    )
    group_ids = {p.group_id for p in posts if p.group_id is not None}
    public_groups: set[int] = set()
    if group_ids:
        public_groups = set(
            await db.scalars(
                select(GroupSettings.actor_id).where(
                    GroupSettings.actor_id.in_(group_ids), GroupSettings.members_only.is_(False)
                )
            )
        )
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


async def post_facts(db: AsyncSession, post: Post) -> aud.PostFacts:
    return (await facts_for(db, [post]))[post.id]


async def viewer_can_see(db: AsyncSession, viewer: Actor | None, post: Post) -> bool:
    return aud.can_see(await viewer_for(db, viewer), await post_facts(db, post))


async def visible_posts(
    db: AsyncSession, viewer: Actor | None, posts: Sequence[Post]
) -> list[Post]:
    """The posts ``viewer`` may see, in order."""
    if not posts:
        return []
    who = await viewer_for(db, viewer)
    facts = await facts_for(db, posts)
    return [p for p in posts if aud.can_see(who, facts[p.id])]
