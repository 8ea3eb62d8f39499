"""SCIM Users: local accounts as the company directory sees them.

The directory's representation is kept as it sent it (``UserIdentity.scim_attributes``),
and the fields Cercle acts on are applied to the account: ``userName`` (the local user
name is derived from it once: it is in every ActivityPub id of the account, so it never
changes), ``displayName``, the primary e-mail address, ``externalId`` and ``active``.
``active: false`` suspends the account at once: disabled, web sessions cut, OAuth tokens
revoked, linked circles updated. DELETE deprovisions: the account stays suspended and its
posts stay under the retention policy (and any legal hold); SCIM no longer shows it.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import create_user, local_actor_by_username
from node.context import Node
from node.db.models import Actor, ScimGroup, ScimGroupMember, User, UserIdentity
from node.db.types import utcnow
from node.identity.audit import record_audit
from node.identity.oidc_accounts import username_candidates
from node.identity.scim.links import sync_groups_of_user
from node.identity.scim.resources import (
    conflict,
    get_ci,
    invalid,
    iso,
    not_found,
    parse_id,
    stored_attributes,
)
from node.identity.scim.schemas import USER
from node.identity.sessions import identity_row, revoke_sessions_and_tokens

MAX_DISPLAY_NAME = 30

Row = tuple[User, Actor, UserIdentity | None]


def _user_query() -> Any:
    return (
        select(User, Actor, UserIdentity)
        .join(Actor, Actor.id == User.actor_id)
        .outerjoin(UserIdentity, UserIdentity.user_id == User.id)
        .where(UserIdentity.deprovisioned_at.is_(None))
    )


def _primary_email(data: dict[str, Any]) -> str | None:
    emails = get_ci(data, "emails")
    if emails is None:
        return None
    if not isinstance(emails, list):
        raise invalid("emails must be a list")
    values = [e for e in emails if isinstance(e, dict) and isinstance(e.get("value"), str)]
    chosen = next((e for e in values if e.get("primary") is True), values[0] if values else None)
    if chosen is None:
        return None
    email = chosen["value"].strip()
    if "@" not in email or len(email) > 320:
        raise invalid(f"invalid e-mail address {email!r}")
    return email


def _active(data: dict[str, Any]) -> bool:
    """A representation without ``active`` is an active account (as at creation), so
    a PUT or a PATCH removing ``active`` lifts a suspension."""
    value = get_ci(data, "active")
    if value is None:
        return True
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise invalid("active must be a boolean")
    return value


def _user_name(data: dict[str, Any]) -> str:
    value = get_ci(data, "userName")
    if not isinstance(value, str) or not value.strip():
        raise invalid("userName is required", "invalidValue")
    if len(value) > 255:
        raise invalid("userName is at most 255 characters")
    return value.strip()


def _display_name(data: dict[str, Any]) -> str | None:
    value = get_ci(data, "displayName")
    if value is None:
        name = get_ci(data, "name")
        value = get_ci(name, "formatted") if isinstance(name, dict) else None
    return str(value)[:MAX_DISPLAY_NAME] if value else None


async def _groups_of(db: AsyncSession, base: str, user_id: int) -> list[dict[str, Any]]:
    rows = await db.execute(
        select(ScimGroup.id, ScimGroup.display_name)
        .join(ScimGroupMember, ScimGroupMember.group_id == ScimGroup.id)
        .where(ScimGroupMember.user_id == user_id)
        .order_by(ScimGroup.display_name)
    )
    return [
        {"value": str(gid), "$ref": f"{base}/Groups/{gid}", "display": name, "type": "direct"}
        for gid, name in rows.all()
    ]


async def representation(db: AsyncSession, base: str, row: Row) -> dict[str, Any]:
    user, actor, identity = row
    stored = dict((identity.scim_attributes if identity else None) or {})
    resource: dict[str, Any] = {"schemas": [USER], "id": str(user.id), **stored}
    resource["userName"] = (identity.user_name if identity else None) or actor.username
    # An account the directory manages shows what the directory sent; one made here
    # shows what the node knows. A suspended account always says so.
    managed = identity is not None and identity.scim_attributes is not None
    if not managed or "active" in stored or user.disabled:
        resource["active"] = not user.disabled
    if not managed and actor.display_name:
        resource["displayName"] = actor.display_name
    if not managed and user.email:
        resource["emails"] = [{"value": user.email, "primary": True, "type": "work"}]
    if identity is not None and identity.external_id:
        resource["externalId"] = identity.external_id
    groups = await _groups_of(db, base, user.id)
    if groups:
        resource["groups"] = groups
    modified = identity.updated_at if identity is not None else user.created_at
    resource["meta"] = {
        "resourceType": "User",
        "created": iso(user.created_at),
        "lastModified": iso(max(modified, user.created_at)),
        "location": f"{base}/Users/{user.id}",
    }
    return resource


async def load(db: AsyncSession, user_id: str) -> Row:
    row = (await db.execute(_user_query().where(User.id == parse_id(user_id, "User")))).first()
    if row is None:
        raise not_found("User", user_id)
    return row[0], row[1], row[2]


async def all_users(db: AsyncSession) -> list[Row]:
    rows = await db.execute(_user_query().order_by(User.id))
    return [(u, a, i) for u, a, i in rows.all()]


async def _user_name_taken(db: AsyncSession, name: str, except_user: int | None) -> bool:
    """userName is unique, case-insensitively, among the accounts SCIM shows; an account
    the directory never named is known by its local user name."""
    for user, actor, identity in await all_users(db):
        if user.id == except_user:
            continue
        current = (identity.user_name if identity else None) or actor.username
        if current.lower() == name.lower():
            return True
    return False


async def _email_taken(db: AsyncSession, email: str, except_user: int | None) -> bool:
    found = await db.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    return found is not None and found != except_user


async def _set_active(db: AsyncSession, user: User, actor: Actor, active: bool) -> None:
    """Suspension takes effect inside this request: disabled, sessions and tokens cut,
    linked circles updated."""
    if active == (not user.disabled):
        return
    user.disabled = not active
    if not active:
        revoked = await revoke_sessions_and_tokens(db, user.id)
        record_audit(db, "user.suspended", target=actor.username, detail={"tokens": revoked})
    else:
        record_audit(db, "user.reactivated", target=actor.username)
    await db.flush()
    await sync_groups_of_user(db, user.id)


async def _apply(db: AsyncSession, row: Row, data: dict[str, Any], user_name: str) -> None:
    user, actor, _ = row
    email = _primary_email(data)
    if email is not None and await _email_taken(db, email, user.id):
        raise conflict(f"the e-mail address {email} is already used")
    identity = await identity_row(db, user.id)
    identity.user_name = user_name
    external = get_ci(data, "externalId")
    identity.external_id = str(external)[:255] if external is not None else None
    identity.scim_attributes = stored_attributes(data)
    identity.updated_at = utcnow()
    if email is not None:
        user.email = email
    display = _display_name(data)
    if display is not None:
        actor.display_name = display
    await _set_active(db, user, actor, _active(data))


async def create(node: Node, db: AsyncSession, data: dict[str, Any]) -> Row:
    user_name = _user_name(data)
    if await _user_name_taken(db, user_name, None):
        raise conflict(f"userName {user_name!r} is already used")
    email = _primary_email(data)
    if email is not None and await _email_taken(db, email, None):
        raise conflict(f"the e-mail address {email} is already used")
    local = None
    for name in username_candidates({"preferred_username": user_name, "email": email}):
        if await local_actor_by_username(db, name) is None:
            local = name
            break
    if local is None:
        raise conflict(f"no free local user name for {user_name!r}")
    user = await create_user(
        node,
        db,
        username=local,
        # Never typed by anyone: directory accounts sign in with the company account.
        password=secrets.token_urlsafe(32),
        email=email,
        display_name=_display_name(data) or "",
    )
    actor = await db.get(Actor, user.actor_id)
    assert actor is not None
    row: Row = (user, actor, None)
    await _apply(db, row, data, user_name)
    record_audit(db, "user.provisioned", target=actor.username, detail={"userName": user_name})
    return await load(db, str(user.id))


async def replace(db: AsyncSession, user_id: str, data: dict[str, Any]) -> Row:
    row = await load(db, user_id)
    user_name = _user_name(data)
    if await _user_name_taken(db, user_name, row[0].id):
        raise conflict(f"userName {user_name!r} is already used")
    await _apply(db, row, data, user_name)
    record_audit(db, "user.updated", target=row[1].username)
    return await load(db, user_id)


async def deprovision(db: AsyncSession, user_id: str) -> None:
    user, actor, _ = await load(db, user_id)
    identity = await identity_row(db, user.id)
    await _set_active(db, user, actor, False)
    identity.deprovisioned_at = utcnow()
    identity.user_name = None
    await db.execute(ScimGroupMember.__table__.delete().where(ScimGroupMember.user_id == user.id))
    record_audit(db, "user.deleted", target=actor.username)
