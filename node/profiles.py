"""Read models for pages: a node summary and public profiles, through the visibility rules."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from node import audience as aud
from node.context import Node
from node.db.models import Actor, Follow, Post, User
from node.db.models.follows import ACCEPTED
from node.posts import post_facts
from node.urls import ORG_USERNAME


@dataclass(frozen=True)
class NodeSummary:
    domain: str
    org_name: str
    users: int
    posts: int


@dataclass(frozen=True)
class Profile:
    actor: Actor
    followers: int
    following: int
    posts: list[Post]


async def node_summary(node: Node) -> NodeSummary:
    async with node.reads() as db:
        org = await db.scalar(
            select(Actor).where(Actor.local.is_(True), Actor.username == ORG_USERNAME)
        )
        users = await db.scalar(
            select(func.count()).select_from(User).where(User.disabled.is_(False))
        )
        posts = await db.scalar(
            select(func.count())
            .select_from(Post)
            .where(Post.local.is_(True), Post.deleted_at.is_(None))
        )
    return NodeSummary(
        domain=node.settings.domain,
        org_name=org.display_name if org else node.settings.org_name,
        users=int(users or 0),
        posts=int(posts or 0),
    )


async def public_profile(node: Node, username: str, *, limit: int = 20) -> Profile | None:
    """A local person's profile as an anonymous visitor sees it."""
    async with node.reads() as db:
        row = (
            await db.execute(
                select(Actor, User)
                .join(User, User.actor_id == Actor.id)
                .where(Actor.local.is_(True), Actor.username == username.lower())
            )
        ).first()
        if row is None or row[1].disabled:
            return None
        actor = row[0]
        counts = {}
        for name, column in (("followers", Follow.followee_id), ("following", Follow.follower_id)):
            counts[name] = await db.scalar(
                select(func.count())
                .select_from(Follow)
                .where(column == actor.id, Follow.state == ACCEPTED)
            )
        candidates = list(
            await db.scalars(
                select(Post)
                .where(
                    Post.actor_id == actor.id,
                    Post.deleted_at.is_(None),
                    Post.reblog_of_id.is_(None),
                )
                .order_by(Post.id.desc())
                .limit(limit * 2)
            )
        )
        posts = [p for p in candidates if aud.can_see(aud.ANONYMOUS, await post_facts(db, p))]
    return Profile(
        actor=actor,
        followers=int(counts["followers"] or 0),
        following=int(counts["following"] or 0),
        posts=posts[:limit],
    )
