"""People as the web pages show them: finding someone by page address, and what their
page shows a given reader (posts through the visibility rules, counters, the reader's
relationship and circles)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from node.accounts import PostFilter, account_posts
from node.circles import add_members, circles_of, members, own_circle, remove_members
from node.context import Node, transaction
from node.db.models import Actor, ActorStats, Circle, Post, User
from node.errors import NotFound
from node.follows import Page
from node.relationships import Relationship, relationship
from node.remote_actors import resolve_account
from node.web_sessions import actors_by_id

#: The actor types a person's page may be about (not the node's Application actor).
PAGE_TYPES = ("Person", "Service", "Group", "Organization")


@dataclass(frozen=True)
class CircleMembership:
    circle: Circle
    member: bool


@dataclass(frozen=True)
class PersonPage:
    person: Actor
    posts: list[Post]
    stats: ActorStats | None
    #: the reader's relation to the person; None when signed out or on one's own page
    relationship: Relationship | None
    circles: list[CircleMembership]


def split_address(handle: str, domain: str) -> tuple[str, str | None]:
    """``name`` or ``name@host`` of a page address; a handle of this node is local."""
    name, _, host = handle.lstrip("@").partition("@")
    if not host or host.lower() == domain.lower():
        return name.lower(), None
    return name, host


async def local_person(node: Node, username: str) -> Actor | None:
    """An enabled local account's actor (the Organization and Application actors have no
    user row, so no page)."""
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
    return row[0]


async def find_person(node: Node, handle: str, *, may_fetch: bool) -> Actor:
    """The person a page address names. Someone of another server is fetched (WebFinger)
    only when ``may_fetch``: anonymous visitors must not make the node fetch any host."""
    username, host = split_address(handle, node.settings.domain)
    if host is None:
        found = await local_person(node, username)
        if found is None:
            raise NotFound(f"no account @{username} on this node")
        return found
    if not may_fetch:
        async with node.reads() as db:
            known = await db.scalar(
                select(Actor).where(
                    Actor.local.is_(False), Actor.username == username, Actor.domain == host
                )
            )
        if known is None:
            raise NotFound(f"@{username}@{host} is not known here: sign in to look it up")
        return known
    return await resolve_account(node, f"{username}@{host}")


async def person_by_id(node: Node, actor_id: int) -> Actor:
    async with node.reads() as db:
        actor = await db.get(Actor, actor_id)
    if actor is None or actor.type not in PAGE_TYPES:
        raise NotFound("no such person")
    return actor


async def person_page(node: Node, viewer: Actor | None, person: Actor, page: Page) -> PersonPage:
    """What ``viewer`` sees on ``person``'s page."""
    rel: Relationship | None = None
    circles: list[CircleMembership] = []
    async with node.reads() as db:
        # boosts are left out: a page shows what the person wrote
        posts = await account_posts(db, viewer, person, PostFilter(exclude_reblogs=True), page)
        stats = await db.get(ActorStats, person.id)
        if viewer is not None and viewer.id != person.id:
            rel = await relationship(db, viewer.id, person.id)
            for circle in await circles_of(db, viewer):
                inside = any(m.id == person.id for m in await members(db, circle))
                circles.append(CircleMembership(circle, inside))
    return PersonPage(person, posts, stats, rel, circles)


async def set_circle_membership(
    node: Node, owner: Actor, circle_id: int | str, person: Actor, *, member: bool
) -> None:
    """Put ``person`` in one of ``owner``'s circles, or take them out (NotFound for a
    circle that is not the owner's)."""
    async with transaction(node) as db:
        circle = await own_circle(db, owner, circle_id)
        if member:
            await add_members(db, circle, [person])
        else:
            await remove_members(db, circle, [person.id])


async def authors_of(node: Node, posts: Iterable[Post]) -> dict[int, Actor]:
    """The authors of some posts, by actor id, in one query."""
    async with node.reads() as db:
        return await actors_by_id(db, {p.actor_id for p in posts})
