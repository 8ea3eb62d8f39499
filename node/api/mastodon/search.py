"""``/api/v2/search``: accounts, statuses and hashtags in one answer.

Anonymous readers may search what is public, but neither resolve remote addresses nor
page with ``offset``: Mastodon answers them 401, and so do we.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.api.auth import optional_auth
from node.api.errors import unauthorized
from node.api.mastodon.render import Renderer
from node.api.pagination import page_from
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.search import TYPES, SearchRequest, search


def hashtag_json(base_url: str, name: str, *, signed_in: bool) -> dict[str, Any]:
    tag: dict[str, Any] = {"name": name, "url": f"{base_url}/tags/{name}", "history": []}
    if signed_in:
        tag["following"] = False
    return tag


async def search_v2(request: web.Request) -> web.Response:
    auth = await optional_auth(request, "read:search")
    viewer = auth.actor if auth else None
    params = await read_params(request)
    query = params.require_str("q")
    resolve = params.get_bool("resolve")
    offset = params.get_int("offset", 0, low=0) or 0
    if viewer is None and resolve:
        raise unauthorized(
            "Search queries that resolve remote resources are not supported without authentication"
        )
    if viewer is None and offset:
        raise unauthorized("Search queries pagination is not supported without authentication")
    kind = params.get_str("type")
    # An unknown type finds nothing, as in Mastodon.
    kinds = TYPES if not kind else tuple(t for t in TYPES if t == kind)
    page = page_from(params, default=20, maximum=40)
    account_id = params.get_int("account_id")
    node = request.app[NODE]
    results = await search(
        node,
        viewer,
        SearchRequest(
            query=query,
            kinds=kinds,
            resolve=resolve,
            limit=page.limit,
            offset=offset,
            account_id=account_id,
            following_only=params.get_bool("following"),
            page=page,
        ),
    )
    async with node.reads() as db:
        renderer = Renderer(node, db, viewer)
        accounts = await renderer.accounts(results.accounts)
        statuses = await renderer.statuses(results.posts)
    return web.json_response(
        {
            "accounts": accounts,
            "statuses": statuses,
            "hashtags": [
                hashtag_json(node.settings.base_url, t, signed_in=viewer is not None)
                for t in results.hashtags
            ],
        }
    )


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v2/search", search_v2)
