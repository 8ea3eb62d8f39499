"""SCIM Groups: the company directory's groups, whose members are local accounts. A group
linked to a circle (node/identity/scim/links.py) moves that circle's membership with it,
inside the same request."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import Actor, ScimGroup, ScimGroupMember, User, UserIdentity
from node.db.types import utcnow
from node.identity.audit import record_audit
from node.identity.scim.links import sync_group
from node.identity.scim.resources import conflict, get_ci, invalid, iso, not_found, parse_id
from node.identity.scim.schemas import GROUP

MAX_NAME = 255


async def representation(db: AsyncSession, base: str, group: ScimGroup) -> dict[str, Any]:
    rows = await db.execute(
        select(User.id)
        .join(ScimGroupMember, ScimGroupMember.user_id == User.id)
        .join(Actor, Actor.id == User.actor_id)
        .where(ScimGroupMember.group_id == group.id)
        .order_by(User.id)
    )
    resource: dict[str, Any] = {
        "schemas": [GROUP],
        "id": str(group.id),
        "displayName": group.display_name,
        "members": [
            {"value": str(uid), "$ref": f"{base}/Users/{uid}", "type": "User"}
            for (uid,) in rows.all()
        ],
        "meta": {
            "resourceType": "Group",
            "created": iso(group.created_at),
            "lastModified": iso(group.updated_at),
            "location": f"{base}/Groups/{group.id}",
        },
    }
    if group.external_id:
        resource["externalId"] = group.external_id
    return resource


async def load(db: AsyncSession, group_id: str) -> ScimGroup:
    group = await db.get(ScimGroup, parse_id(group_id, "Group"))
    if group is None:
        raise not_found("Group", group_id)
    return group


async def all_groups(db: AsyncSession) -> list[ScimGroup]:
    return list(await db.scalars(select(ScimGroup).order_by(ScimGroup.id)))


def _display_name(data: dict[str, Any]) -> str:
    value = get_ci(data, "displayName")
    if not isinstance(value, str) or not value.strip():
        raise invalid("displayName is required")
    if len(value) > MAX_NAME:
        raise invalid(f"displayName is at most {MAX_NAME} characters")
    return value.strip()


async def _member_ids(db: AsyncSession, data: dict[str, Any]) -> list[int]:
    """The user ids of ``members``; an unknown or deprovisioned user is a 400, so a
    directory bug cannot silently drop people."""
    members = get_ci(data, "members") or []
    if not isinstance(members, list):
        raise invalid("members must be a list")
    wanted: list[int] = []
    for member in members:
        value = member.get("value") if isinstance(member, dict) else None
        if not isinstance(value, str) or not value.isdigit() or len(value) > 20:
            raise invalid(f"members: {value!r} is not a user id")
        wanted.append(int(value))
    wanted = list(dict.fromkeys(wanted))
    if wanted:
        found = set(
            await db.scalars(
                select(User.id)
                .outerjoin(UserIdentity, UserIdentity.user_id == User.id)
                .where(User.id.in_(wanted), UserIdentity.deprovisioned_at.is_(None))
            )
        )
        missing = [str(w) for w in wanted if w not in found]
        if missing:
            raise invalid(f"members: no user {', '.join(missing)}")
    return wanted


async def _name_taken(db: AsyncSession, name: str, except_id: int | None) -> bool:
    found = await db.scalar(select(ScimGroup.id).where(ScimGroup.display_name == name))
    return found is not None and found != except_id


async def _apply(db: AsyncSession, group: ScimGroup, data: dict[str, Any]) -> None:
    members = await _member_ids(db, data)
    external = get_ci(data, "externalId")
    group.external_id = str(external)[:255] if external is not None else None
    group.updated_at = utcnow()
    await db.execute(delete(ScimGroupMember).where(ScimGroupMember.group_id == group.id))
    for user_id in members:
        db.add(ScimGroupMember(group_id=group.id, user_id=user_id))
    await db.flush()
    record_audit(
        db, "scim.group.changed", target=group.display_name, detail={"members": len(members)}
    )
    await sync_group(db, group)


async def create(db: AsyncSession, data: dict[str, Any]) -> ScimGroup:
    name = _display_name(data)
    if await _name_taken(db, name, None):
        raise conflict(f"a group named {name!r} exists")
    now = utcnow()
    group = ScimGroup(display_name=name, created_at=now, updated_at=now)
    db.add(group)
    await db.flush()
    await _apply(db, group, data)
    return group


async def replace(db: AsyncSession, group_id: str, data: dict[str, Any]) -> ScimGroup:
    group = await load(db, group_id)
    name = _display_name(data)
    if await _name_taken(db, name, group.id):
        raise conflict(f"a group named {name!r} exists")
    group.display_name = name
    await _apply(db, group, data)
    return group


async def remove(db: AsyncSession, group_id: str) -> None:
    """Deleting a directory group empties what it was linked to of its local members."""
    group = await load(db, group_id)
    await db.execute(delete(ScimGroupMember).where(ScimGroupMember.group_id == group.id))
    await db.flush()
    await sync_group(db, group)
    record_audit(db, "scim.group.changed", target=group.display_name, detail={"deleted": True})
    await db.delete(group)
