"""What a directory group can drive: a circle, or a group hosted here.

A ``ScimGroup`` linked to a target keeps that target's local membership equal to the
directory group's active members, after every change to either. Each kind of target is a
:class:`LinkTarget` in ``LINK_TARGETS``; the groups feature adds its own with
:func:`register_link_target` (kind ``"group"``) without touching this module.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import circles
from node.db.ids import new_id
from node.db.models import (
    Actor,
    Circle,
    CircleMember,
    Follow,
    GroupRole,
    ScimGroup,
    ScimGroupMember,
    User,
)
from node.db.models.follows import ACCEPTED
from node.db.types import utcnow
from node.errors import Invalid, NotFound
from node.identity.audit import record_audit


class LinkTarget(Protocol):
    kind: str

    async def describe(self, db: AsyncSession, link_id: int) -> str | None:
        """A line for operators naming the target, or None when it no longer exists."""
        ...

    async def sync(self, db: AsyncSession, link_id: int, actor_ids: set[int]) -> None:
        """Make the target's local membership exactly ``actor_ids`` (local Persons)."""
        ...


class CircleTarget:
    """A person's circle follows the directory group. Only local accounts are managed:
    the remote people its owner put in it by hand stay; the owner is never a member of
    their own circle."""

    kind = "circle"

    async def describe(self, db: AsyncSession, link_id: int) -> str | None:
        row = (
            await db.execute(
                select(Circle, Actor)
                .join(Actor, Actor.id == Circle.owner_id)
                .where(Circle.id == link_id)
            )
        ).first()
        return None if row is None else f"circle {row[0].title!r} of {row[1].username}"

    async def sync(self, db: AsyncSession, link_id: int, actor_ids: set[int]) -> None:
        circle = await db.get(Circle, link_id)
        if circle is None:
            return
        wanted = actor_ids - {circle.owner_id}
        current = set(
            await db.scalars(
                select(CircleMember.actor_id)
                .join(Actor, Actor.id == CircleMember.actor_id)
                .where(CircleMember.circle_id == circle.id, Actor.local.is_(True))
            )
        )
        if current - wanted:
            await circles.remove_members(db, circle, current - wanted)
        missing = wanted - current
        if missing:
            people = list(await db.scalars(select(Actor).where(Actor.id.in_(missing))))
            await circles.add_members(db, circle, people)


class GroupTarget:
    """A group hosted here follows the directory group: its local members are exactly the
    directory group's active members (people of other nodes, and the group's own staff,
    are left alone: the directory speaks for this firm's people only)."""

    kind = "group"

    async def describe(self, db: AsyncSession, link_id: int) -> str | None:
        group = await db.get(Actor, link_id)
        if group is None or group.type != "Group" or not group.local:
            return None
        return f"group {group.username}"

    async def sync(self, db: AsyncSession, link_id: int, actor_ids: set[int]) -> None:
        if await self.describe(db, link_id) is None:
            return
        staff = set(
            await db.scalars(select(GroupRole.actor_id).where(GroupRole.group_id == link_id))
        )
        rows = {
            f.follower_id: f
            for f in await db.scalars(
                select(Follow)
                .join(Actor, Actor.id == Follow.follower_id)
                .where(Follow.followee_id == link_id, Actor.local.is_(True))
            )
        }
        for actor_id, row in rows.items():
            if actor_id not in actor_ids and actor_id not in staff:
                await db.delete(row)
        for actor_id in actor_ids:
            row = rows.get(actor_id)
            if row is None:
                db.add(
                    Follow(
                        follower_id=actor_id,
                        followee_id=link_id,
                        state=ACCEPTED,
                        activity_uri=f"scim:{link_id}:{actor_id}:{new_id()}",
                    )
                )
            elif row.state != ACCEPTED:
                row.state = ACCEPTED


LINK_TARGETS: dict[str, LinkTarget] = {"circle": CircleTarget(), "group": GroupTarget()}


def register_link_target(target: LinkTarget) -> None:
    """For the groups feature: ``register_link_target(GroupTarget())`` with kind "group"."""
    LINK_TARGETS[target.kind] = target


async def active_member_actor_ids(db: AsyncSession, group_id: int) -> set[int]:
    return set(
        await db.scalars(
            select(User.actor_id)
            .join(ScimGroupMember, ScimGroupMember.user_id == User.id)
            .where(ScimGroupMember.group_id == group_id, User.disabled.is_(False))
        )
    )


async def sync_group(db: AsyncSession, group: ScimGroup) -> None:
    if group.link_kind is None or group.link_id is None:
        return
    target = LINK_TARGETS.get(group.link_kind)
    if target is not None:
        await target.sync(db, group.link_id, await active_member_actor_ids(db, group.id))


async def sync_groups_of_user(db: AsyncSession, user_id: int) -> None:
    """After a user is suspended or comes back: every linked group they are in."""
    groups = await db.scalars(
        select(ScimGroup)
        .join(ScimGroupMember, ScimGroupMember.group_id == ScimGroup.id)
        .where(ScimGroupMember.user_id == user_id, ScimGroup.link_kind.is_not(None))
    )
    for group in list(groups):
        await sync_group(db, group)


async def find_group(db: AsyncSession, key: str) -> ScimGroup:
    """A directory group by id or display name."""
    group = await db.get(ScimGroup, int(key)) if key.isdigit() else None
    if group is None:
        group = await db.scalar(select(ScimGroup).where(ScimGroup.display_name == key))
    if group is None:
        raise NotFound(f"no directory group {key!r}")
    return group


async def link_group(
    db: AsyncSession, group: ScimGroup, kind: str | None, link_id: int | None
) -> None:
    """Link (or, with ``kind=None``, unlink) a directory group, and sync at once."""
    if kind is not None:
        target = LINK_TARGETS.get(kind)
        if target is None:
            raise Invalid(f"a directory group can drive a {' or a '.join(LINK_TARGETS)}")
        if link_id is None or await target.describe(db, link_id) is None:
            raise NotFound(f"no {kind} {link_id}")
    group.link_kind, group.link_id, group.updated_at = kind, link_id, utcnow()
    record_audit(
        db,
        "scim.group.changed",
        target=group.display_name,
        detail={"link": kind, "link_id": str(link_id) if link_id else None},
    )
    await sync_group(db, group)


async def describe_link(db: AsyncSession, group: ScimGroup) -> str:
    if group.link_kind is None or group.link_id is None:
        return "-"
    target = LINK_TARGETS.get(group.link_kind)
    text = await target.describe(db, group.link_id) if target is not None else None
    return text or f"{group.link_kind} {group.link_id} (gone)"
