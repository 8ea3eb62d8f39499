"""The organisation directory: the firm's people, as its members and visitors see them.

Only enabled accounts that chose to be listed (``discoverable``) appear; the
Organization and Application actors are not people and have no user row, so the join on
``users`` leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from node.context import Node
from node.db.models import Actor, User
from node.search import _like as like_pattern

PAGE_SIZE = 50


@dataclass(frozen=True)
class DirectoryPage:
    people: list[Actor]
    #: the user name to continue after, when there are more people
    after: str | None


async def directory_page(
    node: Node, *, after: str = "", query: str = "", limit: int = PAGE_SIZE
) -> DirectoryPage:
    """People in user-name order, ``limit`` at a time, optionally only those whose user
    name or display name contains ``query``; paged by the last user name shown (keyset),
    so a page is one index range whatever the firm's size."""
    stmt = (
        select(Actor)
        .join(User, User.actor_id == Actor.id)
        .where(
            Actor.local.is_(True),
            Actor.discoverable.is_(True),
            User.disabled.is_(False),
        )
    )
    if after:
        stmt = stmt.where(Actor.username > after)
    text = query.strip().lstrip("@").lower()
    if text:
        pattern = like_pattern(text)
        stmt = stmt.where(
            or_(
                Actor.username.like(pattern, escape="\\"),
                func.lower(Actor.display_name).like(pattern, escape="\\"),
            )
        )
    async with node.reads() as db:
        rows = list(await db.scalars(stmt.order_by(Actor.username).limit(limit + 1)))
    more = len(rows) > limit
    people = rows[:limit]
    return DirectoryPage(people=people, after=people[-1].username if more else None)
