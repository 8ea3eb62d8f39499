"""OAuth2 over HTTP: the authorization page, the token and revocation endpoints, and the
RFC 8414 metadata document Mastodon 4.3 serves.

The decisions live in ``node.oauth``; this module reads requests, checks the form's CSRF
token and throttles password guessing, and shapes answers: RFC 6749 JSON errors for the
token endpoint, HTML (never JSON, never a redirect to an unchecked URI) for the page.

There is no sign-in session: every authorization asks for the user name or e-mail and
the password on the consent form itself, so ``force_login`` is always honoured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from aiohttp import web

from node.api.errors import ApiError
from node.api.params import Params, read_params
from node.api.routing import route
from node.api.scopes import ALL_SCOPES, TOP_LEVEL
from node.appkeys import NODE, PAGES
from node.db.models import OAuthApp
from node.identity.oidc import OidcError
from node.identity.oidc_http import company_signin_enabled, redirect_to_provider, sso_only
from node.oauth import (
    OOB,
    AuthorizationError,
    AuthorizationRequest,
    IssuedToken,
    LoginRefused,
    OAuthError,
    authenticate_client,
    authenticate_user,
    check_authorization,
    client_credentials_token,
    exchange_code,
    form_secret,
    issue_code,
    password_token,
    refresh_access_token,
    revoke_token,
)
from node.profiles import node_summary

CSRF_COOKIE = "cercle_oauth_csrf"
CSRF_FIELD = "csrf_token"
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
#: Parameters of the authorization request carried through the form as hidden fields.
REQUEST_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "force_login",
    "lang",
)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: The page holds a password field and, for oob, a live code: never framed (clickjacking),
#: cached or leaked through a Referer. No ``form-action``: browsers apply it to the
#: redirect to the app's own scheme after the POST and would block it.
PAGE_HEADERS = {
    **NO_STORE,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
SCOPE_TEXT = {
    "read": "read all your data",
    "write": "change all your data",
    "follow": "follow, unfollow, block and mute accounts",
    "push": "receive your push notifications",
    "profile": "see your profile only",
    "admin:read": "read all data on this node (administrators only)",
    "admin:write": "moderate this node (administrators only)",
}


@dataclass
class LoginThrottle:
    """Failed sign-ins (the form and the password grant) per address and per address and
    login, in a fixed window. Only failures count, so a user who types the right password
    is never slowed down, and a guesser elsewhere cannot lock them out."""

    per_login: int = 10
    per_address: int = 50
    window: float = 300.0
    _failures: dict[str, tuple[float, int]] = field(default_factory=dict)

    def _keys(self, address: str, login: str) -> tuple[tuple[str, int], ...]:
        return (
            (f"address:{address}", self.per_address),
            (f"login:{address}:{login.strip().lower()}", self.per_login),
        )

    def retry_after(self, address: str, login: str, now: float | None = None) -> float | None:
        """Seconds until another attempt is allowed, or None when it is allowed now."""
        now = time.monotonic() if now is None else now
        for key, limit in self._keys(address, login):
            start, count = self._failures.get(key, (now, 0))
            if now - start < self.window and count >= limit:
                return start + self.window - now
        return None

    def failed(self, address: str, login: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._failures) > 100_000:
            self._failures = {k: v for k, v in self._failures.items() if now - v[0] < self.window}
        for key, _ in self._keys(address, login):
            start, count = self._failures.get(key, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            self._failures[key] = (start, count + 1)


LOGIN_THROTTLE = web.AppKey("oauth_login_throttle", LoginThrottle)


class Throttled(OAuthError):
    def __init__(self, retry_after: float) -> None:
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            "invalid_request",
            f"Too many failed sign-in attempts: try again in {minutes} minute(s).",
            429,
        )
        self.retry_after = retry_after


def _address(request: web.Request) -> str:
    return request.remote or "unknown"


def describe_scope(scope: str) -> str:
    if scope in SCOPE_TEXT:
        return SCOPE_TEXT[scope]
    parts = scope.split(":")
    if parts[0] == "admin" and len(parts) == 3:
        verb = "read" if parts[1] == "read" else "moderate"
        return f"{verb} {parts[2].replace('_', ' ')} on this node (administrators only)"
    verb = "read" if parts[0] == "read" else "change"
    return f"{verb} your {parts[-1].replace('_', ' ')}"


def with_query(uri: str, values: dict[str, str | None]) -> str:
    """Add parameters to a redirect URI, keeping the query it was registered with."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in values.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def redirect(location: str) -> web.HTTPFound:
    return web.HTTPFound(location, headers=NO_STORE)


