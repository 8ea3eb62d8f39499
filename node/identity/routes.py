"""Mounting enterprise identity on the application: the company sign-in client, the
SCIM endpoints, the archive downloads (found by ``node.api.setup`` like the client-API modules)."""

from __future__ import annotations

from aiohttp import web

from node.identity import archive_http
from node.identity.oidc_http import setup_oidc
from node.identity.scim.http import setup_routes as setup_scim


def setup_routes(app: web.Application) -> None:
    setup_oidc(app)
    setup_scim(app)
    archive_http.setup_routes(app)
