"""Local communities in the web UI: the firm's sites (``/sites``, ``/sites/{id}``: who
works there, recent posts placed there) and interests (``/interests``: the hashtags one
follows, what is trending in the firm and its partners, the groups one may join).

Posts on a site page are those the reader may see (node/places.py asks the one
visibility rule); following a tag is a small form (Post/Redirect/Get).
"""

from __future__ import annotations

from aiohttp import web

from node.appkeys import NODE
from node.errors import CercleError, NotFound
from node.followed_tags import followed_names, set_following
from node.group_directory import listed_groups
from node.places import site_view, sites_overview
from node.trends import trends_for
from webui.page_access import entry, person_path, signed_in_page
from webui.responses import Form, form_field, form_post, render, see_other
from webui.sessions import WebSession


@signed_in_page
async def sites_page(request: web.Request, session: WebSession) -> web.Response:
    """``GET /sites``."""
    return await render(request, "sites.html", sites=await sites_overview(request.app[NODE]))


@signed_in_page
async def site_page(request: web.Request, session: WebSession) -> web.Response:
    """``GET /sites/{id}``: its people and its recent posts."""
    try:
        view = await site_view(request.app[NODE], session.actor, request.match_info["site_id"])
    except NotFound:
        return await render(request, "not_found.html", status=404, what=request.path)
    return await render(
        request,
        "site.html",
        site=view.page.site,
        people=[(p, person_path(p)) for p in view.page.people],
        entries=[entry(p, view.authors.get(p.actor_id)) for p in view.page.posts],
    )


async def _interests(
    request: web.Request, session: WebSession, *, status: int = 200, error: str | None = None
) -> web.Response:
    node = request.app[NODE]
    assert session.actor is not None
    return await render(
        request,
        "interests.html",
        status=status,
        error=error,
        followed=await followed_names(node, session.actor.id),
        trending=await trends_for(node, session.actor),
        groups=[(g, person_path(g.actor)) for g in await listed_groups(node)],
    )


@signed_in_page
async def interests_page(request: web.Request, session: WebSession) -> web.Response:
    """``GET /interests``."""
    return await _interests(request, session)


@form_post()
async def change_interest(request: web.Request, session: WebSession, form: Form) -> web.Response:
    """``POST /interests/follow`` and ``/interests/unfollow`` with a ``tag`` field."""
    assert session.actor is not None
    follow = request.match_info["action"] == "follow"
    try:
        await set_following(
            request.app[NODE], session.actor.id, form_field(form, "tag"), follow=follow
        )
    except CercleError as exc:
        return await _interests(request, session, status=exc.status, error=exc.message)
    return await see_other(request, "/interests")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/sites", sites_page)
    app.router.add_get(r"/sites/{site_id:\d+}", site_page)
    app.router.add_get("/interests", interests_page)
    app.router.add_post("/interests/{action:follow|unfollow}", change_interest)
