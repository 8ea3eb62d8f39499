"""Timelines: home, public (local / remote), hashtag and list (``/api/v1/timelines/…``).

Each page is one keyset query over time-sortable ids plus the Renderer's fixed number of
queries for the whole page, whatever the page size: that is what keeps the home timeline
at a few milliseconds with a million posts. The public and hashtag timelines are open to
anonymous readers, as Mastodon's are by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from node.api.auth import optional_auth, require_user
from node.api.mastodon.render import Renderer, StatusKey, Surroundings
from node.api.pagination import link_header, page_from
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.context import Node
from node.db.models import Actor, Post
from node.db.one_hop import Reads, one_hop
from node.lists import list_member_ids, owned_list
from node.timelines import list_page, public_page, read_home_page, tag_page
from node.visibility import PostKey, ViewerKey, read_visible


def _paged_json(request: web.Request, body: list[dict[str, Any]], ids: list[int]) -> web.Response:
    """``paged_response`` with the body encoded by orjson: a page of 40 statuses is ≈ 90 KB
    of JSON, which ``json.dumps`` took 0.5 to 0.7 ms to write (the same JSON, written
    compactly and in UTF-8 rather than with ``\\u`` escapes)."""
    response = web.Response(
        body=orjson.dumps(body), content_type="application/json", charset="utf-8"
    )
    link = link_header(request, ids[0] if ids else None, ids[-1] if ids else None)
    if link:
        response.headers["Link"] = link
    return response


def _read_shown(
    reads: Reads, renderer: Renderer, viewer: ViewerKey | None, posts: Sequence[Any]
) -> tuple[list[Any], Surroundings]:
    """The posts of a page the reader may see, and what rendering them needs: the page
    entries were written (or the posts chosen) earlier, visibility is decided again now
    (a follow or a partnership may have ended since)."""
    visible = read_visible(reads, viewer, [PostKey.of(p) for p in posts])
    shown = [p for p in posts if p.id in visible]
    return shown, renderer.read_statuses(reads, [StatusKey.of(p) for p in shown])


async def _respond(
    request: web.Request, node: Node, db: AsyncSession, viewer: Actor | None, posts: list[Post]
) -> web.Response:
    """A page of ORM posts, filtered and rendered with one more hand-off."""
    renderer = Renderer(node, db, viewer)
    page = [(post, PostKey.of(post), StatusKey.of(post)) for post in posts]

    def read(reads: Reads) -> tuple[set[int], Surroundings]:
        who = ViewerKey.of(viewer)
        visible = read_visible(reads, who, [keys for _, keys, _ in page])
        shown = [status for _, keys, status in page if keys.id in visible]
        return visible, renderer.read_statuses(reads, shown)

    visible, around = await one_hop(db, read)
    body = renderer.render_statuses([p for p in posts if p.id in visible], around)
    return _paged_json(request, body, [p.id for p in posts])


async def home(request: web.Request) -> web.Response:
    """The page, the visibility of its posts and all rendering needs, read on one
    hand-off to the database driver (node.db.one_hop), then rendered; the token is
    looked up on the same read connection."""
    node = request.app[NODE]
    async with node.read_engine.connect() as connection:
        _, me = await require_user(request, "read:statuses", connection=connection)
        page = page_from(await read_params(request))
        owner_id, viewer = me.id, ViewerKey.of(me)
        renderer = Renderer(node, connection, me)

        def read(reads: Reads) -> tuple[list[Any], list[Any], Surroundings]:
            posts = read_home_page(reads, owner_id, page)
            return posts, *_read_shown(reads, renderer, viewer, posts)

        posts, shown, around = await one_hop(connection, read)
    body = renderer.render_statuses(shown, around)
    return _paged_json(request, body, [p.id for p in posts])


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
        return await _respond(request, node, db, auth.actor if auth else None, posts)


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
        return await _respond(request, node, db, auth.actor if auth else None, posts)


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
        return await _respond(request, node, db, me, posts)


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/timelines/home", home)
    route(app, "GET", "/api/v1/timelines/public", public)
    route(app, "GET", "/api/v1/timelines/tag/{hashtag}", tag)
    route(app, "GET", "/api/v1/timelines/list/{id}", user_list)
