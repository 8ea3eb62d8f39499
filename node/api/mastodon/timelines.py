"""Timelines: home, public (local / remote), hashtag and list (``/api/v1/timelines/…``).

Each page is one keyset query over time-sortable ids plus the Renderer's fixed number of
queries for the whole page, whatever the page size: that is what keeps the home timeline
at a few milliseconds with a million posts. The public and hashtag timelines are open to
anonymous readers, as Mastodon's are by default.
"""

from __future__ import annotations

from aiohttp import web

from node.api.auth import optional_auth, require_user
from node.api.mastodon.render import Renderer
from node.api.pagination import page_from, paged_response
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.context import Node
from node.db.models import Actor, Post
from node.lists import list_member_ids, owned_list
from node.timelines import home_page, list_page, public_page, tag_page
from node.visibility import visible_posts


async def _respond(
    request: web.Request, node: Node, viewer: Actor | None, posts: list[Post]
) -> web.Response:
    async with node.reads() as db:
        shown = await visible_posts(db, viewer, posts)
        body = await Renderer(node, db, viewer).statuses(shown)
    return paged_response(request, body, [p.id for p in posts])


async def home(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "read:statuses")
    page = page_from(await read_params(request))
    async with node.reads() as db:
        posts = await home_page(
            db,
            me.id,
            limit=page.limit,
            max_id=page.max_id,
            since_id=page.since_id,
            min_id=page.min_id,
        )
        # Entries were written at post time; visibility is decided again at read time
        # (a follow or a partnership may have ended since).
        shown = await visible_posts(db, me, posts)
        body = await Renderer(node, db, me).statuses(shown)
    return paged_response(request, body, [p.id for p in posts])


async def public(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    params = await read_params(request)
    async with node.reads() as db:
        posts = await public_page(
            db,
            page_from(params),
            local=params.get_bool("local"),
            remote=params.get_bool("remote"),
            only_media=params.get_bool("only_media"),
        )
    return await _respond(request, node, auth.actor if auth else None, posts)


async def tag(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    params = await read_params(request)
    async with node.reads() as db:
        posts = await tag_page(
            db,
            request.match_info["hashtag"],
            page_from(params),
            any_tags=[str(t) for t in params.get_list("any")],
            all_tags=[str(t) for t in params.get_list("all")],
            none_tags=[str(t) for t in params.get_list("none")],
            local=params.get_bool("local"),
            remote=params.get_bool("remote"),
            only_media=params.get_bool("only_media"),
        )
    return await _respond(request, node, auth.actor if auth else None, posts)


async def user_list(request: web.Request) -> web.Response:
    """Posts of the list's members from the owner's home timeline; someone else's list
    is a 404, like a missing one."""
    node = request.app[NODE]
    _, me = await require_user(request, "read:lists")
    try:
        list_id = int(request.match_info["id"])
    except ValueError:
        list_id = 0
    page = page_from(await read_params(request))
    async with node.reads() as db:
        owned = await owned_list(db, me.id, list_id)
        members = await list_member_ids(db, owned.id)
        posts = await list_page(db, me.id, members, page, replies_policy=owned.replies_policy)
        # Entries were written at post time; visibility is decided again at read time
        # (a follow or a partnership may have ended since).
        shown = await visible_posts(db, me, posts)
        body = await Renderer(node, db, me).statuses(shown)
    return paged_response(request, body, [p.id for p in posts])


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/timelines/home", home)
    route(app, "GET", "/api/v1/timelines/public", public)
    route(app, "GET", "/api/v1/timelines/tag/{hashtag}", tag)
    route(app, "GET", "/api/v1/timelines/list/{id}", user_list)
