"""What a person changes about their own account from the settings pages: password,
avatar, and which apps may act for them.

The profile text and the lock flag go through ``node.accounts.update_profile`` (which
also tells followers' servers); this module holds what that service does not.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from node.accounts import MIN_PASSWORD_LENGTH, ProfileChange, update_profile
from node.context import Node, transaction
from node.db.models import Actor, OAuthApp, OAuthToken, User
from node.db.types import utcnow
from node.errors import Forbidden, Invalid, NotFound
from node.identity.sessions import identity_row, sessions_revoked_at
from node.media import media_url, store_image
from node.passwords import hash_password, verify_password
from node.web_sessions import end_other_sessions

#: Avatars are shown small: a bigger upload is refused before decoding.
AVATAR_MAX_BYTES = 4 * 1024 * 1024
#: The side avatars are stored at (the client API's ``update_credentials`` uses the same).
AVATAR_SIDE = 400
MAX_PASSWORD_LENGTH = 1024


async def change_password(node: Node, user_id: int, current: str, new: str, again: str) -> None:
    """Replace the password after checking the current one. Nothing changes on any error.
    Argon2 runs in worker threads: each hash takes tens of milliseconds."""
    if new != again:
        raise Invalid("the two new passwords differ")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"the new password is too short: at least {MIN_PASSWORD_LENGTH} characters")
    if len(new) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"the new password is too long: at most {MAX_PASSWORD_LENGTH} characters")
    async with node.reads() as db:
        user = await db.get(User, user_id)
    if user is None or user.disabled:
        raise NotFound("no such account")
    if not await asyncio.to_thread(verify_password, user.password_hash, current):
        raise Forbidden("the current password is wrong")
    new_hash = await asyncio.to_thread(hash_password, new)
    async with transaction(node) as db:
        await db.execute(update(User).where(User.id == user_id).values(password_hash=new_hash))


async def set_avatar(node: Node, actor: Actor, data: bytes, mime_type: str | None) -> Actor:
    """Store a new avatar (re-encoded, metadata stripped, at most ``AVATAR_SIDE`` pixels a
    side) and publish it with the profile."""
    if len(data) > AVATAR_MAX_BYTES:
        raise Invalid(f"the picture is too large: at most {AVATAR_MAX_BYTES // 2**20} MB")
    if not data:
        raise Invalid("choose a picture to upload")
    stored = await store_image(node, data, mime_type=mime_type, max_side=AVATAR_SIDE)
    url = media_url(node.settings.base_url, stored.file_name)
    return await update_profile(node, actor.id, ProfileChange(avatar_url=url))


@dataclass(frozen=True)
class AuthorisedApp:
    """An app holding live tokens for the account, with what it may do."""

    app_id: int
    name: str
    website: str | None
    scopes: list[str]
    tokens: int
    authorised_at: datetime
    last_used_at: datetime | None


async def authorised_apps(node: Node, user_id: int) -> list[AuthorisedApp]:
    """Apps with at least one unrevoked token of this user, most recently authorised first."""
    async with node.reads() as db:
        rows = (
            await db.execute(
                select(OAuthApp, OAuthToken)
                .join(OAuthToken, OAuthToken.app_id == OAuthApp.id)
                .where(OAuthToken.user_id == user_id, OAuthToken.revoked_at.is_(None))
                .order_by(OAuthToken.id)
            )
        ).all()
    apps: dict[int, AuthorisedApp] = {}
    for app, token in rows:
        seen = apps.get(app.id)
        scopes = sorted({*(seen.scopes if seen else []), *token.scopes.split()})
        used = [t for t in (seen.last_used_at if seen else None, token.last_used_at) if t]
        apps[app.id] = AuthorisedApp(
            app_id=app.id,
            name=app.name,
            website=app.website,
            scopes=scopes,
            tokens=(seen.tokens if seen else 0) + 1,
            authorised_at=max(seen.authorised_at, token.created_at) if seen else token.created_at,
            last_used_at=max(used) if used else None,
        )
    return sorted(apps.values(), key=lambda a: a.authorised_at, reverse=True)


async def revoke_app(node: Node, user_id: int, app_id: int) -> int:
    """Revoke every token ``app_id`` holds for this user (the app must be authorised again
    to act for them); returns how many were revoked. Unknown apps are NotFound."""
    async with transaction(node) as db:
        live = await db.scalar(
            select(func.count())
            .select_from(OAuthToken)
            .where(
                OAuthToken.user_id == user_id,
                OAuthToken.app_id == app_id,
                OAuthToken.revoked_at.is_(None),
            )
        )
        if not live:
            raise NotFound("this app holds no access to your account")
        await db.execute(
            update(OAuthToken)
            .where(
                OAuthToken.user_id == user_id,
                OAuthToken.app_id == app_id,
                OAuthToken.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
    return int(live)


# --- web sessions ----------------------------------------------------------------------


async def sessions_cut_at(node: Node, user_id: int) -> datetime | None:
    """When the account's web sessions were last all signed out, if ever."""
    async with node.reads() as db:
        return await sessions_revoked_at(db, user_id)


async def sign_out_other_sessions(node: Node, user_id: int) -> int:
    """End every web session of the account; returns the first whole second a new
    session may be issued at to outlive the cut (the caller's fresh session).

    Their rows go (node/web_sessions.py), and the moment is kept too
    (``node.identity.sessions``): a cookie issued at or before it is refused. OAuth
    tokens are not touched: apps are revoked one by one."""
    now = utcnow()
    async with transaction(node) as db:
        row = await identity_row(db, user_id)
        row.sessions_revoked_at = now
        row.updated_at = now
        await end_other_sessions(db, user_id)
    return int(now.timestamp()) + 1
