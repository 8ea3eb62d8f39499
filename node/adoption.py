"""Adoption figures for admins: is the network alive? Aggregates only — no figure is
about one person, and circles (private to their owner) are counted without names.

The figures, over a period ending now (``week``: 7 days, ``month``: 30 days):

* ``active_users``: this node's people (accounts not disabled) who posted, replied,
  boosted or favourited in the period; ``weekly_active_users`` and
  ``monthly_active_users`` the same over the last 7 and 30 days whatever the period;
* ``posting_users``: of them, those who wrote a post or a reply (boosts and favourites
  do not count); ``posting_share`` that number over ``total_users``;
* ``posts_by_audience``: this node's posts that are not replies (nor boosts), by
  audience; ``replies`` and ``replies_by_audience`` the same for replies;
* ``cross_firm_interactions``: between this firm and its partner firms (active
  partnerships), in either direction: replies, favourites, and posts in a group of
  the other firm;
* ``groups``: posts per group in the period (groups of this node, and partners' groups
  our people posted in), most active first, with the members known here;
* ``circles``: the most active circles by posts, each with its number of members only;
* ``median_first_reply_minutes``: for this node's posts of the period that are not
  replies, the minutes until the first reply by someone else, median over those that
  got one (``null`` when none did); ``answered_share`` the share that got one;
* ``daily``: active people and posts per day (UTC), for the charts.

Deleted posts never count, nor posts by people outside the firm and its partners. The
data is gathered with a fixed number of queries and the figures are computed by the
pure ``compute`` below, which the tests check against their own count of a seeded
dataset.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from node import audience as aud
from node.context import Node
from node.db.models import Actor, CircleMember, Follow, Like, Post, PostCircle, User
from node.db.models.follows import ACCEPTED
from node.db.types import utcnow
from node.errors import Invalid
from node.visibility import active_partner_domains

PERIODS = {"week": 7, "month": 30}
#: How many groups and circles the figures name (the most active ones).
TOP = 10


@dataclass(frozen=True)
class PostRow:
    id: int
    actor_id: int
    audience: str
    published: datetime
    reply_to: int | None
    reply_to_actor: int | None
    boost: bool
    group_id: int | None


@dataclass(frozen=True)
class LikeRow:
    actor_id: int
    post_actor_id: int
    created_at: datetime


@dataclass(frozen=True)
class Facts:
    """What the figures are computed from, gathered once."""

    now: datetime
    period: str
    local_users: frozenset[int]
    #: actor id → firm: "local", a partner's domain, or None (anyone else)
    firm_of: dict[int, str | None]
    posts: list[PostRow]
    likes: list[LikeRow]
    #: first reply by someone else, for each of our posts of the period that got one
    first_reply: dict[int, datetime]
    groups: dict[int, tuple[str, bool, int]]  # id → (name, local, members)
    circles: list[tuple[int, int]]  # (posts, members) per circle used in the period


def period_days(period: str) -> int:
    if period not in PERIODS:
        raise Invalid(f"period must be one of {', '.join(PERIODS)}")
    return PERIODS[period]


def _day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _active(facts: Facts, since: datetime) -> set[int]:
    people = {p.actor_id for p in facts.posts if p.published >= since}
    people |= {lk.actor_id for lk in facts.likes if lk.created_at >= since}
    return people & facts.local_users


def _cross(facts: Facts, a: int | None, b: int | None) -> bool:
    """One side is our firm and the other a partner firm."""
    if a is None or b is None:
        return False
    firms = {facts.firm_of.get(a), facts.firm_of.get(b)}
    return "local" in firms and len(firms) == 2 and None not in firms


def compute(facts: Facts) -> dict[str, Any]:
    """The figures (see the module's docstring) from ``facts``."""
    days = period_days(facts.period)
    start = facts.now - timedelta(days=days)
    posts = [p for p in facts.posts if p.published >= start]
    likes = [lk for lk in facts.likes if lk.created_at >= start]
    ours = [p for p in posts if p.actor_id in facts.local_users and not p.boost]
    active = _active(facts, start)
    writers = {p.actor_id for p in ours}
    total = len(facts.local_users)

    top_level = [p for p in ours if p.reply_to is None]
    replies = [p for p in ours if p.reply_to is not None]
    by_audience = {a: 0 for a in aud.AUDIENCES}
    replies_by_audience = {a: 0 for a in aud.AUDIENCES}
    for p in top_level:
        by_audience[p.audience] = by_audience.get(p.audience, 0) + 1
    for p in replies:
        replies_by_audience[p.audience] = replies_by_audience.get(p.audience, 0) + 1

    cross_replies = sum(
        1
        for p in posts
        if not p.boost and p.reply_to and _cross(facts, p.actor_id, p.reply_to_actor)
    )
    cross_likes = sum(1 for lk in likes if _cross(facts, lk.actor_id, lk.post_actor_id))
    cross_groups = sum(
        1
        for p in posts
        if not p.boost and p.group_id is not None and _cross(facts, p.actor_id, p.group_id)
    )

    group_posts = Counter(p.group_id for p in posts if not p.boost and p.group_id is not None)
    groups = [
        {"id": str(gid), "name": facts.groups[gid][0], "local": facts.groups[gid][1],
         "members": facts.groups[gid][2], "posts": n}
        for gid, n in group_posts.items()
        if gid in facts.groups
    ]  # fmt: skip
    groups.sort(key=lambda g: (-g["posts"], g["name"]))
    circles = sorted(facts.circles, key=lambda c: (-c[0], -c[1]))[:TOP]

    waits = [
        (facts.first_reply[p.id] - p.published).total_seconds() / 60
        for p in top_level
        if p.id in facts.first_reply
    ]
    daily = []
    for i in range(days - 1, -1, -1):
        day = _day(facts.now) - timedelta(days=i)
        end = day + timedelta(days=1)
        people = {p.actor_id for p in posts if day <= p.published < end}
        people |= {lk.actor_id for lk in likes if day <= lk.created_at < end}
        daily.append(
            {
                "day": day.date().isoformat(),
                "active_users": len(people & facts.local_users),
                "posts": sum(1 for p in ours if day <= p.published < end),
            }
        )
    return {
        "period": facts.period,
        "start": start.isoformat(),
        "end": facts.now.isoformat(),
        "total_users": total,
        "active_users": len(active),
        "weekly_active_users": len(_active(facts, facts.now - timedelta(days=7))),
        "monthly_active_users": len(_active(facts, facts.now - timedelta(days=30))),
        "posting_users": len(writers),
        "posting_share": round(len(writers) / total, 4) if total else 0.0,
        "posts": len(top_level),
        "posts_by_audience": by_audience,
        "replies": len(replies),
        "replies_by_audience": replies_by_audience,
        "cross_firm_interactions": {
            "replies": cross_replies,
            "favourites": cross_likes,
            "group_posts": cross_groups,
            "total": cross_replies + cross_likes + cross_groups,
        },
        "groups": groups[:TOP],
        "circles": [{"posts": n, "members": m} for n, m in circles],
        "median_first_reply_minutes": round(statistics.median(waits), 1) if waits else None,
        "answered_share": round(len(waits) / len(top_level), 4) if top_level else 0.0,
        "daily": daily,
    }


# --- gathering ------------------------------------------------------------------------


async def gather(db: AsyncSession, period: str, *, now: datetime | None = None) -> Facts:
    days = period_days(period)
    moment = now or utcnow()
    since = moment - timedelta(days=max(days, 30))
    partners = await active_partner_domains(db)
    local_users = frozenset(await db.scalars(select(User.actor_id).where(User.disabled.is_(False))))
    parent = aliased(Post)
    rows = (
        await db.execute(
            select(
                Post.id,
                Post.actor_id,
                Post.audience,
                Post.published,
                Post.in_reply_to_id,
                parent.actor_id,
                Post.reblog_of_id,
                Post.group_id,
                Actor.local,
                Actor.domain,
            )
            .join(Actor, Actor.id == Post.actor_id)
            .outerjoin(parent, parent.id == Post.in_reply_to_id)
            .where(
                Post.published >= since,
                Post.deleted_at.is_(None),
                or_(Actor.local.is_(True), Actor.domain.in_(sorted(partners))),
            )
        )
    ).all()
    firm_of: dict[int, str | None] = {}

    def firm(local: bool, domain: str) -> str | None:
        return "local" if local else (domain if domain in partners else None)

    posts = []
    for pid, actor, audience, published, reply_to, reply_actor, boost, group, local, domain in rows:
        firm_of[actor] = firm(local, domain)
        posts.append(
            PostRow(
                pid, actor, audience, published, reply_to, reply_actor, boost is not None, group
            )
        )
    liker = aliased(Actor)
    like_rows = (
        await db.execute(
            select(Like.actor_id, Post.actor_id, Like.created_at, liker.local, liker.domain)
            .join(Post, Post.id == Like.post_id)
            .join(liker, liker.id == Like.actor_id)
            .where(Like.created_at >= since, Post.deleted_at.is_(None))
        )
    ).all()
    likes = []
    for actor, post_actor, created, local, domain in like_rows:
        firm_of[actor] = firm(local, domain)
        likes.append(LikeRow(actor, post_actor, created))
    await _firms_of(
        db,
        firm_of,
        {p.reply_to_actor for p in posts} | {lk.post_actor_id for lk in likes},
        partners,
    )
    start = moment - timedelta(days=days)
    groups = await _groups(db, {p.group_id for p in posts if p.group_id is not None})
    await _firms_of(db, firm_of, set(groups), partners)
    return Facts(
        now=moment,
        period=period,
        local_users=local_users,
        firm_of=firm_of,
        posts=posts,
        likes=likes,
        first_reply=await _first_replies(db, local_users, start),
        groups=groups,
        circles=await _circles(db, start),
    )


async def _firms_of(
    db: AsyncSession,
    firm_of: dict[int, str | None],
    ids: Iterable[int | None],
    partners: frozenset[str],
) -> None:
    missing = sorted({i for i in ids if i is not None and i not in firm_of})
    if not missing:
        return
    for actor_id, local, domain in (
        await db.execute(select(Actor.id, Actor.local, Actor.domain).where(Actor.id.in_(missing)))
    ).all():
        firm_of[actor_id] = "local" if local else (domain if domain in partners else None)


async def _first_replies(
    db: AsyncSession, local_users: frozenset[int], start: datetime
) -> dict[int, datetime]:
    parent = aliased(Post)
    child = aliased(Post)
    rows = await db.execute(
        select(parent.id, func.min(child.published))
        .join(child, child.in_reply_to_id == parent.id)
        .where(
            parent.published >= start,
            parent.local.is_(True),
            parent.in_reply_to_id.is_(None),
            parent.reblog_of_id.is_(None),
            parent.deleted_at.is_(None),
            child.actor_id != parent.actor_id,
            child.deleted_at.is_(None),
        )
        .group_by(parent.id)
    )
    found = {}
    for post_id, first in rows.all():
        if isinstance(first, str):  # SQLite hands an aggregate back untyped
            first = datetime.fromisoformat(first)
        if first.tzinfo is None:
            first = first.replace(tzinfo=UTC)
        found[post_id] = first
    return found


async def _groups(db: AsyncSession, ids: set[int]) -> dict[int, tuple[str, bool, int]]:
    if not ids:
        return {}
    members = (
        select(Follow.followee_id, func.count().label("n"))
        .where(Follow.state == ACCEPTED, Follow.followee_id.in_(ids))
        .group_by(Follow.followee_id)
        .subquery()
    )
    rows = await db.execute(
        select(Actor, func.coalesce(members.c.n, 0))
        .outerjoin(members, members.c.followee_id == Actor.id)
        .where(Actor.id.in_(ids))
    )
    return {
        actor.id: (actor.display_name or actor.handle, actor.local, int(n))
        for actor, n in rows.all()
    }


async def _circles(db: AsyncSession, start: datetime) -> list[tuple[int, int]]:
    used = (
        await db.execute(
            select(PostCircle.circle_id, func.count())
            .join(Post, Post.id == PostCircle.post_id)
            .where(Post.published >= start, Post.deleted_at.is_(None))
            .group_by(PostCircle.circle_id)
        )
    ).all()
    if not used:
        return []
    sizes = dict(
        (
            await db.execute(
                select(CircleMember.circle_id, func.count())
                .where(CircleMember.circle_id.in_([c for c, _ in used]))
                .group_by(CircleMember.circle_id)
            )
        ).all()
    )
    return [(int(n), int(sizes.get(cid, 0))) for cid, n in used]


async def adoption(db: AsyncSession, period: str, *, now: datetime | None = None) -> dict[str, Any]:
    return compute(await gather(db, period, now=now))


# --- CSV ------------------------------------------------------------------------------


def to_csv(figures: dict[str, Any]) -> str:
    """``section,key,value`` rows: one per figure, per audience, per group, per day —
    what a spreadsheet pivots easily."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "value"])
    for name in (
        "period", "start", "end", "total_users", "active_users", "weekly_active_users",
        "monthly_active_users", "posting_users", "posting_share", "posts", "replies",
        "median_first_reply_minutes", "answered_share",
    ):  # fmt: skip
        value = figures[name]
        writer.writerow([name, "", "" if value is None else value])
    for section in ("posts_by_audience", "replies_by_audience", "cross_firm_interactions"):
        for key, value in figures[section].items():
            writer.writerow([section, key, value])
    for group in figures["groups"]:
        writer.writerow(["group_posts", group["name"], group["posts"]])
    for rank, circle in enumerate(figures["circles"], 1):
        writer.writerow(["circle_posts", f"#{rank} ({circle['members']} members)", circle["posts"]])
    for day in figures["daily"]:
        writer.writerow(["daily_active_users", day["day"], day["active_users"]])
        writer.writerow(["daily_posts", day["day"], day["posts"]])
    return out.getvalue()


async def adoption_figures(node: Node, period: str) -> dict[str, Any]:
    """The figures for the web UI's dashboard (which never opens sessions itself)."""
    async with node.reads() as db:
        return await adoption(db, period)
