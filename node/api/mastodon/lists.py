"""``/api/v1/lists``: a reader's lists and their members. The list timeline itself is
served with the other timelines (``/api/v1/timelines/list/:id``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.api.auth import require_user
from node.api.errors import not_found
from node.api.mastodon.accounts import ACCOUNT, ids_param, target_actor
from node.api.mastodon.render import Renderer
from node.api.pagination import page_from, paged_response
from node.api.params import Params, read_params
from node.api.routing import route
from node.appkeys import NODE
from node.db.models import UserList
from node.lists import (
    add_members,
    create_list,
    delete_list,
    lists_containing,
    members_page,
    owned_list,
    owned_lists,
    remove_members,
    update_list,
)

LIST = r"/api/v1/lists/{id:\d+}"


def list_json(row: UserList) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "title": row.title,
        "replies_policy": row.replies_policy,
        "exclusive": row.exclusive,
    }


def list_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def _exclusive(params: Params) -> bool | None:
    return params.get_bool("exclusive") if params.has("exclusive") else None


async def index(request: web.Request) -> web.Response:
    _, me = await require_user(request, "read:lists")
    async with request.app[NODE].reads() as db:
        rows = await owned_lists(db, me.id)
    return web.json_response([list_json(r) for r in rows])


async def create(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    params = await read_params(request)
    row = await create_list(
        request.app[NODE],
        me,
        params.require_str("title"),
        replies_policy=params.get_str("replies_policy") or "list",
        exclusive=bool(_exclusive(params)),
    )
    return web.json_response(list_json(row))


async def show(request: web.Request) -> web.Response:
    _, me = await require_user(request, "read:lists")
    async with request.app[NODE].reads() as db:
        row = await owned_list(db, me.id, list_id(request))
    return web.json_response(list_json(row))


async def update(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    params = await read_params(request)
    row = await update_list(
        request.app[NODE],
        me,
        list_id(request),
        title=params.get_str("title"),
        replies_policy=params.get_str("replies_policy"),
        exclusive=_exclusive(params),
    )
    return web.json_response(list_json(row))


async def destroy(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    await delete_list(request.app[NODE], me, list_id(request))
    return web.json_response({})


async def members(request: web.Request) -> web.Response:
    """Members, paged by account id; ``limit=0`` gives all of them at once."""
    _, me = await require_user(request, "read:lists")
    params = await read_params(request)
    page = page_from(params, default=40, maximum=40, allow_all=True)
    node = request.app[NODE]
    async with node.reads() as db:
        row = await owned_list(db, me.id, list_id(request))
        rows = await members_page(db, row.id, page)
        body = await Renderer(node, db, me).accounts([actor for _, actor in rows])
    if page.limit == 0:
        return web.json_response(body)
    return paged_response(request, body, [key for key, _ in rows])


def _account_ids(params: Params) -> list[int]:
    raw = params.get_list("account_ids")
    ids = ids_param(params, "account_ids")
    if len(ids) != len(raw):
        raise not_found()
    return ids


async def add(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    params = await read_params(request)
    await add_members(request.app[NODE], me, list_id(request), _account_ids(params))
    return web.json_response({})


async def remove(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    params = await read_params(request)
    await remove_members(request.app[NODE], me, list_id(request), _account_ids(params))
    return web.json_response({})


async def account_lists(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts/:id/lists``: the caller's lists that hold this account."""
    _, me = await require_user(request, "read:lists")
    account = await target_actor(request)
    async with request.app[NODE].reads() as db:
        rows = await lists_containing(db, me.id, account.id)
    return web.json_response([list_json(r) for r in rows])


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/lists", index)
    route(app, "POST", "/api/v1/lists", create)
    route(app, "GET", LIST, show)
    route(app, "PUT", LIST, update)
    route(app, "DELETE", LIST, destroy)
    route(app, "GET", f"{LIST}/accounts", members)
    route(app, "POST", f"{LIST}/accounts", add)
    route(app, "DELETE", f"{LIST}/accounts", remove)
    route(app, "GET", f"{ACCOUNT}/lists", account_lists)
