"""Bearer-token authentication and scope checks for the client API."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select

from node.api.errors import ApiError, forbidden, unauthorized
from node.api.scopes import grants
from node.appkeys import NODE
from node.db.models import Actor, OAuthApp, OAuthToken, User


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Auth:
    token: OAuthToken
    app: OAuthApp | None
    user: User | None
    actor: Actor | None

    @property
    def scopes(self) -> str:
        return self.token.scopes


AUTH_KEY = web.RequestKey("cercle_auth", "Auth | None")


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query.get("access_token") or None


async def _load(request: web.Request) -> Auth | None:
    if AUTH_KEY in request:
        return request[AUTH_KEY]
    token = bearer_token(request)
    auth = None
    if token is not None:
        node = request.app[NODE]
        async with node.reads() as db:
            row = await db.scalar(
                select(OAuthToken).where(OAuthToken.token_hash == hash_secret(token))
            )
            if row is None or row.revoked_at is not None:
                raise unauthorized()
            app = await db.get(OAuthApp, row.app_id) if row.app_id else None
            user = await db.get(User, row.user_id) if row.user_id else None
            actor = await db.get(Actor, user.actor_id) if user else None
        if user is not None and user.disabled:
            raise unauthorized("Your login is currently disabled")
        auth = Auth(token=row, app=app, user=user, actor=actor)
    request[AUTH_KEY] = auth
    return auth


async def optional_auth(request: web.Request, scope: str = "read") -> Auth | None:
    """Public endpoints: anonymous is fine, but a bad token is still a 401."""
    auth = await _load(request)
    if auth is not None and not grants(auth.scopes, scope):
        raise forbidden()
    return auth


async def require_auth(request: web.Request, scope: str | None, *, user: bool = True) -> Auth:
    """A valid token granting ``scope`` (any scope when None), for a user unless
    ``user=False`` (client-credentials tokens act for the app alone)."""
    auth = await _load(request)
    if auth is None:
        raise unauthorized(
            "The access token is invalid"
            if bearer_token(request)
            else "This method requires an authenticated user"
        )
    if scope is not None and not grants(auth.scopes, scope):
        raise forbidden()
    if user and auth.actor is None:
        raise ApiError(422, "This method requires an authenticated user")
    return auth


async def require_user(request: web.Request, scope: str) -> tuple[Auth, Actor]:
    auth = await require_auth(request, scope)
    assert auth.actor is not None
    return auth, auth.actor
