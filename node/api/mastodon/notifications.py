"""Notifications (``/api/v1/notifications``): the list with its type and account filters,
one, dismissing one or all, and the unread count measured from the read marker.

The notifications themselves are written by the services whose actions cause them
(``node.notifications.notify``), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web

from node.api.auth import require_user
from node.api.errors import not_found, unprocessable
from node.api.mastodon.render import Renderer
from node.api.pagination import page_from, paged_response
from node.api.params import Params, read_params
from node.api.routing import route
from node.appkeys import NODE
from node.context import transaction
from node.errors import NotFound
from node.notifications import TYPES
from node.timelines import (
    clear_notifications,
    dismiss_notification,
    notification,
    notifications_page,
    unread_count,
)

ONE = r"/api/v1/notifications/{id:\d+}"


@contextmanager
def _missing_as_404() -> Iterator[None]:
    try:
        yield
    except NotFound as exc:
        raise not_found() from exc


@dataclass(frozen=True)
class Filters:
    types: list[str]
    exclude_types: list[str]
    account_id: int | None
    #: ``types[]`` named only types we do not have: nothing can match.
    impossible: bool


def _filters(params: Params) -> Filters:
    """``types[]``, ``exclude_types[]`` and ``account_id``; unknown types are ignored, as
    Mastodon ignores them (newer clients ask for types older servers do not have)."""
    account = params.get_str("account_id")
    try:
        account_id = int(account) if account else None
    except ValueError as exc:
        raise unprocessable("account_id must be an account id") from exc
    asked = [str(t) for t in params.get_list("types")]
    types = [t for t in asked if t in TYPES]
    return Filters(
        types=types,
        exclude_types=[str(t) for t in params.get_list("exclude_types")],
        account_id=account_id,
        impossible=bool(asked) and not types,
    )


async def index(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "read:notifications")
    params = await read_params(request)
    found = _filters(params)
    if found.impossible:
        return web.json_response([])
    page = page_from(params, default=40, maximum=80)
    async with node.reads() as db:
        rows = await notifications_page(
            db,
            me.id,
            page,
            types=found.types,
            exclude_types=found.exclude_types,
            account_id=found.account_id,
        )
        body = await Renderer(node, db, me).notifications(rows)
    return paged_response(request, body, [n.id for n in rows])


async def show(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "read:notifications")
    async with node.reads() as db:
        with _missing_as_404():
            row = await notification(db, me.id, int(request.match_info["id"]))
        body = await Renderer(node, db, me).notifications([row])
    return web.json_response(body[0])


async def dismiss(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:notifications")
    with _missing_as_404():
        async with transaction(node) as db:
            await dismiss_notification(db, me.id, int(request.match_info["id"]))
    return web.json_response({})


async def clear(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:notifications")
    async with transaction(node) as db:
        await clear_notifications(db, me.id)
    return web.json_response({})


async def count_unread(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "read:notifications")
    params = await read_params(request)
    found = _filters(params)
    limit = params.get_int("limit", 100, low=1, high=1000)
    assert limit is not None
    if found.impossible:
        return web.json_response({"count": 0})
    async with node.reads() as db:
        count = await unread_count(
            db,
            me.id,
            limit=limit,
            types=found.types,
            exclude_types=found.exclude_types,
            account_id=found.account_id,
        )
    return web.json_response({"count": count})


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/notifications", index)
    route(app, "GET", "/api/v1/notifications/unread_count", count_unread)
    route(app, "POST", "/api/v1/notifications/clear", clear)
    route(app, "GET", ONE, show)
    route(app, "POST", f"{ONE}/dismiss", dismiss)
