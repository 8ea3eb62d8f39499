"""Signing in and out of the web pages with a user name (or e-mail address) and password."""

from __future__ import annotations

from aiohttp import web

from node.api.oauth import LOGIN_THROTTLE
from node.appkeys import NODE
from node.identity.oidc_http import company_signin_enabled, sso_only
from node.oauth import LoginRefused, authenticate_user
from node.web_sessions import end_session
from webui.responses import Form, form_field, form_post, render, see_other
from webui.sessions import WebSession, current_session, forget, sign_in


def company_signin(request: web.Request) -> dict[str, bool]:
    """Whether the page offers "Sign in with your company account", and whether that is
    the only way in (``CERCLE_SSO_ONLY``)."""
    return {
        "company_signin": company_signin_enabled(request.app),
        "sso_only": sso_only(request.app),
    }


async def signin_page(request: web.Request) -> web.Response:
    """``GET /signin``: the form, or straight home for someone already signed in."""
    session = await current_session(request)
    if session.signed_in:
        return await see_other(request, "/home")
    return await render(request, "signin.html", login="", **company_signin(request))


@form_post(signed_in=False)
async def signin(request: web.Request, session: WebSession, form: Form) -> web.Response:
    """``POST /signin``. Failures share the OAuth form's throttle, so a guesser cannot get
    twice the attempts by alternating between the two forms."""
    login = form_field(form, "username").strip()
    throttle = request.app.get(LOGIN_THROTTLE)
    address = request.remote or "unknown"
    if throttle is not None and throttle.retry_after(address, login) is not None:
        return await render(
            request,
            "signin.html",
            status=429,
            login=login,
            error="Too many failed sign-in attempts: wait a few minutes and try again.",
        )
    try:
        user, actor = await authenticate_user(
            request.app[NODE], login, form_field(form, "password")
        )
    except LoginRefused as exc:
        if throttle is not None:
            throttle.failed(address, login)
        return await render(
            request,
            "signin.html",
            status=401,
            login=login,
            error=exc.message,
            **company_signin(request),
        )
    await sign_in(request, user, actor)
    return await see_other(request, "/home")


@form_post(signed_in=False)
async def signout(request: web.Request, session: WebSession, form: Form) -> web.Response:
    """``POST /signout`` (a form, never a link: a GET must not sign anyone out). The
    session's row goes too, so a copy of the cookie is worth nothing afterwards."""
    if session.user is not None:
        await end_session(request.app[NODE], session.user.id, nonce=session.nonce)
    response = web.Response(status=303, headers={"Location": "/signin"})
    forget(response)
    return response


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/signin", signin_page)
    app.router.add_post("/signin", signin)
    app.router.add_post("/signout", signout)
