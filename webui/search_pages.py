"""Search (people, posts, hashtags) and the hashtag pages.

A ``name@domain`` query looks that person up on their server (WebFinger) when the reader
is signed in, so colleagues at partner firms and people anywhere on the fediverse can be
found and followed from here. Every post shown went through the visibility rules.
"""

from __future__ import annotations

from aiohttp import web

from node.appkeys import NODE
from node.follows import Page
from node.people import authors_of
from node.search import SearchRequest, looks_like_handle, search
from node.tag_timeline import hashtag_page
from webui.i18n import translator
from webui.page_access import entry, person_path
from webui.responses import render
from webui.sessions import current_session

MAX_QUERY = 200
RESULTS = 20
PAGE_SIZE = 20


async def search_page(request: web.Request) -> web.Response:
    """``GET /search?q=…``: the form alone when there is no query."""
    node = request.app[NODE]
    session = await current_session(request)
    _ = translator(request).gettext
    query = request.query.get("q", "").strip()[:MAX_QUERY]
    notice = None
    people: list = []
    posts: list = []
    tags: list[str] = []
    if query:
        results = await search(
            node, session.actor, SearchRequest(query=query, resolve=True, limit=RESULTS)
        )
        people = [(a, person_path(a)) for a in results.accounts]
        authors = await authors_of(node, results.posts)
        posts = [entry(p, authors.get(p.actor_id)) for p in results.posts]
        tags = results.hashtags
        if looks_like_handle(query) and not people:
            notice = (
                _("No one was found at %(handle)s: check the address.", handle=query.lstrip("@"))
                if session.signed_in
                else _("Sign in to look up people on other servers.")
            )
    return await render(
        request,
        "search.html",
        forms=False,
        query=query,
        people=people,
        posts=posts,
        tags=tags,
        notice=notice,
    )


async def tag_page(request: web.Request) -> web.Response:
    """``GET /tags/{tag}``: public posts carrying the hashtag, newest first."""
    node = request.app[NODE]
    session = await current_session(request)
    max_id = request.query.get("max_id", "")
    page = Page(limit=PAGE_SIZE, max_id=int(max_id) if max_id.isdigit() else None)
    found = await hashtag_page(node, session.actor, request.match_info["tag"], page)
    authors = await authors_of(node, found.posts)
    return await render(
        request,
        "hashtag.html",
        forms=False,
        tag=found.tag,
        entries=[entry(p, authors.get(p.actor_id)) for p in found.posts],
        older=found.older,
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/search", search_page)
    app.router.add_get("/tags/{tag}", tag_page)
