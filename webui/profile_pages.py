"""People's pages: ``/@name`` for someone here, ``/@name@domain`` for anyone else
(found by WebFinger when a signed-in reader asks for someone not yet known), with their
posts as the reader may see them, follow / unfollow, and the reader's circles with
add and remove buttons.

Changes are small forms that come back to the profile (Post/Redirect/Get); a refused
change shows the profile again with the reason.
"""

from __future__ import annotations

from aiohttp import web

from node.appkeys import NODE
from node.db.models import Actor
from node.errors import CercleError, NotFound
from node.follows import Page
from node.people import find_person, person_by_id, person_page, set_circle_membership
from node.relationships import follow_account, unfollow_account
from webui.i18n import translator
from webui.page_access import entry, person_path
from webui.responses import Form, form_field, form_post, render, see_other
from webui.sessions import WebSession, current_session

PAGE_SIZE = 20


async def _page(
    request: web.Request,
    person: Actor,
    *,
    status: int = 200,
    error: str | None = None,
) -> web.Response:
    session = await current_session(request)
    max_id = request.query.get("max_id", "")
    page = Page(limit=PAGE_SIZE, max_id=int(max_id) if max_id.isdigit() else None)
    shown = await person_page(request.app[NODE], session.actor, person, page)
    return await render(
        request,
        "person.html",
        status=status,
        forms=False,
        person=person,
        person_href=person_path(person),
        stats=shown.stats,
        entries=[entry(p, person) for p in shown.posts],
        older=shown.posts[-1].id if len(shown.posts) == PAGE_SIZE else None,
        rel=shown.relationship,
        circles=shown.circles,
        error=error,
    )


async def profile_page(request: web.Request) -> web.Response:
    """``GET /@{handle}``."""
    session = await current_session(request)
    handle = request.match_info["handle"]
    try:
        person = await find_person(request.app[NODE], handle, may_fetch=session.signed_in)
    except CercleError as exc:
        _ = translator(request).gettext
        return await render(
            request,
            "person_missing.html",
            status=404,
            forms=False,
            handle=handle.lstrip("@"),
            reason=exc.message,
            hint=_("Check the address: a person is written name@domain, e.g. bob@example.com."),
        )
    return await _page(request, person)


async def _change(request: web.Request, me: Actor, target: Actor, form: Form) -> None:
    node = request.app[NODE]
    action = request.match_info["action"]
    if action == "follow":
        await follow_account(node, me, target)
    elif action == "unfollow":
        await unfollow_account(node, me, target)
    else:
        await set_circle_membership(
            node, me, form_field(form, "circle_id"), target, member=action == "add-to-circle"
        )


@form_post()
async def change(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /people/{id}/{follow|unfollow|add-to-circle|remove-from-circle}``."""
    assert session.actor is not None
    try:
        target = await person_by_id(request.app[NODE], int(request.match_info["actor_id"]))
    except NotFound:
        _ = translator(request).gettext
        return await render(request, "not_found.html", status=404, what=_("this address"))
    try:
        await _change(request, session.actor, target, form)
    except CercleError as exc:
        return await _page(request, target, status=exc.status, error=exc.message)
    return await see_other(request, person_path(target))


def setup_routes(app: web.Application) -> None:
    app.router.add_get(r"/@{handle:[^/{}]+}", profile_page)
    app.router.add_post(
        r"/people/{actor_id:\d+}/{action:follow|unfollow|add-to-circle|remove-from-circle}",
        change,
    )
