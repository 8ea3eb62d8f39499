"""The organisation directory: the firm's people who chose to be listed, by user name,
with a filter box. Public, like the people's own pages."""

from __future__ import annotations

from aiohttp import web

from node.appkeys import NODE
from node.directory import directory_page
from webui.page_access import person_path
from webui.responses import render

MAX_QUERY = 100


async def directory(request: web.Request) -> web.Response:
    """``GET /directory?q=…&after=…``."""
    query = request.query.get("q", "")[:MAX_QUERY]
    after = request.query.get("after", "")[:64]
    page = await directory_page(request.app[NODE], after=after, query=query)
    return await render(
        request,
        "directory.html",
        forms=False,
        people=[(p, person_path(p)) for p in page.people],
        query=query,
        after=page.after,
        first=not after,
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/directory", directory)
