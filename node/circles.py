"""Circles: a person's private lists of people (local or on any node) to post to.

Membership is private to the owner: posts to a circle reach each member's personal inbox
with no list of the others (DESIGN.md section 3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import Actor, Circle, CircleMember
from node.dbutil import insert_ignore
from node.errors import Invalid, NotFound

MAX_TITLE = 255
MAX_CIRCLES = 200


def check_title(title: str | None) -> str:
    text = (title or "").strip()
    if not text:
        raise Invalid("a circle needs a title")
    if len(text) > MAX_TITLE:
        raise Invalid(f"a circle title is at most {MAX_TITLE} characters")
    return text


async def create_circle(db: AsyncSession, owner: Actor, title: str | None) -> Circle:
    count = await db.scalar(
        select(func.count()).select_from(Circle).where(Circle.owner_id == owner.id)
    )
    if (count or 0) >= MAX_CIRCLES:
        raise Invalid(f"at most {MAX_CIRCLES} circles")
    circle = Circle(owner_id=owner.id, title=check_title(title))
    db.add(circle)
    await db.flush()
    return circle


async def own_circle(db: AsyncSession, owner: Actor, circle_id: int | str) -> Circle:
    """The owner's circle, or NotFound: someone else's circle does not exist for you."""
    try:
        key = int(circle_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("Record not found") from exc
    circle = await db.get(Circle, key)
    if circle is None or circle.owner_id != owner.id:
        raise NotFound("Record not found")
    return circle


async def circles_of(db: AsyncSession, owner: Actor) -> list[Circle]:
    return list(
        await db.scalars(select(Circle).where(Circle.owner_id == owner.id).order_by(Circle.id))
    )


async def rename_circle(db: AsyncSession, circle: Circle, title: str | None) -> Circle:
    circle.title = check_title(title)
    return circle


async def delete_circle(db: AsyncSession, circle: Circle) -> None:
    await db.execute(delete(CircleMember).where(CircleMember.circle_id == circle.id))
    await db.delete(circle)


async def add_members(db: AsyncSession, circle: Circle, actors: Iterable[Actor]) -> None:
    people = list(actors)
    for actor in people:
        if actor.id == circle.owner_id:
            raise Invalid("you cannot put yourself in your own circle")
        if actor.type not in ("Person", "Service"):
            raise Invalid(f"{actor.handle} is not a person: only people go in circles")
    await insert_ignore(
        db,
        CircleMember.__table__,
        [{"circle_id": circle.id, "actor_id": a.id} for a in people],
    )


async def remove_members(db: AsyncSession, circle: Circle, actor_ids: Iterable[int]) -> None:
    await db.execute(
        delete(CircleMember).where(
            CircleMember.circle_id == circle.id, CircleMember.actor_id.in_(list(actor_ids))
        )
    )


async def members(db: AsyncSession, circle: Circle) -> list[Actor]:
    return list(
        await db.scalars(
            select(Actor)
            .join(CircleMember, CircleMember.actor_id == Actor.id)
            .where(CircleMember.circle_id == circle.id)
            .order_by(Actor.username)
        )
    )


async def recipients_of(
    db: AsyncSession, owner: Actor, circle_ids: Sequence[int | str]
) -> list[Actor]:
    """Everyone in the owner's chosen circles (each checked to be the owner's)."""
    if not circle_ids:
        raise Invalid("choose at least one circle")
    circles = [await own_circle(db, owner, c) for c in circle_ids]
    rows = await db.scalars(
        select(Actor)
        .join(CircleMember, CircleMember.actor_id == Actor.id)
        .where(CircleMember.circle_id.in_([c.id for c in circles]))
    )
    return list({a.id: a for a in rows}.values())
