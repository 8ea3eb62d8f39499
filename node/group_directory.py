"""The directory of groups people may find and join: this node's and its partners'.

A group is listed when its actor is ``discoverable`` and, for a group hosted here, when
its settings do not make it invitation-only. Members-only groups are listed (their name
and description only: joining is by approved request), but their posts and members stay
hidden as everywhere else. Groups of nodes that are not partners are never listed.

Groups are being built beside this (node/db/models/groups.py); the optional settings
read here (``invite_only``, ``hidden``) are honoured when that model has them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.context import Node
from node.db.models import Actor, Follow, GroupSettings
from node.db.models.follows import ACCEPTED
from node.visibility import active_partner_domains


@dataclass(frozen=True)
class GroupListing:
    actor: Actor
    #: None for a partner's group (its settings live on its node)
    members_only: bool | None
    #: members known here (local followers and, for our groups, every accepted member)
    members: int
    local: bool


def _unlisted(settings: GroupSettings | None) -> bool:
    """Settings that keep a local group out of the directory, if the model has them."""
    if settings is None:
        return False
    return bool(getattr(settings, "invite_only", False) or getattr(settings, "hidden", False))


async def directory_groups(
    db: AsyncSession, *, local_only: bool = False, limit: int = 40, offset: int = 0
) -> list[GroupListing]:
    """Listed groups, the most followed first, then by name."""
    partners = sorted(await active_partner_domains(db))
    members = (
        select(Follow.followee_id, func.count().label("n"))
        .where(Follow.state == ACCEPTED)
        .group_by(Follow.followee_id)
        .subquery()
    )
    where = [Actor.type == "Group", Actor.discoverable.is_(True)]
    if local_only:
        where.append(Actor.local.is_(True))
    else:
        where.append(or_(Actor.local.is_(True), Actor.domain.in_(partners)))
    rows = await db.execute(
        select(Actor, GroupSettings, func.coalesce(members.c.n, 0))
        .outerjoin(GroupSettings, GroupSettings.actor_id == Actor.id)
        .outerjoin(members, members.c.followee_id == Actor.id)
        .where(*where)
        .order_by(func.coalesce(members.c.n, 0).desc(), Actor.username, Actor.id)
    )
    listed = [
        GroupListing(
            actor=actor,
            members_only=settings.members_only if settings is not None else None,
            members=int(count),
            local=actor.local,
        )
        for actor, settings, count in rows.all()
        if not (actor.local and _unlisted(settings))
    ]
    return listed[offset : offset + limit]


async def listed_groups(node: Node, *, limit: int = 40) -> list[GroupListing]:
    """The directory for a web page (which never opens sessions itself)."""
    async with node.reads() as db:
        return await directory_groups(db, limit=limit)
