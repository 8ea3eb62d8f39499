"""The HTTP edges of company sign-in that node/ and the web UI share: the relying-party
client on the application, the redirect to the provider with its state cookie, and the
completion of a client app's ``/oauth/authorize`` after the provider's answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from node.appkeys import NODE
from node.db.models import OAuthApp, User
from node.identity.oidc import CALLBACK_PATH, LOGIN_LIFETIME, STATE_COOKIE, OidcClient, OidcError
from node.oauth import OOB, OAuthError, check_authorization, issue_code

OIDC = web.AppKey("oidc_client", OidcClient)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}
#: The authorization request's parameters carried through a company sign-in.
OAUTH_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def setup_oidc(app: web.Application) -> None:
    """Put the relying party on the application when an issuer is configured."""
    settings = app[NODE].settings
    if settings.oidc is None:
        return
    app[OIDC] = OidcClient(settings.oidc, redirect_uri=settings.base_url + CALLBACK_PATH)

    async def close_client(app: web.Application) -> AsyncIterator[None]:
        yield
        await app[OIDC].close()

    app.cleanup_ctx.append(close_client)


def oidc_client(app: web.Application) -> OidcClient | None:
    return app.get(OIDC)


def company_signin_enabled(app: web.Application) -> bool:
    return OIDC in app


def sso_only(app: web.Application) -> bool:
    oidc = app[NODE].settings.oidc
    return oidc is not None and oidc.sso_only


async def redirect_to_provider(
    request: web.Request, purpose: str, params: dict[str, Any]
) -> web.Response:
    """303 to the provider's authorization endpoint, binding the state to this browser."""
    client = oidc_client(request.app)
    if client is None:
        raise OidcError("Company sign-in is not configured on this node.")
    begun = await client.begin(request.app[NODE], purpose, params)
    response = web.Response(status=303, headers={"Location": begun.url, **NO_STORE})
    response.set_cookie(
        STATE_COOKIE,
        begun.state,
        path=CALLBACK_PATH,
        max_age=int(LOGIN_LIFETIME.total_seconds()),
        httponly=True,
        # Lax: the cookie must come back on the provider's top-level redirect.
        samesite="Lax",
        secure=request.app[NODE].settings.scheme == "https",
    )
    return response


def forget_state(response: web.StreamResponse) -> None:
    response.del_cookie(STATE_COOKIE, path=CALLBACK_PATH)


def _with_query(uri: str, values: dict[str, str | None]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in values.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class Authorized:
    """Where the browser goes next, or (out-of-band redirect URI) the code to show."""

    location: str | None
    code: str | None
    app: OAuthApp


async def finish_authorization(
    request: web.Request, params: dict[str, Any], user: User
) -> Authorized:
    """Issue the client app's code for ``user`` once they signed in with the company
    account. The request is checked again: it travelled through the provider."""
    node = request.app[NODE]
    try:
        async with node.reads() as db:
            grant = await check_authorization(
                db,
                client_id=params.get("client_id"),
                redirect_uri=params.get("redirect_uri"),
                response_type=params.get("response_type"),
                scope=params.get("scope"),
                code_challenge=params.get("code_challenge"),
                code_challenge_method=params.get("code_challenge_method"),
            )
    except OAuthError as exc:
        raise OidcError(f"The app's authorization request is no longer valid: {exc}") from exc
    code = await issue_code(node, grant, user)
    if grant.redirect_uri == OOB:
        return Authorized(None, code, grant.app)
    location = _with_query(grant.redirect_uri, {"code": code, "state": params.get("state")})
    return Authorized(location, None, grant.app)
