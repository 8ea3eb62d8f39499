"""``/api/v1/follow_requests``: the requests waiting for a locked account, and answering
them. A request is named by the requesting account's id, as in Mastodon."""

from __future__ import annotations

from aiohttp import web

from node.api.auth import require_user
from node.api.mastodon.accounts import relationship_response, target_actor
from node.api.mastodon.render import Renderer
from node.api.pagination import page_from, paged_response
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.follows import pending_requests_page
from node.relationships import answer_request


async def list_requests(request: web.Request) -> web.Response:
    _, me = await require_user(request, "read:follows")
    params = await read_params(request)
    node = request.app[NODE]
    async with node.reads() as db:
        rows = await pending_requests_page(db, me.id, page_from(params, default=40, maximum=80))
        body = await Renderer(node, db, me).accounts([actor for _, actor in rows])
    return paged_response(request, body, [key for key, _ in rows])


async def _answer(request: web.Request, *, accept: bool) -> web.Response:
    _, me = await require_user(request, "write:follows")
    requester = await target_actor(request)
    await answer_request(request.app[NODE], me, requester, accept=accept)
    return await relationship_response(request, me, requester.id)


async def authorize(request: web.Request) -> web.Response:
    return await _answer(request, accept=True)


async def reject(request: web.Request) -> web.Response:
    return await _answer(request, accept=False)


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/follow_requests", list_requests)
    route(app, "POST", r"/api/v1/follow_requests/{id:\d+}/authorize", authorize)
    route(app, "POST", r"/api/v1/follow_requests/{id:\d+}/reject", reject)
