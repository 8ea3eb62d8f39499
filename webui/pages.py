"""Server-rendered pages: the node's front page. People's pages are in
``webui.profile_pages``, posts and their threads in ``webui.thread_pages``."""

from __future__ import annotations

from aiohttp import web

from node.appkeys import NODE
from node.profiles import node_summary
from webui.responses import render


async def front_page(request: web.Request) -> web.Response:
    summary = await node_summary(request.app[NODE])
    return await render(request, "index.html", forms=False, summary=summary)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/", front_page)
