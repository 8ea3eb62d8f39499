"""Trending hashtags inside the firm and its partner firms, and a tag's daily history.

Only posts by this node's people and by people of active partner nodes count: the
point is what colleagues and partners talk about, not the wider fediverse. Which posts
count depends on who asks, so that a tag never leaks out of the audience it was used
in: anyone sees trends from public and unlisted posts; the firm's own people also from
organisation and partners posts. Circle, followers, group and direct posts never count.

A tag's rank is the number of distinct people who used it over the last seven days
(then the number of uses): one enthusiast posting twenty times does not make a trend.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.context import Node
from node.db.models import Actor, Post, PostTag
from node.db.types import utcnow
from node.visibility import active_partner_domains

DAYS = 7
OPEN = (aud.PUBLIC_AUDIENCE, aud.UNLISTED)
INSIDE = (*OPEN, aud.ORGANISATION, aud.PARTNERS)


@dataclass(frozen=True)
class TagTrend:
    name: str
    #: newest day first: ``(day start, uses, distinct accounts)``
    history: list[tuple[datetime, int, int]]

    def entity_history(self) -> list[dict[str, str]]:
        """Mastodon's ``history``: day as a UNIX timestamp string, counts as strings."""
        return [
            {"day": str(int(day.timestamp())), "uses": str(uses), "accounts": str(accounts)}
            for day, uses, accounts in self.history
        ]


def day_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def audiences_for(viewer: Actor | None) -> tuple[str, ...]:
    return INSIDE if viewer is not None and viewer.local else OPEN


async def _uses(
    db: AsyncSession, audiences: tuple[str, ...], since: datetime, tags: list[str] | None = None
) -> list[tuple[str, datetime, int]]:
    partners = sorted(await active_partner_domains(db))
    query = (
        select(PostTag.tag, Post.published, Post.actor_id)
        .join(Post, Post.id == PostTag.post_id)
        .join(Actor, Actor.id == Post.actor_id)
        .where(
            Post.published >= since,
            Post.deleted_at.is_(None),
            Post.reblog_of_id.is_(None),
            Post.audience.in_(audiences),
            or_(Actor.local.is_(True), Actor.domain.in_(partners)),
        )
    )
    if tags is not None:
        query = query.where(PostTag.tag.in_(tags))
    return [(tag, published, actor) for tag, published, actor in (await db.execute(query)).all()]


def _histories(
    rows: list[tuple[str, datetime, int]], today: datetime
) -> dict[str, list[tuple[datetime, int, int]]]:
    days = [today - timedelta(days=i) for i in range(DAYS)]
    uses: dict[tuple[str, datetime], int] = defaultdict(int)
    people: dict[tuple[str, datetime], set[int]] = defaultdict(set)
    for tag, published, actor in rows:
        key = (tag, day_start(published))
        uses[key] += 1
        people[key].add(actor)
    return {
        tag: [(d, uses.get((tag, d), 0), len(people.get((tag, d), ()))) for d in days]
        for tag in {tag for tag, _, _ in rows}
    }


async def trending_tags(
    db: AsyncSession, viewer: Actor | None, *, limit: int = 10, offset: int = 0
) -> list[TagTrend]:
    today = day_start(utcnow())
    since = today - timedelta(days=DAYS - 1)
    rows = await _uses(db, audiences_for(viewer), since)
    people: dict[str, set[int]] = defaultdict(set)
    count: dict[str, int] = defaultdict(int)
    for tag, _, actor in rows:
        people[tag].add(actor)
        count[tag] += 1
    ranked = sorted(people, key=lambda t: (-len(people[t]), -count[t], t))
    histories = _histories(rows, today)
    return [TagTrend(tag, histories[tag]) for tag in ranked[offset : offset + limit]]


async def tag_history(db: AsyncSession, viewer: Actor | None, tag: str) -> TagTrend:
    today = day_start(utcnow())
    rows = await _uses(db, audiences_for(viewer), today - timedelta(days=DAYS - 1), [tag])
    history = _histories(rows, today).get(tag)
    if history is None:
        history = [(today - timedelta(days=i), 0, 0) for i in range(DAYS)]
    return TagTrend(tag, history)


def tag_entity(trend: TagTrend, base_url: str, following: bool | None = None) -> dict[str, Any]:
    """Mastodon's Tag entity; ``following`` only for a signed-in caller."""
    entity: dict[str, Any] = {
        "name": trend.name,
        "url": f"{base_url}/tags/{trend.name}",
        "history": trend.entity_history(),
    }
    if following is not None:
        entity["following"] = following
    return entity


async def trends_for(node: Node, viewer: Actor | None, *, limit: int = 10) -> list[TagTrend]:
    """Trending tags for a web page (which never opens sessions itself)."""
    async with node.reads() as db:
        return await trending_tags(db, viewer, limit=limit)
