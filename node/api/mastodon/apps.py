"""``/api/v1/apps``: client registration and the app-token check (Mastodon 4.3 shapes)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.api.auth import Auth, require_auth
from node.api.errors import unauthorized, unprocessable
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.db.models import OAuthApp
from node.errors import Invalid
from node.oauth import register_app, registered_redirect_uris

#: Web Push is not implemented yet: an empty key tells clients there is nothing to subscribe to.
VAPID_KEY = ""


def application_entity(app: OAuthApp) -> dict[str, Any]:
    """The Application entity; ``redirect_uri`` is the deprecated newline-joined form."""
    uris = registered_redirect_uris(app)
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": app.scopes.split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": VAPID_KEY,
    }


async def create_app(request: web.Request) -> web.Response:
    """``POST /api/v1/apps``: public; returns the CredentialApplication, the only time the
    client secret is shown (only its hash is kept)."""
    params = await read_params(request)
    scopes = " ".join(str(s) for s in params.get_list("scopes")) or None
    try:
        registered = await register_app(
            request.app[NODE],
            name=params.get_str("client_name"),
            redirect_uris=[str(u) for u in params.get_list("redirect_uris")],
            scopes=scopes,
            website=params.get_str("website"),
        )
    except Invalid as exc:
        raise unprocessable(exc.message) from exc
    return web.json_response(
        {
            **application_entity(registered.app),
            "client_id": registered.app.client_id,
            "client_secret": registered.client_secret,
            "client_secret_expires_at": 0,
        }
    )


async def any_valid_token(request: web.Request) -> Auth:
    """Any valid token, whatever its scopes: Mastodon 4.3 dropped the ``read`` requirement
    here."""
    return await require_auth(request, None, user=False)


async def verify_app_credentials(request: web.Request) -> web.Response:
    """``GET /api/v1/apps/verify_credentials``: the app behind the bearer token."""
    auth = await any_valid_token(request)
    if auth.app is None:
        raise unauthorized()
    return web.json_response(application_entity(auth.app))


def setup_routes(app: web.Application) -> None:
    route(app, "POST", "/api/v1/apps", create_app)
    route(app, "GET", "/api/v1/apps/verify_credentials", verify_app_credentials)
