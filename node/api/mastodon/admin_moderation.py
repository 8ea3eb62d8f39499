"""Mastodon's moderation admin API: reports (list, show, resolve, reopen) and account
actions (``action``, ``unsilence``, ``unsuspend``), for admins and moderators with an
``admin:read`` / ``admin:write`` token (anyone else gets 403, whatever the scopes).

Mastodon has no API to delete someone else's post: moderators remove posts from the
report page (webui/admin_reports.py here), or suspend the account.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.api.auth import require_user
from node.api.errors import unprocessable
from node.api.mastodon.render import Renderer, iso
from node.api.pagination import page_from, paged_response
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.context import Node
from node.db.models import Actor, User
from node.errors import NotFound
from node.moderation.actions import lift, take_action
from node.moderation.reports import ReportView, report_view, report_views, set_resolved
from node.moderation.roles import require_moderator
from node.moderation.state import standings

REPORT = r"/api/v1/admin/reports/{id:\d+}"
ACCOUNT = r"/api/v1/admin/accounts/{id:\d+}"


async def _moderator(request: web.Request, scope: str) -> tuple[User, Actor]:
    auth, me = await require_user(request, scope)
    user = await require_moderator(request.app[NODE], auth.token.user_id)
    return user, me


async def admin_account(
    node: Node, db: AsyncSession, viewer: Actor, actor: Actor
) -> dict[str, Any]:
    """Mastodon's Admin::Account entity (the fields this node knows)."""
    user = await db.scalar(select(User).where(User.actor_id == actor.id)) if actor.local else None
    standing = (await standings(db, [actor.id])).get(actor.id)
    return {
        "id": str(actor.id),
        "username": actor.username,
        "domain": None if actor.local else actor.domain,
        "created_at": iso(actor.created_at),
        "email": (user.email or "") if user is not None else None,
        "ip": None,
        "ips": [],
        "locale": None,
        "invite_request": None,
        "role": None,
        "confirmed": user is not None,
        "approved": True,
        "disabled": bool(user is not None and user.disabled),
        "silenced": bool(standing and standing.silenced),
        "suspended": bool(standing and standing.suspended),
        "sensitized": bool(standing and standing.sensitized),
        "account": await Renderer(node, db, viewer).account(actor),
    }


async def report_entity(
    node: Node, db: AsyncSession, viewer: Actor, view: ReportView
) -> dict[str, Any]:
    """Mastodon's Admin::Report entity."""
    report = view.report
    acted = None
    if view.acted_by is not None:
        acted_actor = await db.get(Actor, view.acted_by.actor_id)
        if acted_actor is not None:
            acted = await admin_account(node, db, viewer, acted_actor)
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": iso(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "updated_at": iso(report.updated_at),
        "account": await admin_account(node, db, viewer, view.reporter),
        "target_account": await admin_account(node, db, viewer, view.account),
        "assigned_account": None,
        "action_taken_by_account": acted,
        "statuses": await Renderer(node, db, viewer).statuses(view.statuses),
        "rules": [],
    }


def _tristate(value: str | None, name: str) -> bool | None:
    if value in (None, ""):
        return None
    if value in ("true", "1", "True"):
        return True
    if value in ("false", "0", "False"):
        return False
    raise unprocessable(f"{name} must be true or false")


async def list_reports(request: web.Request) -> web.Response:
    """Unresolved reports unless ``resolved=true``; ``target_account_id`` narrows them."""
    node = request.app[NODE]
    _, me = await _moderator(request, "admin:read")
    params = await read_params(request)
    resolved = _tristate(params.get_str("resolved"), "resolved")
    views = await report_views(
        node,
        page_from(params, default=100, maximum=200),
        resolved=bool(resolved),
        account_id=params.get_int("target_account_id"),
    )
    async with node.reads() as db:
        body = [await report_entity(node, db, me, v) for v in views]
    return paged_response(request, body, [v.report.id for v in views])


async def _report_response(request: web.Request, me: Actor) -> web.Response:
    node = request.app[NODE]
    view = await report_view(node, int(request.match_info["id"]))
    async with node.reads() as db:
        return web.json_response(await report_entity(node, db, me, view))


async def show_report(request: web.Request) -> web.Response:
    _, me = await _moderator(request, "admin:read")
    return await _report_response(request, me)


async def resolve_report(request: web.Request) -> web.Response:
    user, me = await _moderator(request, "admin:write")
    await set_resolved(request.app[NODE], user, int(request.match_info["id"]), True)
    return await _report_response(request, me)


async def reopen_report(request: web.Request) -> web.Response:
    user, me = await _moderator(request, "admin:write")
    await set_resolved(request.app[NODE], user, int(request.match_info["id"]), False)
    return await _report_response(request, me)


async def account_action(request: web.Request) -> web.Response:
    """``type`` (none, sensitive, disable, silence, suspend), ``report_id``, ``text``."""
    user, _ = await _moderator(request, "admin:write")
    params = await read_params(request)
    await take_action(
        request.app[NODE],
        user,
        int(request.match_info["id"]),
        params.get_str("type") or "none",
        report_id=params.get_int("report_id"),
        text=params.get_str("text") or "",
    )
    return web.json_response({})


async def _lift(request: web.Request, what: str) -> web.Response:
    node = request.app[NODE]
    user, me = await _moderator(request, "admin:write")
    actor_id = int(request.match_info["id"])
    await lift(node, user, actor_id, what)
    async with node.reads() as db:
        actor = await db.get(Actor, actor_id)
        if actor is None:
            raise NotFound("Record not found")
        return web.json_response(await admin_account(node, db, me, actor))


async def unsilence(request: web.Request) -> web.Response:
    return await _lift(request, "unsilence")


async def unsuspend(request: web.Request) -> web.Response:
    return await _lift(request, "unsuspend")


async def unsensitive(request: web.Request) -> web.Response:
    return await _lift(request, "unsensitive")


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/admin/reports", list_reports)
    route(app, "GET", REPORT, show_report)
    route(app, "POST", REPORT + "/resolve", resolve_report)
    route(app, "POST", REPORT + "/reopen", reopen_report)
    route(app, "POST", ACCOUNT + "/action", account_action)
    route(app, "POST", ACCOUNT + "/unsilence", unsilence)
    route(app, "POST", ACCOUNT + "/unsuspend", unsuspend)
    route(app, "POST", ACCOUNT + "/unsensitive", unsensitive)