# --- the authorization page ---------------------------------------------------------


def _csrf_token(secret: bytes, nonce: str) -> str:
    """The form's token is the cookie's nonce signed with the node's key: a page elsewhere
    can neither read the cookie nor sign a nonce of its own."""
    return hmac.new(secret, b"oauth-authorize:" + nonce.encode(), hashlib.sha256).hexdigest()


def _request_fields(params: Params, grant: AuthorizationRequest) -> dict[str, str]:
    fields = {name: params.get_str(name) for name in REQUEST_FIELDS}
    fields.update(
        client_id=grant.app.client_id,
        redirect_uri=grant.redirect_uri,
        scope=" ".join(grant.scopes),
        code_challenge=grant.code_challenge,
        code_challenge_method=grant.code_challenge_method,
    )
    return {k: v for k, v in fields.items() if v}


async def _render(
    request: web.Request, template: str, status: int = 200, **context: Any
) -> web.Response:
    summary = await node_summary(request.app[NODE])
    html = await request.app[PAGES].render(template, summary=summary, **context)
    return web.Response(text=html, content_type="text/html", status=status, headers=PAGE_HEADERS)


async def _form(
    request: web.Request,
    params: Params,
    grant: AuthorizationRequest,
    *,
    status: int = 200,
    error: str | None = None,
    login: str = "",
) -> web.Response:
    """The consent form, with a CSRF nonce cookie (kept if the browser already has one,
    so two open tabs both work)."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if not NONCE_RE.match(nonce):
        nonce = secrets.token_urlsafe(32)
    secret = await form_secret(request.app[NODE])
    response = await _render(
        request,
        "oauth_authorize.html",
        status,
        app=grant.app,
        scopes=[(scope, describe_scope(scope)) for scope in grant.scopes],
        fields=_request_fields(params, grant),
        csrf_field=CSRF_FIELD,
        csrf=_csrf_token(secret, nonce),
        error=error,
        login=login,
        company_signin=company_signin_enabled(request.app),
        sso_only=sso_only(request.app),
    )
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        path="/oauth/authorize",
        max_age=3600,
        httponly=True,
        samesite="Strict",
        secure=request.app[NODE].settings.scheme == "https",
    )
    return response


async def _checked_request(request: web.Request, params: Params) -> AuthorizationRequest:
    async with request.app[NODE].reads() as db:
        return await check_authorization(
            db,
            client_id=params.get_str("client_id"),
            redirect_uri=params.get_str("redirect_uri"),
            response_type=params.get_str("response_type"),
            scope=params.get_str("scope"),
            code_challenge=params.get_str("code_challenge"),
            code_challenge_method=params.get_str("code_challenge_method"),
        )


async def _refusal(request: web.Request, params: Params, exc: OAuthError) -> web.Response:
    """Errors go back to the app when its redirect URI is known good, else on the page."""
    if isinstance(exc, AuthorizationError) and exc.redirect_uri != OOB:
        raise redirect(
            with_query(
                exc.redirect_uri,
                {
                    "error": exc.error,
                    "error_description": exc.description,
                    "state": params.get_str("state"),
                },
            )
        )
    return await _render(request, "oauth_authorize.html", 400, fatal=exc.description)


async def _page_params(request: web.Request) -> Params | web.Response:
    """The page answers in HTML even to a malformed request (a JSON body, a list where a
    string belongs)."""
    try:
        params = await read_params(request)
        for name in (*REQUEST_FIELDS, CSRF_FIELD, "username", "password", "decision"):
            params.get_str(name)
    except ApiError as exc:
        return await _render(request, "oauth_authorize.html", 400, fatal=exc.message)
    return params


async def authorize_page(request: web.Request) -> web.Response:
    """``GET /oauth/authorize``: show what the app asks for, and a sign-in form."""
    params = await _page_params(request)
    if isinstance(params, web.Response):
        return params
    try:
        grant = await _checked_request(request, params)
    except OAuthError as exc:
        return await _refusal(request, params, exc)
    return await _form(request, params, grant)


async def _csrf_valid(request: web.Request, params: Params) -> bool:
    nonce = request.cookies.get(CSRF_COOKIE, "")
    token = params.get_str(CSRF_FIELD) or ""
    if not NONCE_RE.match(nonce) or not token:
        return False
    secret = await form_secret(request.app[NODE])
    return hmac.compare_digest(_csrf_token(secret, nonce), token)


async def authorize_decision(request: web.Request) -> web.Response:
    """``POST /oauth/authorize``: the user approves (signing in) or denies. Every hidden
    field is checked again: the form came back through the browser."""
    node = request.app[NODE]
    params = await _page_params(request)
    if isinstance(params, web.Response):
        return params
    try:
        grant = await _checked_request(request, params)
    except OAuthError as exc:
        return await _refusal(request, params, exc)
    login = params.get_str("username") or ""
    if not await _csrf_valid(request, params):
        return await _form(
            request,
            params,
            grant,
            status=403,
            login=login,
            error="This form has expired or did not come from this site: please try again.",
        )
    state = params.get_str("state")
    if params.get_str("decision") == "sso":
        return await _company_signin(request, params, grant)
    if params.get_str("decision") == "deny":
        if grant.redirect_uri == OOB:
            return await _render(
                request, "oauth_authorize.html", 200, fatal="You denied the authorization."
            )
        raise redirect(
            with_query(
                grant.redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The resource owner denied the request.",
                    "state": state,
                },
            )
        )
    throttle = request.app[LOGIN_THROTTLE]
    wait = throttle.retry_after(_address(request), login)
    if wait is not None:
        return await _form(
            request, params, grant, status=429, login=login, error=Throttled(wait).description
        )
    try:
        user, _ = await authenticate_user(node, login, params.get_str("password") or "")
    except LoginRefused as exc:
        throttle.failed(_address(request), login)
        return await _form(request, params, grant, status=401, login=login, error=exc.message)
    code = await issue_code(node, grant, user)
    if grant.redirect_uri == OOB:
        return await _render(request, "oauth_code.html", app=grant.app, code=code)
    raise redirect(with_query(grant.redirect_uri, {"code": code, "state": state}))


async def _company_signin(
    request: web.Request, params: Params, grant: AuthorizationRequest
) -> web.Response:
    """Send the person to the company's identity provider; its answer comes back to
    ``/auth/oidc/callback``, which issues this app's code (node/identity/oidc_http.py)."""
    carried = {
        "client_id": grant.app.client_id,
        "redirect_uri": grant.redirect_uri,
        "response_type": "code",
        "scope": " ".join(grant.scopes),
        "state": params.get_str("state"),
        "code_challenge": grant.code_challenge,
        "code_challenge_method": grant.code_challenge_method,
    }
    try:
        return await redirect_to_provider(request, "oauth", carried)
    except OidcError as exc:
        return await _form(request, params, grant, status=502, error=exc.message)


