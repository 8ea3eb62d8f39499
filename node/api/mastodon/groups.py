"""Groups in the client API (Cercle extension, docs/dev/client-api.md).

A group is an account (``group: true``): joining is following it, posting to it is
``POST /api/v1/statuses`` with ``group_id``. The endpoints here are what following and
posting cannot say: creating a group, its join requests, members, invitations and roles,
and removing posts. On a group hosted elsewhere the same calls ask its host by signed
activities (node/group_remote.py): that is how a co-host's moderators act.
"""

from __future__ import annotations

from aiohttp import web

from node import group_remote, groups
from node.api.auth import optional_auth, require_user
from node.api.errors import not_found, unprocessable
from node.api.mastodon.render import Renderer
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.context import Node
from node.db.models import Actor

GROUP = "/api/v1/groups/{id}"
TRUE = frozenset({"1", "true", "on", "yes"})


async def _actor(node: Node, raw: str, *, group: bool = False) -> Actor:
    try:
        actor_id = int(raw)
    except ValueError as exc:
        raise not_found() from exc
    async with node.reads() as db:
        actor = await db.get(Actor, actor_id)
    if actor is None or (group and actor.type != groups.GROUP):
        raise not_found("no such group" if group else "no such account")
    return actor


async def create(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:accounts")
    params = await read_params(request)
    name = params.get_str("name")
    if not name:
        raise unprocessable("name can't be blank")
    members_only = params.get_str("members_only")
    group = await groups.create_group(
        node,
        me,
        name,
        display_name=params.get_str("display_name") or "",
        members_only=True if members_only is None else members_only.strip().lower() in TRUE,
    )
    async with node.reads() as db:
        return web.json_response(await Renderer(node, db, me).account(group))


async def mine(request: web.Request) -> web.Response:
    """The groups the user belongs to."""
    node = request.app[NODE]
    _, me = await require_user(request, "read:accounts")
    async with node.reads() as db:
        found = await groups.groups_of(db, me.id)
        return web.json_response(await Renderer(node, db, me).accounts(found))


async def requests(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "read:follows")
    group = await _actor(node, request.match_info["id"], group=True)
    async with node.reads() as db:
        if group.local:
            await groups.require_staff(db, group.id, me)
            people = await groups.pending_requests(db, group.id)
        else:
            people = await group_remote.local_requests(db, group)
        return web.json_response(await Renderer(node, db, me).accounts(people))


async def _decide(request: web.Request, *, accept: bool) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:follows")
    group = await _actor(node, request.match_info["id"], group=True)
    member = await _actor(node, request.match_info["account_id"])
    if group.local:
        await groups.decide_request(node, group.id, me, member, accept=accept)
    else:
        await group_remote.decide_local_request(node, me, group, member, accept=accept)
    return web.json_response({})


async def authorize(request: web.Request) -> web.Response:
    return await _decide(request, accept=True)


async def reject(request: web.Request) -> web.Response:
    return await _decide(request, accept=False)


async def member_list(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth = await optional_auth(request, "read:accounts")
    viewer = auth.actor if auth else None
    group = await _actor(node, request.match_info["id"], group=True)
    if not group.local:
        raise not_found("the members of a group are listed by its own server")
    async with node.reads() as db:
        if not await groups.can_read_members(db, group.id, viewer):
            raise not_found("no such group")
        people = await groups.members(db, group.id)
        return web.json_response(await Renderer(node, db, viewer).accounts(people))


async def remove_member(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:follows")
    group = await _actor(node, request.match_info["id"], group=True)
    member = await _actor(node, request.match_info["account_id"])
    if group.local:
        await groups.remove_member(node, group.id, me, member)
    else:
        await group_remote.ask_remove_member(node, me, group, member)
    return web.json_response({})


async def remove_status(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:statuses")
    group = await _actor(node, request.match_info["id"], group=True)
    try:
        post_id = int(request.match_info["status_id"])
    except ValueError as exc:
        raise not_found() from exc
    if group.local:
        await groups.remove_post(node, group.id, me, post_id)
    else:
        await group_remote.ask_remove_post(node, me, group, post_id)
    return web.json_response({})


async def invite(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:follows")
    group = await _actor(node, request.match_info["id"], group=True)
    if not group.local:
        raise unprocessable("invitations are sent by the group's own server")
    params = await read_params(request)
    people = [await _actor(node, str(i)) for i in params.require_ids("account_ids")]
    count = await groups.invite(node, group.id, me, people)
    return web.json_response({"invited": count})


async def set_role(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:follows")
    group = await _actor(node, request.match_info["id"], group=True)
    person = await _actor(node, request.match_info["account_id"])
    if not group.local:
        raise unprocessable("roles are given by the group's own server")
    role = None
    if request.method != "DELETE":
        params = await read_params(request)
        role = params.get_str("role") or groups.MODERATOR
    await groups.set_role(node, group.id, me, person, role)
    return web.json_response({"role": role})


def setup_routes(app: web.Application) -> None:
    route(app, "POST", "/api/v1/groups", create)
    route(app, "GET", "/api/v1/groups", mine)
    route(app, "GET", f"{GROUP}/requests", requests)
    route(app, "POST", f"{GROUP}/requests/{{account_id}}/authorize", authorize)
    route(app, "POST", f"{GROUP}/requests/{{account_id}}/reject", reject)
    route(app, "GET", f"{GROUP}/members", member_list)
    route(app, "DELETE", f"{GROUP}/members/{{account_id}}", remove_member)
    route(app, "DELETE", f"{GROUP}/statuses/{{status_id}}", remove_status)
    route(app, "POST", f"{GROUP}/invitations", invite)
    route(app, "PUT", f"{GROUP}/roles/{{account_id}}", set_role)
    route(app, "DELETE", f"{GROUP}/roles/{{account_id}}", set_role)
