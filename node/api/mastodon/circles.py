"""Circles, with Fedibird's endpoints (shaped like Mastodon's lists):
``/api/v1/circles`` and ``/api/v1/circles/:id/accounts``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.api.auth import require_user
from node.api.errors import not_found
from node.api.mastodon.render import Renderer
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.circles import (
    add_members,
    circles_of,
    create_circle,
    delete_circle,
    members,
    own_circle,
    remove_members,
    rename_circle,
)
from node.context import transaction
from node.db.models import Actor, Circle

CIRCLE = "/api/v1/circles/{id}"


def circle_entity(circle: Circle) -> dict[str, Any]:
    return {"id": str(circle.id), "title": circle.title}


async def index(request: web.Request) -> web.Response:
    _, me = await require_user(request, "read:lists")
    async with request.app[NODE].reads() as db:
        return web.json_response([circle_entity(c) for c in await circles_of(db, me)])


async def create(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    params = await read_params(request)
    async with transaction(request.app[NODE]) as db:
        circle = await create_circle(db, me, params.get_str("title"))
    return web.json_response(circle_entity(circle))


async def show(request: web.Request) -> web.Response:
    _, me = await require_user(request, "read:lists")
    async with request.app[NODE].reads() as db:
        circle = await own_circle(db, me, request.match_info["id"])
    return web.json_response(circle_entity(circle))


async def update(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    params = await read_params(request)
    async with transaction(request.app[NODE]) as db:
        circle = await own_circle(db, me, request.match_info["id"])
        await rename_circle(db, circle, params.get_str("title"))
    return web.json_response(circle_entity(circle))


async def destroy(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    async with transaction(request.app[NODE]) as db:
        await delete_circle(db, await own_circle(db, me, request.match_info["id"]))
    return web.json_response({})


async def accounts(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "read:lists")
    async with node.reads() as db:
        circle = await own_circle(db, me, request.match_info["id"])
        people = await members(db, circle)
        return web.json_response(await Renderer(node, db, me).accounts(people))


async def add_accounts(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    params = await read_params(request)
    ids = params.require_ids("account_ids")
    async with transaction(request.app[NODE]) as db:
        circle = await own_circle(db, me, request.match_info["id"])
        people = []
        for account_id in ids:
            actor = await db.get(Actor, account_id)
            if actor is None:
                raise not_found(f"no account {account_id}")
            people.append(actor)
        await add_members(db, circle, people)
    return web.json_response({})


async def remove_accounts(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:lists")
    params = await read_params(request)
    ids = params.require_ids("account_ids")
    async with transaction(request.app[NODE]) as db:
        circle = await own_circle(db, me, request.match_info["id"])
        await remove_members(db, circle, ids)
    return web.json_response({})


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/circles", index)
    route(app, "POST", "/api/v1/circles", create)
    route(app, "GET", CIRCLE, show)
    route(app, "PUT", CIRCLE, update)
    route(app, "DELETE", CIRCLE, destroy)
    route(app, "GET", f"{CIRCLE}/accounts", accounts)
    route(app, "POST", f"{CIRCLE}/accounts", add_accounts)
    route(app, "DELETE", f"{CIRCLE}/accounts", remove_accounts)
