"""Signed session cookies and CSRF tokens for the web pages.

There is no session table: the cookie carries ``user id . issued-at . nonce . signature``,
signed with the node's ``web_session_key``. Anonymous visitors get one too (user id 0) so
the sign-in form has a nonce for its CSRF token. The form's token is an HMAC of the
cookie's nonce (double submit): another site can neither read the HttpOnly cookie nor sign a
nonce of its own. Signing in makes a new nonce, so a nonce planted before sign-in is useless.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from aiohttp import web

from node.appkeys import NODE
from node.db.models import Actor, User
from node.web_sessions import open_session, session_user, web_session_key

COOKIE = "cercle_session"
CSRF_FIELD = "csrf_token"
#: Scripts send the token in this header (the page's ``<meta name="csrf-token">``): a
#: cross-site page can neither read the token nor set a custom header without CORS.
CSRF_HEADER = "X-CSRF-Token"
#: A signed-in session lasts thirty days; signing out forgets the cookie.
MAX_AGE = 30 * 24 * 3600
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@dataclass
class WebSession:
    """Who is signing the page, and the nonce its forms are bound to."""

    nonce: str
    user: User | None = None
    actor: Actor | None = None
    #: True when the browser does not hold this session's cookie yet.
    fresh: bool = False
    issued: int = 0

    @property
    def signed_in(self) -> bool:
        return self.actor is not None


_SESSION = web.RequestKey("webui_session", WebSession)


async def _key(request: web.Request) -> bytes:
    return await web_session_key(request.app[NODE])


def _sign(key: bytes, payload: str) -> str:
    return hmac.new(key, b"session:" + payload.encode(), hashlib.sha256).hexdigest()


def csrf_token(key: bytes, nonce: str) -> str:
    """The hidden field's value for forms of the session holding ``nonce``."""
    return hmac.new(key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()


def _parse(key: bytes, value: str, now: int) -> tuple[int, int, str] | None:
    parts = value.split(".")
    if len(parts) != 4:
        return None
    user_id, issued, nonce, signature = parts
    if not (user_id.isdigit() and issued.isdigit() and NONCE_RE.match(nonce)):
        return None
    if not hmac.compare_digest(_sign(key, f"{user_id}.{issued}.{nonce}"), signature):
        return None
    if int(user_id) and now - int(issued) > MAX_AGE:
        return None
    return int(user_id), int(issued), nonce


async def current_session(request: web.Request) -> WebSession:
    """The request's session, read from its cookie once per request. A forged, expired or
    disabled user's cookie is treated as no cookie at all."""
    if _SESSION in request:
        return request[_SESSION]
    now = int(time.time())
    cookie = request.cookies.get(COOKIE, "")
    parsed = _parse(await _key(request), cookie, now) if cookie else None
    session = WebSession(nonce=secrets.token_urlsafe(32), fresh=True, issued=now)
    if parsed is not None:
        user_id, issued, nonce = parsed
        found = await session_user(request.app[NODE], user_id, issued, nonce) if user_id else None
        if user_id == 0 or found is not None:
            session = WebSession(nonce=nonce, issued=issued)
            if found is not None:
                session.user, session.actor = found
    request[_SESSION] = session
    return session


async def sign_in(request: web.Request, user: User, actor: Actor) -> WebSession:
    """Start a signed-in session with a new nonce (no session fixation)."""
    session = WebSession(
        nonce=secrets.token_urlsafe(32),
        user=user,
        actor=actor,
        fresh=True,
        issued=int(time.time()),
    )
    request[_SESSION] = session
    return session


async def store(request: web.Request, response: web.StreamResponse) -> None:
    """Send the session's cookie when the browser does not have it yet."""
    session = await current_session(request)
    if not session.fresh:
        return
    key = await _key(request)
    user_id = session.user.id if session.user is not None else 0
    if user_id:
        # A signed-in session is open while its row exists (node/web_sessions.py).
        agent = request.headers.get("User-Agent", "")
        await open_session(request.app[NODE], user_id, session.nonce, agent)
    payload = f"{user_id}.{session.issued}.{session.nonce}"
    response.set_cookie(
        COOKIE,
        f"{payload}.{_sign(key, payload)}",
        path="/",
        max_age=MAX_AGE if user_id else None,
        httponly=True,
        samesite="Lax",
        secure=request.app[NODE].settings.scheme == "https",
    )


def forget(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/")


async def csrf_for(request: web.Request) -> str:
    session = await current_session(request)
    return csrf_token(await _key(request), session.nonce)


async def csrf_valid(request: web.Request, token: str) -> bool:
    """True only when the token signs the nonce of a cookie the browser sent."""
    session = await current_session(request)
    if session.fresh or not token:
        return False
    return hmac.compare_digest(csrf_token(await _key(request), session.nonce), token)