# --- the token endpoint -------------------------------------------------------------


def _client_credentials(request: web.Request, params: Params) -> tuple[str | None, str | None]:
    """HTTP Basic (RFC 6749 section 2.3.1: form-encoded, then base64) or body parameters."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() != "basic ":
        return params.get_str("client_id"), params.get_str("client_secret")
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None, None
    return unquote_plus(client_id), unquote_plus(secret)


def _oauth_error(request: web.Request, exc: OAuthError) -> web.Response:
    headers = dict(NO_STORE)
    if exc.status == 401 and request.headers.get("Authorization", "")[:6].lower() == "basic ":
        headers["WWW-Authenticate"] = 'Basic realm="cercle"'
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(max(1, int(exc.retry_after)))
    return web.json_response(
        {"error": exc.error, "error_description": exc.description},
        status=exc.status,
        headers=headers,
    )


def token_body(issued: IssuedToken) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.scopes,
        "created_at": int(issued.created_at.timestamp()),
    }
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    return body


GrantHandler = Callable[[web.Request, OAuthApp, Params], Awaitable[IssuedToken]]


async def _authorization_code(request: web.Request, app: OAuthApp, params: Params) -> IssuedToken:
    return await exchange_code(
        request.app[NODE],
        app,
        code=params.get_str("code"),
        redirect_uri=params.get_str("redirect_uri"),
        verifier=params.get_str("code_verifier"),
    )


async def _client_credentials_grant(
    request: web.Request, app: OAuthApp, params: Params
) -> IssuedToken:
    return await client_credentials_token(request.app[NODE], app, params.get_str("scope"))


async def _password(request: web.Request, app: OAuthApp, params: Params) -> IssuedToken:
    login = params.get_str("username") or ""
    throttle = request.app[LOGIN_THROTTLE]
    wait = throttle.retry_after(_address(request), login)
    if wait is not None:
        raise Throttled(wait)
    try:
        return await password_token(
            request.app[NODE],
            app,
            login=login,
            password=params.get_str("password"),
            scope=params.get_str("scope"),
        )
    except OAuthError as exc:
        if exc.error == "invalid_grant":
            throttle.failed(_address(request), login)
        raise


async def _refresh(request: web.Request, app: OAuthApp, params: Params) -> IssuedToken:
    return await refresh_access_token(
        request.app[NODE],
        app,
        refresh_token=params.get_str("refresh_token"),
        scope=params.get_str("scope"),
    )


GRANTS: dict[str, GrantHandler] = {
    "authorization_code": _authorization_code,
    "client_credentials": _client_credentials_grant,
    "password": _password,
    "refresh_token": _refresh,
}


async def token(request: web.Request) -> web.Response:
    """``POST /oauth/token`` (form or JSON body): one handler per grant type."""
    params = await read_params(request)
    grant_type = params.get_str("grant_type")
    try:
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required.")
        handler = GRANTS.get(grant_type)
        if handler is None:
            raise OAuthError(
                "unsupported_grant_type",
                f"grant_type must be one of {', '.join(GRANTS)}.",
            )
        client_id, client_secret = _client_credentials(request, params)
        async with request.app[NODE].reads() as db:
            app = await authenticate_client(db, client_id, client_secret)
        issued = await handler(request, app, params)
    except OAuthError as exc:
        return _oauth_error(request, exc)
    return web.json_response(token_body(issued), headers=NO_STORE)


async def revoke(request: web.Request) -> web.Response:
    """``POST /oauth/revoke`` (RFC 7009): ``{}`` whether or not the token existed."""
    params = await read_params(request)
    try:
        client_id, client_secret = _client_credentials(request, params)
        async with request.app[NODE].reads() as db:
            app = await authenticate_client(db, client_id, client_secret)
        await revoke_token(request.app[NODE], app, params.get_str("token"))
    except OAuthError as exc:
        return _oauth_error(request, exc)
    return web.json_response({}, headers=NO_STORE)


# --- discovery ----------------------------------------------------------------------


def scopes_supported() -> list[str]:
    top = list(TOP_LEVEL)
    return top + sorted(ALL_SCOPES - set(top))


async def metadata(request: web.Request) -> web.Response:
    """RFC 8414 metadata, with the fields Mastodon 4.3 adds (``app_registration_endpoint``)."""
    base = request.app[NODE].settings.base_url
    return web.json_response(
        {
            "issuer": f"{base}/",
            "service_documentation": "https://docs.joinmastodon.org/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "scopes_supported": scopes_supported(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": [
                "authorization_code",
                "password",
                "client_credentials",
                "refresh_token",
            ],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "app_registration_endpoint": f"{base}/api/v1/apps",
        }
    )


def setup_routes(app: web.Application) -> None:
    app[LOGIN_THROTTLE] = LoginThrottle()
    route(app, "GET", "/oauth/authorize", authorize_page)
    route(app, "POST", "/oauth/authorize", authorize_decision)
    route(app, "POST", "/oauth/token", token)
    route(app, "POST", "/oauth/revoke", revoke)
    route(app, "GET", "/.well-known/oauth-authorization-server", metadata)
