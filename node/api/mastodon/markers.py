"""Read markers (``/api/v1/markers``): where the account stopped reading its home
timeline and its notifications, shared between its apps."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.api.auth import require_user
from node.api.errors import unprocessable
from node.api.mastodon.render import iso
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.db.models import Marker
from node.markers import TIMELINES, markers, save_markers


def _entity(rows: list[Marker]) -> dict[str, Any]:
    return {
        m.timeline: {
            "last_read_id": str(m.last_read_id),
            "version": m.version,
            "updated_at": iso(m.updated_at),
        }
        for m in rows
    }


async def show(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "read:statuses")
    params = await read_params(request)
    async with node.reads() as db:
        rows = await markers(db, me.id, [str(t) for t in params.get_list("timeline")])
    return web.json_response(_entity(rows))


async def save(request: web.Request) -> web.Response:
    """``home[last_read_id]`` and/or ``notifications[last_read_id]``, in any body shape."""
    node = request.app[NODE]
    _, me = await require_user(request, "write:statuses")
    params = await read_params(request)
    positions: dict[str, int] = {}
    for timeline in TIMELINES:
        value = params.get_dict(timeline).get("last_read_id")
        if value is None or value == "":
            continue
        try:
            positions[timeline] = int(value)
        except (TypeError, ValueError) as exc:
            raise unprocessable(f"{timeline}[last_read_id] must be an id") from exc
    rows = await save_markers(node, me.id, positions)
    return web.json_response(_entity(rows))


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/markers", show)
    route(app, "POST", "/api/v1/markers", save)
