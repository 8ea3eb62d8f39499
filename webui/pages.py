"""Server-rendered pages: the node's front page and public profiles."""

from __future__ import annotations

from aiohttp import web

from node.appkeys import NODE
from node.errors import NotFound
from node.posts import visible_post
from node.profiles import node_summary, public_profile
from webui.responses import render


async def front_page(request: web.Request) -> web.Response:
    summary = await node_summary(request.app[NODE])
    return await render(request, "index.html", forms=False, summary=summary)


async def profile_page(request: web.Request) -> web.Response:
    node = request.app[NODE]
    username = request.match_info["username"]
    profile = await public_profile(node, username)
    summary = await node_summary(node)
    if profile is None:
        return await render(
            request,
            "not_found.html",
            status=404,
            forms=False,
            summary=summary,
            what=f"@{username}",
        )
    return await render(request, "profile.html", forms=False, summary=summary, profile=profile)


async def status_page(request: web.Request) -> web.Response:
    node = request.app[NODE]
    summary = await node_summary(node)
    username = request.match_info["username"]
    profile = await public_profile(node, username, limit=0)
    try:
        post = await visible_post(node, None, int(request.match_info["post_id"]))
    except (NotFound, ValueError):
        post = None
    if profile is None or post is None or post.actor_id != profile.actor.id:
        return await render(
            request,
            "not_found.html",
            status=404,
            forms=False,
            summary=summary,
            what="this address",
        )
    return await render(
        request, "status.html", forms=False, summary=summary, profile=profile, post=post
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", front_page)
    app.router.add_get("/@{username}", profile_page)
    app.router.add_get("/@{username}/{post_id}", status_page)
