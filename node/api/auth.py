"""Bearer-token authentication and scope checks for the client API."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import make_transient_to_detached

from node.api.errors import ApiError, forbidden, unauthorized
from node.api.ratelimit import RATE_LIMITER
from node.api.scopes import grants
from node.appkeys import NODE
from node.db.models import Actor, OAuthApp, OAuthToken, User
from node.db.one_hop import Reads, Row, one_hop


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


_MODELS: tuple[type[Any], ...] = (OAuthToken, OAuthApp, User, Actor)
_ATTRIBUTES = tuple(tuple(p.key for p in inspect(m).column_attrs) for m in _MODELS)
#: The token with its app, user and account: every request with a token runs this, so
#: it is one statement (it was four, 0.3 to 0.5 ms each through the ORM on SQLite).
TOKEN_LOOKUP = (
    select(*(getattr(m, key) for m, keys in zip(_MODELS, _ATTRIBUTES, strict=True) for key in keys))
    .select_from(OAuthToken)
    .outerjoin(OAuthApp, OAuthApp.id == OAuthToken.app_id)
    .outerjoin(User, User.id == OAuthToken.user_id)
    .outerjoin(Actor, Actor.id == User.actor_id)
    .where(OAuthToken.token_hash == bindparam("token_hash"))
)


def _detached(row: Row) -> list[Any]:
    """The token, app, user and actor of a ``TOKEN_LOOKUP`` row (None where missing), as
    ORM objects in the state a closed session leaves its objects in — detached, every
    column loaded, no pending change — exactly what loading them with ``db.get`` gave."""
    objects: list[Any] = []
    start = 0
    for model, keys in zip(_MODELS, _ATTRIBUTES, strict=True):
        values = row[start : start + len(keys)]
        start += len(keys)
        if values[keys.index("id")] is None:
            objects.append(None)
            continue
        # As the ORM's own loading does: the values go straight into the instance's
        # dict (no attribute events, no history), then it gets its identity. Five times
        # cheaper than ``model(**values)``, which records every column as a change.
        instance = inspect(model).class_manager.new_instance()
        instance.__dict__.update(zip(keys, values, strict=True))
        make_transient_to_detached(instance)
        objects.append(instance)
    return objects


async def _load(request: web.Request, connection: AsyncConnection | None = None) -> Auth | None:
    """The request's token, app, user and account (cached in the request); read on
    ``connection`` when the handler holds one already (a read connection costs ≈ 0.3 ms
    of CPU to open and close on SQLite), else on one of its own."""
    if AUTH_KEY in request:
        return request[AUTH_KEY]
    token = bearer_token(request)
    auth = None
    if token is not None:
        params = {"token_hash": hash_secret(token)}

        def lookup(reads: Reads) -> list[Row]:
            return reads.all(TOKEN_LOOKUP, params)

        if connection is not None:
            rows = await one_hop(connection, lookup)
        else:
            async with request.app[NODE].read_engine.connect() as own:
                rows = await one_hop(own, lookup)
        if not rows:
            raise unauthorized()
        row, app, user, actor = _detached(rows[0])
        if row.revoked_at is not None:
            raise unauthorized()
        if user is not None and user.disabled:
            raise unauthorized("Your login is currently disabled")
        auth = Auth(token=row, app=app, user=user, actor=actor)
        limiter = request.app.get(RATE_LIMITER)
        if limiter is not None and actor is not None:
            limiter.remember("token:" + params["token_hash"], actor.id)
    request[AUTH_KEY] = auth
    return auth


async def optional_auth(request: web.Request, scope: str = "read") -> Auth | None:
    """Public endpoints: anonymous is fine, but a bad token is still a 401."""
    auth = await _load(request)
    if auth is not None and not grants(auth.scopes, scope):
        raise forbidden()
    return auth


async def require_auth(
    request: web.Request,
    scope: str | None,
    *,
    user: bool = True,
    connection: AsyncConnection | None = None,
) -> Auth:
    """A valid token granting ``scope`` (any scope when None), for a user unless
    ``user=False`` (client-credentials tokens act for the app alone); ``connection``: a
    read connection the handler holds, to look the token up on."""
    auth = await _load(request, connection)
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


async def require_user(
    request: web.Request, scope: str, *, connection: AsyncConnection | None = None
) -> tuple[Auth, Actor]:
    auth = await require_auth(request, scope, connection=connection)
    assert auth.actor is not None
    return auth, auth.actor
