"""Local accounts and the local actors behind them (Person, Organization, Application)."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.context import Node
from node.db.models import Actor, User
from node.errors import Conflict, Invalid, NotFound
from node.keys import new_actor_keys
from node.passwords import hash_password
from node.urls import RESERVED_USERNAMES

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")
MIN_PASSWORD_LENGTH = 8


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise Invalid(f"invalid user name {username!r}: use 1-30 letters, digits or _")
    if name in RESERVED_USERNAMES:
        raise Invalid(f"user name {name!r} is reserved")
    return name


async def create_local_actor(
    node: Node,
    db: AsyncSession,
    *,
    username: str,
    actor_type: str,
    uri: str,
    display_name: str = "",
    summary: str = "",
    profile_url: str | None = None,
    locked: bool = False,
) -> Actor:
    keys = new_actor_keys()
    actor = Actor(
        uri=uri,
        local=True,
        type=actor_type,
        username=username,
        domain=node.settings.domain,
        display_name=display_name,
        summary=summary,
        inbox=f"{uri}/inbox",
        outbox=f"{uri}/outbox",
        followers_url=f"{uri}/followers",
        following_url=f"{uri}/following",
        shared_inbox=node.urls.shared_inbox(),
        url=profile_url or uri,
        public_key_id=f"{uri}#main-key",
        public_key_pem=keys.public_key_pem,
        private_key_pem=keys.private_key_pem,
        ed25519_public_multibase=keys.ed25519_public_multibase,
        ed25519_private_pem=keys.ed25519_private_pem,
        manually_approves=locked,
    )
    db.add(actor)
    await db.flush()
    return actor


async def create_user(
    node: Node,
    db: AsyncSession,
    *,
    username: str,
    password: str,
    email: str | None = None,
    admin: bool = False,
    display_name: str = "",
) -> User:
    name = check_username(username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if email is not None and "@" not in email:
        raise Invalid(f"invalid e-mail address {email!r}")
    if await local_actor_by_username(db, name) is not None:
        raise Conflict(f"user {name} already exists")
    if email and await db.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"e-mail address {email} is already used")
    actor = await create_local_actor(
        node,
        db,
        username=name,
        actor_type="Person",
        uri=node.urls.user(name),
        display_name=display_name or name.capitalize(),
        profile_url=node.urls.profile(name),
    )
    user = User(
        actor_id=actor.id, email=email, password_hash=hash_password(password), is_admin=admin
    )
    db.add(user)
    await db.flush()
    return user


async def local_actor_by_username(db: AsyncSession, username: str) -> Actor | None:
    return await db.scalar(
        select(Actor).where(Actor.local.is_(True), Actor.username == username.lower())
    )


async def require_user_actor(db: AsyncSession, username: str) -> tuple[User, Actor]:
    """The enabled account named ``username``, or NotFound with a clear message."""
    row = (
        await db.execute(
            select(User, Actor)
            .join(Actor, Actor.id == User.actor_id)
            .where(Actor.username == username.lower(), Actor.local.is_(True))
        )
    ).first()
    if row is None:
        raise NotFound(f"unknown user {username!r}")
    user, actor = row
    if user.disabled:
        raise NotFound(f"user {username!r} is disabled")
    return user, actor


async def list_users(db: AsyncSession) -> list[tuple[User, Actor]]:
    rows = await db.execute(
        select(User, Actor).join(Actor, Actor.id == User.actor_id).order_by(Actor.username)
    )
    return [(u, a) for u, a in rows.all()]


async def set_disabled(db: AsyncSession, username: str, disabled: bool = True) -> User:
    row = (
        await db.execute(
            select(User).join(Actor, Actor.id == User.actor_id).where(Actor.username == username)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"unknown user {username!r}")
    row.disabled = disabled
    return row


async def count_users(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(User)) or 0)
