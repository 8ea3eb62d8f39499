"""``/admin/reports``: the reports this node received (from its users and, in ``Flag``
activities, from peers), and what moderators do about them: resolve or reopen, silence
or suspend the account, remove a reported post (as on Mastodon's report page).

Admins and moderators get it (Mastodon's Moderator role handles reports); anyone else
signed in gets the 403 page. Every action is a CSRF-checked form answered by a redirect
back to the report (Post/Redirect/Get).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.accounts import html_to_text
from node.appkeys import NODE
from node.errors import CercleError
from node.follows import Page
from node.moderation.actions import remove_post, take_action
from node.moderation.reports import report_view, report_views, set_resolved
from node.moderation.roles import can_moderate
from node.moderation.state import standings
from webui.i18n import translator
from webui.page_access import forbidden_page, person_path, signed_in_page
from webui.responses import Form, form_post, render, see_other
from webui.sessions import WebSession

#: form action → (account action type or None, message key)
ACTIONS = {
    "resolve": None,
    "reopen": None,
    "silence": "silence",
    "suspend": "suspend",
}


def _done_messages(request: web.Request) -> dict[str, str]:
    _ = translator(request).gettext
    return {
        "resolve": _("The report was resolved."),
        "reopen": _("The report was reopened."),
        "silence": _("The account was silenced: its posts left the public timelines."),
        "suspend": _("The account was suspended."),
        "removed": _("The post was removed."),
    }


@signed_in_page
async def reports_page(request: web.Request, session: WebSession) -> web.StreamResponse:
    """``GET /admin/reports[?resolved=1]``: unresolved reports (or resolved ones)."""
    node = request.app[NODE]
    if not await can_moderate(node, session.user):
        return await forbidden_page(request)
    resolved = request.query.get("resolved") == "1"
    views = await report_views(node, Page(limit=100), resolved=resolved)
    return await render(request, "admin_reports.html", views=views, resolved=resolved)


async def _report(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    node = request.app[NODE]
    try:
        view = await report_view(node, int(request.match_info["id"]))
    except CercleError:
        return await render(request, "not_found.html", status=404)
    async with node.reads() as db:
        standing = (await standings(db, [view.account.id])).get(view.account.id)
    done = _done_messages(request).get(request.query.get("done", "")) if status == 200 else None
    return await render(
        request,
        "admin_report.html",
        status=status,
        view=view,
        standing=standing,
        posts=[(p, html_to_text(p.content)) for p in view.statuses],
        account_href=person_path(view.account),
        done=done,
        **context,
    )


@signed_in_page
async def report_page(request: web.Request, session: WebSession) -> web.StreamResponse:
    """``GET /admin/reports/{id}``: the report, its posts and the actions."""
    if not await can_moderate(request.app[NODE], session.user):
        return await forbidden_page(request)
    return await _report(request)


@form_post()
async def act(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /admin/reports/{id}/{resolve|reopen|silence|suspend}``."""
    node = request.app[NODE]
    if not await can_moderate(node, session.user):
        return await forbidden_page(request)
    assert session.user is not None
    report_id = int(request.match_info["id"])
    action = request.match_info["action"]
    try:
        if action in ("resolve", "reopen"):
            await set_resolved(node, session.user, report_id, action == "resolve")
        else:
            view = await report_view(node, report_id)
            kind = ACTIONS[action]
            assert kind is not None
            await take_action(node, session.user, view.account.id, kind, report_id=report_id)
    except CercleError as exc:
        return await _report(request, status=exc.status, error=exc.message)
    return await see_other(request, f"/admin/reports/{report_id}?done={action}")


@form_post()
async def remove(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /admin/reports/{id}/remove/{post_id}``: soft-delete one reported post."""
    node = request.app[NODE]
    if not await can_moderate(node, session.user):
        return await forbidden_page(request)
    assert session.user is not None
    report_id = int(request.match_info["id"])
    try:
        view = await report_view(node, report_id)
        post_id = int(request.match_info["post_id"])
        if post_id not in {p.id for p in view.statuses}:
            raise CercleError("that post is not part of this report")
        await remove_post(node, session.user, post_id)
    except CercleError as exc:
        return await _report(request, status=exc.status, error=exc.message)
    return await see_other(request, f"/admin/reports/{report_id}?done=removed")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin/reports", reports_page)
    app.router.add_get(r"/admin/reports/{id:\d+}", report_page)
    app.router.add_post(r"/admin/reports/{id:\d+}/{action:resolve|reopen|silence|suspend}", act)
    app.router.add_post(r"/admin/reports/{id:\d+}/remove/{post_id:\d+}", remove)
