"""The groups pages: the groups one belongs to and a form to create one (``/groups``),
and a group's page (``/group/{id}``; ``/groups/NAME`` is the group's ActivityPub actor):
its posts, a form to post to it, joining and leaving, and for its admins and moderators
the join requests, invitations and member removal.
Every change is a small form that redirects back (Post/Redirect/Get); every refusal comes
back as the page with the reason shown."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node import groups
from node.appkeys import NODE
from node.db.models import Actor
from node.errors import CercleError, NotFound
from node.follows import find_follow, follow, unfollow
from node.posts import create_post
from node.remote_actors import resolve_account
from webui.page_access import entry, signed_in_page
from webui.responses import Form, form_field, form_post, render, see_other
from webui.sessions import WebSession, current_session


async def _groups_page(
    request: web.Request, session: WebSession, *, status: int = 200, error: str | None = None
) -> web.Response:
    assert session.actor is not None
    async with request.app[NODE].reads() as db:
        mine = await groups.groups_of(db, session.actor.id)
    return await render(request, "groups.html", status=status, groups=mine, error=error)


@signed_in_page
async def groups_page(request: web.Request, session: WebSession) -> web.Response:
    """``GET /groups``."""
    return await _groups_page(request, session)


@form_post()
async def create_group(request: web.Request, session: WebSession, form: Form) -> web.Response:
    """``POST /groups``."""
    assert session.actor is not None
    try:
        group = await groups.create_group(
            request.app[NODE],
            session.actor,
            form_field(form, "name"),
            display_name=form_field(form, "display_name"),
            members_only=form_field(form, "members_only") == "on",
        )
    except CercleError as exc:
        return await _groups_page(request, session, status=exc.status, error=exc.message)
    return await see_other(request, f"/group/{group.id}")


async def _group(request: web.Request) -> Actor:
    raw = request.match_info["group_id"]
    async with request.app[NODE].reads() as db:
        group = await db.get(Actor, int(raw))
    if group is None or group.type != groups.GROUP:
        raise NotFound("no such group")
    return group


async def _group_page(
    request: web.Request,
    session: WebSession,
    group: Actor,
    *,
    status: int = 200,
    error: str | None = None,
) -> web.Response:
    me = session.actor
    assert me is not None
    async with request.app[NODE].reads() as db:
        membership = await find_follow(db, me.id, group.id)
        role = await groups.role_of(db, group.id, me.id) if group.local else None
        settings = await groups.group_settings(db, group.id) if group.local else None
        posts = await groups.group_posts(db, group.id, me)
        authors = {a.id: a for a in [await db.get(Actor, p.actor_id) for p in posts] if a}
        members: list[Actor] = []
        if group.local and await groups.can_read_members(db, group.id, me):
            members = await groups.members(db, group.id)
        requests: list[Actor] = []
        if role is not None:
            requests = await groups.pending_requests(db, group.id)
    context: dict[str, Any] = {
        "group": group,
        "state": membership.state if membership is not None else None,
        "role": role,
        "members_only": settings.members_only if settings is not None else None,
        "entries": [entry(p, authors.get(p.actor_id)) for p in posts],
        "members": members,
        "requests": requests,
        "error": error,
    }
    return await render(request, "group.html", status=status, **context)


async def group_page(request: web.Request) -> web.Response:
    """``GET /group/{id}``."""
    session = await current_session(request)
    if not session.signed_in:
        return await see_other(request, "/signin")
    try:
        group = await _group(request)
    except NotFound:
        return await render(request, "not_found.html", status=404)
    return await _group_page(request, session, group)


async def _person(request: web.Request, form: Form) -> Actor:
    actor_id = form_field(form, "actor_id")
    if actor_id.isdigit():
        async with request.app[NODE].reads() as db:
            found = await db.get(Actor, int(actor_id))
        if found is not None:
            return found
    handle = form_field(form, "handle").lstrip("@")
    if not handle:
        raise NotFound("choose someone")
    return await resolve_account(request.app[NODE], handle)


async def _change(request: web.Request, session: WebSession, group: Actor, form: Form) -> None:
    node = request.app[NODE]
    me = session.actor
    assert me is not None
    action = request.match_info["action"]
    if action == "join":
        await follow(node, me, group)
    elif action == "leave":
        await unfollow(node, me, group)
    elif action == "post":
        await create_post(node, me, form_field(form, "text"), audience="group", group=group)
    elif action in ("approve", "refuse"):
        person = await _person(request, form)
        await groups.decide_request(node, group.id, me, person, accept=action == "approve")
    elif action == "invite":
        await groups.invite(node, group.id, me, [await _person(request, form)])
    elif action == "remove":
        await groups.remove_member(node, group.id, me, await _person(request, form))


@form_post()
async def change_group(request: web.Request, session: WebSession, form: Form) -> web.Response:
    """``POST /group/{id}/{action}``: join, leave, post, approve, refuse, invite, remove."""
    try:
        group = await _group(request)
    except NotFound:
        return await render(request, "not_found.html", status=404)
    try:
        await _change(request, session, group, form)
    except CercleError as exc:
        return await _group_page(request, session, group, status=exc.status, error=exc.message)
    return await see_other(request, f"/group/{group.id}")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/groups", groups_page)
    app.router.add_post("/groups", create_group)
    app.router.add_get(r"/group/{group_id:\d+}", group_page)
    app.router.add_post(
        r"/group/{group_id:\d+}/{action:join|leave|post|approve|refuse|invite|remove}",
        change_group,
    )
