"""Polls (``/api/v1/polls/:id``): read one, vote in one. A poll's id is its status's id.

This module also starts the task that closes polls as they end (``node.polls``): it
sends the ``poll`` notifications and the final counts. It is started with the API's
routes so that any process serving the API closes polls.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.api.auth import optional_auth, require_user
from node.api.errors import not_found
from node.api.mastodon.render import Renderer
from node.api.mastodon.statuses import status_id, validation, visible
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.context import Node
from node.db.models import Actor, Post
from node.polls import vote

POLL = r"/api/v1/polls/{id:\d+}"


async def _poll_entity(node: Node, viewer: Actor | None, post: Post) -> dict[str, Any]:
    async with node.reads() as db:
        rendered = await Renderer(node, db, viewer).status(post)
    if rendered["poll"] is None:
        raise not_found()
    return rendered["poll"]


async def show(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    viewer = auth.actor if auth else None
    post = await visible(node, viewer, status_id(request))
    return web.json_response(await _poll_entity(node, viewer, post))


async def cast(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:statuses")
    params = await read_params(request)
    post = await visible(node, me, status_id(request))
    await _poll_entity(node, me, post)  # 404 for a status without a poll
    with validation():
        await vote(node, me, post, params.get_list("choices"))
    return web.json_response(await _poll_entity(node, me, post))


def setup_routes(app: web.Application) -> None:
    route(app, "GET", POLL, show)
    route(app, "POST", f"{POLL}/votes", cast)
