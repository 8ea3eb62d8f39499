"""Downloading archives over the client API (a Cercle extension; Mastodon has no API for
its archive): ``GET /api/v1/cercle/archive`` for the token's user (``read`` scope) and
``GET /api/v1/admin/cercle/archive?since=DATE&until=DATE`` for administrators
(``admin:read``). Errors are the client API's ``{"error": ...}``."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from aiohttp import web

from node.api.auth import require_auth, require_user
from node.api.errors import ApiError, forbidden
from node.api.routing import route
from node.appkeys import NODE
from node.identity.audit import acting_as
from node.identity.export import write_firm_archive, write_user_archive

ZIP = "application/zip"


def _download(data: bytes, name: str) -> web.Response:
    return web.Response(
        body=data,
        content_type=ZIP,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _date(request: web.Request, name: str) -> datetime:
    value = request.query.get(name, "")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(422, f"{name} must be a date (YYYY-MM-DD), not {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def user_archive(request: web.Request) -> web.Response:
    _, actor = await require_user(request, "read")
    buffer = io.BytesIO()
    with acting_as(actor.username, request.remote):
        await write_user_archive(request.app[NODE], actor.username, buffer)
    return _download(buffer.getvalue(), f"{actor.username}-archive.zip")


async def firm_archive(request: web.Request) -> web.Response:
    auth = await require_auth(request, "admin:read")
    if auth.user is None or auth.actor is None or not auth.user.is_admin:
        raise forbidden("This method requires an administrator")
    since, until = _date(request, "since"), _date(request, "until")
    buffer = io.BytesIO()
    with acting_as(auth.actor.username, request.remote):
        await write_firm_archive(request.app[NODE], since, until, buffer)
    return _download(buffer.getvalue(), f"export-{since:%Y%m%d}-{until:%Y%m%d}.zip")


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/cercle/archive", user_archive)
    route(app, "GET", "/api/v1/admin/cercle/archive", firm_archive)
