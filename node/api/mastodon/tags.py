"""Hashtags: followed tags (``/api/v1/followed_tags``, ``/api/v1/tags/:name`` with
follow and unfollow, as Mastodon has them) and trending tags (``/api/v1/trends/tags``).

A followed tag feeds its follower's home timeline (node/followed_tags.py). Trends count
the firm's and its partners' posts only (node/trends.py).
"""

from __future__ import annotations

from aiohttp import web

from node.api.auth import optional_auth, require_user
from node.api.errors import not_found
from node.api.pagination import page_from, paged_response
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.context import transaction
from node.errors import Invalid
from node.followed_tags import (
    follow_tag,
    followed_tags_page,
    follows_tag,
    normalise,
    unfollow_tag,
)
from node.trends import tag_entity, tag_history, trending_tags

TAG = "/api/v1/tags/{id}"


def _name(request: web.Request) -> str:
    try:
        return normalise(request.match_info["id"])
    except Invalid as exc:
        # Mastodon answers an impossible tag name like a missing record.
        raise not_found() from exc


async def show(request: web.Request) -> web.Response:
    """``GET /api/v1/tags/:name``: the tag, its week, and whether the caller follows it."""
    node = request.app[NODE]
    auth = await optional_auth(request, "read")
    viewer = auth.actor if auth else None
    name = _name(request)
    async with node.reads() as db:
        trend = await tag_history(db, viewer, name)
        following = await follows_tag(db, viewer.id, name) if viewer is not None else None
    return web.json_response(tag_entity(trend, node.settings.base_url, following))


async def _follow(request: web.Request, *, follow: bool) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:follows")
    name = _name(request)
    async with transaction(node) as db:
        await (follow_tag if follow else unfollow_tag)(db, me.id, name)
    async with node.reads() as db:
        trend = await tag_history(db, me, name)
    return web.json_response(tag_entity(trend, node.settings.base_url, follow))


async def follow(request: web.Request) -> web.Response:
    """``POST /api/v1/tags/:name/follow``: idempotent, like Mastodon's."""
    return await _follow(request, follow=True)


async def unfollow(request: web.Request) -> web.Response:
    return await _follow(request, follow=False)


async def followed(request: web.Request) -> web.Response:
    """``GET /api/v1/followed_tags``: paged by follow, newest first (Link header)."""
    node = request.app[NODE]
    _, me = await require_user(request, "read:follows")
    page = page_from(await read_params(request), default=100, maximum=200)
    async with node.reads() as db:
        rows = await followed_tags_page(db, me.id, page)
        body = [
            tag_entity(await tag_history(db, me, row.tag), node.settings.base_url, True)
            for row in rows
        ]
    return paged_response(request, body, [row.id for row in rows])


async def trends(request: web.Request) -> web.Response:
    """``GET /api/v1/trends/tags?limit=&offset=``: Tag entities, most used first."""
    node = request.app[NODE]
    auth = await optional_auth(request, "read")
    params = await read_params(request)
    limit = params.get_int("limit", 10, low=1, high=20) or 10
    offset = params.get_int("offset", 0, low=0) or 0
    async with node.reads() as db:
        found = await trending_tags(db, auth.actor if auth else None, limit=limit, offset=offset)
    return web.json_response([tag_entity(t, node.settings.base_url) for t in found])


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/followed_tags", followed)
    route(app, "GET", TAG, show)
    route(app, "POST", f"{TAG}/follow", follow)
    route(app, "POST", f"{TAG}/unfollow", unfollow)
    route(app, "GET", "/api/v1/trends/tags", trends)
