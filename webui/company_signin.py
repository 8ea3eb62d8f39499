"""Signing in with the company account (OpenID Connect), for the web pages and for client
apps that sent the person through ``/oauth/authorize``.

The provider's answer comes back to one callback for both, so the identity provider needs
one redirect URI: ``https://<node>/auth/oidc/callback``.
"""

from __future__ import annotations

from aiohttp import web

from node.appkeys import NODE
from node.identity.oidc import CALLBACK_PATH, STATE_COOKIE, OidcError
from node.identity.oidc_accounts import account_for_claims
from node.identity.oidc_http import (
    NO_STORE,
    company_signin_enabled,
    finish_authorization,
    forget_state,
    oidc_client,
    redirect_to_provider,
    sso_only,
)
from webui.responses import render, see_other
from webui.sessions import current_session, sign_in

DEFAULT_NEXT = "/home"


def safe_next(value: str | None) -> str:
    """Only a path on this site: never an open redirector."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return DEFAULT_NEXT
    return value


async def _refused(request: web.Request, message: str, status: int = 401) -> web.Response:
    response = await render(
        request,
        "signin.html",
        status=status,
        login="",
        error=message,
        company_signin=company_signin_enabled(request.app),
        sso_only=sso_only(request.app),
    )
    forget_state(response)
    return response


async def start(request: web.Request) -> web.Response:
    """``GET /signin/company``: off to the identity provider."""
    if not company_signin_enabled(request.app):
        return await _refused(request, "Company sign-in is not configured here.", 404)
    session = await current_session(request)
    next_path = safe_next(request.query.get("next"))
    if session.signed_in:
        return await see_other(request, next_path)
    try:
        return await redirect_to_provider(request, "web", {"next": next_path})
    except OidcError as exc:
        return await _refused(request, exc.message, 502)


async def callback(request: web.Request) -> web.StreamResponse:
    """``GET /auth/oidc/callback``: validate the answer, find or create the account, then
    sign in to the web pages or hand the client app its code."""
    client = oidc_client(request.app)
    if client is None:
        return await _refused(request, "Company sign-in is not configured here.", 404)
    node = request.app[NODE]
    try:
        done = await client.complete(
            node,
            state=request.query.get("state"),
            cookie_state=request.cookies.get(STATE_COOKIE),
            code=request.query.get("code"),
            error=request.query.get("error"),
        )
        user, actor = await account_for_claims(node, client.settings, done.claims)
        if done.purpose == "oauth":
            authorized = await finish_authorization(request, done.params, user)
            if authorized.location is None:
                page = await render(
                    request, "oauth_code.html", app=authorized.app, code=authorized.code
                )
                forget_state(page)
                return page
            response = web.Response(
                status=303, headers={"Location": authorized.location, **NO_STORE}
            )
            forget_state(response)
            return response
    except OidcError as exc:
        return await _refused(request, exc.message)
    await sign_in(request, user, actor)
    response = await see_other(request, safe_next(done.params.get("next")))
    forget_state(response)
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/signin/company", start)
    app.router.add_get(CALLBACK_PATH, callback)
