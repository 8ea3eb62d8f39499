"""The circles page: create, rename and delete circles, add and remove people, and see who
is in which. Every change is a small form that redirects back (Post/Redirect/Get)."""

from __future__ import annotations

from aiohttp import web

from node.appkeys import NODE
from node.circles import (
    add_members,
    circles_of,
    create_circle,
    delete_circle,
    members,
    own_circle,
    remove_members,
    rename_circle,
)
from node.context import transaction
from node.errors import CercleError
from node.remote_actors import resolve_account
from webui.responses import Form, form_field, form_post, render, see_other
from webui.sessions import WebSession, current_session


async def _page(
    request: web.Request, session: WebSession, *, status: int = 200, error: str | None = None
) -> web.Response:
    assert session.actor is not None
    async with request.app[NODE].reads() as db:
        circles = [(c, await members(db, c)) for c in await circles_of(db, session.actor)]
    return await render(request, "circles.html", status=status, circles=circles, error=error)


async def circles_page(request: web.Request) -> web.Response:
    """``GET /circles``."""
    session = await current_session(request)
    if not session.signed_in:
        return await see_other(request, "/signin")
    return await _page(request, session)


async def _change(request: web.Request, session: WebSession, form: Form) -> None:
    """Apply one form's change; raises CercleError with a readable message."""
    node = request.app[NODE]
    me = session.actor
    assert me is not None
    action = request.match_info.get("action", "create")
    if action == "create":
        async with transaction(node) as db:
            await create_circle(db, me, form_field(form, "title"))
        return
    circle_id = request.match_info["circle_id"]
    if action == "add":
        person = await resolve_account(node, form_field(form, "handle").lstrip("@"))
        async with transaction(node) as db:
            await add_members(db, await own_circle(db, me, circle_id), [person])
        return
    async with transaction(node) as db:
        circle = await own_circle(db, me, circle_id)
        if action == "rename":
            await rename_circle(db, circle, form_field(form, "title"))
        elif action == "delete":
            await delete_circle(db, circle)
        elif action == "remove":
            actor_id = form_field(form, "actor_id")
            if actor_id.isdigit():
                await remove_members(db, circle, [int(actor_id)])


@form_post()
async def change_circles(request: web.Request, session: WebSession, form: Form) -> web.Response:
    """``POST /circles`` (create) and ``POST /circles/{id}/{action}`` (rename, delete,
    add, remove): one handler, since each only differs by the service it calls."""
    try:
        await _change(request, session, form)
    except CercleError as exc:
        return await _page(request, session, status=exc.status, error=exc.message)
    return await see_other(request, "/circles")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/circles", circles_page)
    app.router.add_post("/circles", change_circles)
    app.router.add_post(
        r"/circles/{circle_id:\d+}/{action:rename|delete|add|remove}", change_circles
    )
