"""Account administration for the admin pages: invitations, roles, disabling.

Roles are ``admin``, ``moderator`` and ``user``. ``admin`` is the ``users.is_admin``
flag every other part of the node already reads. There is no role column yet, so the
moderator role is kept as one ``node_settings`` row per moderator (``role:<user id>``):
it is set at run time by an admin, which is what that table holds, and needs no schema
change. Moving it to a column is a data migration of those rows.

An invitation creates the account at once with a random temporary password that the
admin hands over (shown once, stored only as its argon2 hash); the person changes it in
their settings. The node sends no e-mail, so a one-time link would need the same hand-over.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import create_user, list_users
from node.context import Node, transaction
from node.db.models import Actor, NodeSetting, User
from node.errors import Forbidden, Invalid, NotFound
from node.identity.audit import record_audit

ADMIN = "admin"
MODERATOR = "moderator"
USER = "user"
ROLES = (ADMIN, MODERATOR, USER)
ROLE_KEY_PREFIX = "role:"
#: 16 characters from a 56-letter alphabet (no look-alikes): about 93 bits.
TEMPORARY_PASSWORD_LENGTH = 16
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Member:
    """One account as the users page lists it."""

    user: User
    actor: Actor
    role: str


@dataclass(frozen=True)
class Invitation:
    username: str
    temporary_password: str


def temporary_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH))


def _role_key(user_id: int) -> str:
    return f"{ROLE_KEY_PREFIX}{user_id}"


def check_role(role: str) -> str:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    return role


async def _moderator_ids(db: AsyncSession) -> set[int]:
    keys = await db.scalars(
        select(NodeSetting.key).where(NodeSetting.key.like(f"{ROLE_KEY_PREFIX}%"))
    )
    return {
        int(k.removeprefix(ROLE_KEY_PREFIX))
        for k in keys
        if k.removeprefix(ROLE_KEY_PREFIX).isdigit()
    }


async def members(node: Node) -> list[Member]:
    """Every account with its role, in user-name order."""
    async with node.reads() as db:
        rows = await list_users(db)
        moderators = await _moderator_ids(db)
    return [
        Member(u, a, ADMIN if u.is_admin else MODERATOR if u.id in moderators else USER)
        for u, a in rows
    ]


async def role_of(node: Node, user: User) -> str:
    if user.is_admin:
        return ADMIN
    async with node.reads() as db:
        found = await db.get(NodeSetting, _role_key(user.id))
    return MODERATOR if found is not None else USER


async def invite(node: Node, *, username: str, email: str = "", role: str = USER) -> Invitation:
    """Create the account with a temporary password, returned once to hand over."""
    check_role(role)
    password = temporary_password()
    async with transaction(node) as db:
        user = await create_user(
            node,
            db,
            username=username.strip().lstrip("@"),
            password=password,
            email=email.strip() or None,
            admin=role == ADMIN,
        )
        if role == MODERATOR:
            db.add(NodeSetting(key=_role_key(user.id), value=MODERATOR))
        actor = await db.get(Actor, user.actor_id)
        assert actor is not None
        name = actor.username
        record_audit(db, "user.invited", target=name, detail={"role": role})
    return Invitation(username=name, temporary_password=password)


async def _target(db: AsyncSession, username: str) -> User:
    user = await db.scalar(
        select(User)
        .join(Actor, Actor.id == User.actor_id)
        .where(Actor.local.is_(True), Actor.username == username.strip().lower())
    )
    if user is None:
        raise NotFound(f"unknown user {username!r}")
    return user


async def set_role(node: Node, acting: User, username: str, role: str) -> None:
    """Change someone's role. An admin cannot drop their own admin role: the node would
    risk having no admin left, and the page they are on would stop working."""
    check_role(role)
    async with transaction(node) as db:
        user = await _target(db, username)
        if user.id == acting.id and role != ADMIN:
            raise Forbidden("you cannot remove your own admin role: ask another admin")
        user.is_admin = role == ADMIN
        await db.execute(delete(NodeSetting).where(NodeSetting.key == _role_key(user.id)))
        if role == MODERATOR:
            db.add(NodeSetting(key=_role_key(user.id), value=MODERATOR))
        record_audit(
            db, "user.role", target=username.strip().lower(), detail={"role": role, "by": acting.id}
        )


async def set_enabled(node: Node, acting: User, username: str, enabled: bool) -> None:
    """Disable or enable an account. A disabled account is signed out of the web pages on
    its next request and its tokens stop working (the readers check ``disabled``)."""
    async with transaction(node) as db:
        user = await _target(db, username)
        if user.id == acting.id and not enabled:
            raise Forbidden("you cannot disable your own account")
        user.disabled = not enabled
        record_audit(
            db,
            "user.enabled" if enabled else "user.disabled",
            target=username.strip().lower(),
            detail={"by": acting.id},
        )
