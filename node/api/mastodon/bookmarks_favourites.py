"""Favourites and bookmarks: marking statuses, and the lists of what one marked
(``/api/v1/favourites``, ``/api/v1/bookmarks``) and of who favourited a status.

The lists are paged by the favourite's or bookmark's own id, which the body never shows:
clients follow the ``Link`` header, as Mastodon requires for these lists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.api.auth import optional_auth, require_user
from node.api.errors import ApiError
from node.api.mastodon.render import Renderer
from node.api.mastodon.statuses import original, status_id, status_response, visible
from node.api.pagination import Page, page_from, paged_response
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.bookmarks import (
    bookmark,
    bookmarks_page,
    favourited_by_page,
    favourites_page,
    has_bookmarked,
    unbookmark,
)
from node.context import Node
from node.db.models import Actor, Like, Post
from node.posts import visible_posts
from node.reactions import like, unlike

STATUS = r"/api/v1/statuses/{id:\d+}"


async def _marked(node: Node, me: Actor, post_id: int, *, liked: bool) -> Post:
    """The status to unmark: visible, or one that ``me`` marked while it was (a follow
    may have ended since; taking one's mark back must still work, as in Mastodon)."""
    try:
        return await original(node, me, await visible(node, me, post_id))
    except ApiError:
        async with node.reads() as db:
            post = await db.get(Post, post_id)
            mine = post is not None and (
                await db.scalar(
                    select(Like.id).where(Like.actor_id == me.id, Like.post_id == post_id)
                )
                if liked
                else await has_bookmarked(db, me.id, post_id)
            )
        if not mine or post is None:
            raise
        return post


async def favourite(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:favourites")
    post = await original(node, me, await visible(node, me, status_id(request)))
    await like(node, me, post)
    return await status_response(node, me, post)


async def unfavourite(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:favourites")
    post = await _marked(node, me, status_id(request), liked=True)
    await unlike(node, me, post)
    return await status_response(node, me, post)


async def bookmark_status(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:bookmarks")
    post = await original(node, me, await visible(node, me, status_id(request)))
    await bookmark(node, me, post)
    return await status_response(node, me, post)


async def unbookmark_status(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:bookmarks")
    post = await _marked(node, me, status_id(request), liked=False)
    await unbookmark(node, me, post.id)
    return await status_response(node, me, post)


#: A service giving ``(paging key, post)`` rows of one account's marked posts.
Listing = Callable[[AsyncSession, int, Page], Awaitable[list[Row[Any]]]]


async def _marked_list(request: web.Request, scope: str, listing: Listing) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, scope)
    page: Page = page_from(await read_params(request), default=20, maximum=40)
    async with node.reads() as db:
        rows: list[Row[Any]] = await listing(db, me.id, page)
        shown = await visible_posts(db, me, [post for _, post in rows])
        body = await Renderer(node, db, me).statuses(shown)
    # Paged by the rows read, not those shown: a hidden post must not end the listing.
    return paged_response(request, body, [key for key, _ in rows], more=len(rows) == page.limit)


async def bookmarks(request: web.Request) -> web.Response:
    return await _marked_list(request, "read:bookmarks", bookmarks_page)


async def favourites(request: web.Request) -> web.Response:
    return await _marked_list(request, "read:favourites", favourites_page)


async def favourited_by(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    viewer = auth.actor if auth else None
    post = await visible(node, viewer, status_id(request))
    page = page_from(await read_params(request), default=40, maximum=80)
    async with node.reads() as db:
        rows = await favourited_by_page(db, post.id, page)
        body = await Renderer(node, db, viewer).accounts(actor for _, actor in rows)
    return paged_response(request, body, [key for key, _ in rows], more=len(rows) == page.limit)


def setup_routes(app: web.Application) -> None:
    route(app, "POST", f"{STATUS}/favourite", favourite)
    route(app, "POST", f"{STATUS}/unfavourite", unfavourite)
    route(app, "POST", f"{STATUS}/bookmark", bookmark_status)
    route(app, "POST", f"{STATUS}/unbookmark", unbookmark_status)
    route(app, "GET", f"{STATUS}/favourited_by", favourited_by)
    route(app, "GET", "/api/v1/bookmarks", bookmarks)
    route(app, "GET", "/api/v1/favourites", favourites)
