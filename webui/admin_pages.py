"""The admin pages: users (invite, roles, disable), partners (propose, accept, refuse,
end), federation mode and domain blocks, and the delivery queue with "retry now".

Only admins get them; anyone else signed in gets a 403 page saying so. Every change is a
form checked for its CSRF token first, then for the role; success comes back to its page
(Post/Redirect/Get) except an invitation, whose temporary password is shown once on the
page that answers the form and never again.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node import admin_users, partners
from node.appkeys import NODE
from node.delivery.status import queue_status, retry_domain_now
from node.errors import CercleError
from node.federation_admin import block_domain, change_mode, federation_policy
from node.policy import MODES
from webui.i18n import translator
from webui.page_access import admin_form, admin_page
from webui.responses import Form, form_field, render, see_other
from webui.sessions import WebSession


def _done_messages(request: web.Request) -> dict[str, str]:
    _ = translator(request).gettext
    return {
        "role": _("The role was changed."),
        "disabled": _("The account was disabled: it is signed out everywhere."),
        "enabled": _("The account was enabled again."),
        "proposed": _("The partnership was proposed; it starts once they accept."),
        "accepted": _("The partnership was accepted."),
        "refused": _("The request was refused."),
        "ended": _("The partnership was ended."),
        "mode": _("The federation mode was changed."),
        "blocked": _("The domain is blocked."),
        "unblocked": _("The domain is no longer blocked."),
        "retried": _("Deliveries to that domain will be tried again now."),
    }


async def _admin_view(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    done = _done_messages(request).get(request.query.get("done", "")) if status == 200 else None
    return await render(request, template, status=status, done=done, **context)


# --- users ---------------------------------------------------------------------------


async def _users(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    return await _admin_view(
        request,
        "admin_users.html",
        status=status,
        members=await admin_users.members(request.app[NODE]),
        roles=admin_users.ROLES,
        **context,
    )


@admin_page
async def admin_index(request: web.Request, session: WebSession) -> web.StreamResponse:
    """``GET /admin``: the first section."""
    return await see_other(request, "/admin/users")


@admin_page
async def users_page(request: web.Request, session: WebSession) -> web.Response:
    """``GET /admin/users``."""
    return await _users(request)


@admin_form
async def invite(request: web.Request, session: WebSession, form: Form) -> web.Response:
    """``POST /admin/users/invite``: make the account and show its temporary password."""
    username = form_field(form, "username")
    try:
        invitation = await admin_users.invite(
            request.app[NODE],
            username=username,
            email=form_field(form, "email"),
            role=form_field(form, "role") or admin_users.USER,
        )
    except CercleError as exc:
        return await _users(
            request,
            status=exc.status,
            error=exc.message,
            username=username,
            email=form_field(form, "email"),
        )
    return await _users(request, status=201, invitation=invitation)


@admin_form
async def change_user(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /admin/users/{name}/{role|disable|enable}``."""
    node = request.app[NODE]
    assert session.user is not None
    username = request.match_info["username"]
    action = request.match_info["action"]
    try:
        if action == "role":
            await admin_users.set_role(node, session.user, username, form_field(form, "role"))
            done = "role"
        else:
            await admin_users.set_enabled(node, session.user, username, action == "enable")
            done = "enabled" if action == "enable" else "disabled"
    except CercleError as exc:
        return await _users(request, status=exc.status, error=exc.message)
    return await see_other(request, f"/admin/users?done={done}")


# --- partners ------------------------------------------------------------------------


async def _partners(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    return await _admin_view(
        request,
        "admin_partners.html",
        status=status,
        partnerships=await partners.partnerships(request.app[NODE]),
        **context,
    )


@admin_page
async def partners_page(request: web.Request, session: WebSession) -> web.Response:
    """``GET /admin/partners``."""
    return await _partners(request)


@admin_form
async def change_partner(
    request: web.Request, session: WebSession, form: Form
) -> web.StreamResponse:
    """``POST /admin/partners/propose`` (field ``target``) and
    ``POST /admin/partners/{domain}/{accept|refuse|end}``."""
    node = request.app[NODE]
    action = request.match_info.get("action", "propose")
    target = form_field(form, "target") if action == "propose" else request.match_info["domain"]
    verbs = {
        "propose": partners.propose,
        "accept": partners.accept,
        "refuse": partners.refuse,
        "end": partners.end,
    }
    try:
        await verbs[action](node, target)
    except CercleError as exc:
        return await _partners(request, status=exc.status, error=exc.message, target=target)
    done = {"propose": "proposed", "accept": "accepted", "refuse": "refused", "end": "ended"}
    return await see_other(request, f"/admin/partners?done={done[action]}")


# --- federation ----------------------------------------------------------------------


async def _federation(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    _ = translator(request).gettext
    return await _admin_view(
        request,
        "admin_federation.html",
        status=status,
        policy=await federation_policy(request.app[NODE]),
        modes=[
            (MODES[0], _("Open"), _("Federate with any server that is not blocked.")),
            (
                MODES[1],
                _("Partners only"),
                _(
                    "Only partner firms' servers; others may only ask to become partners, "
                    "and wait for an admin."
                ),
            ),
            (MODES[2], _("Closed"), _("No federation at all: this node talks to no one.")),
        ],
        **context,
    )


@admin_page
async def federation_page(request: web.Request, session: WebSession) -> web.Response:
    """``GET /admin/federation``."""
    return await _federation(request)


@admin_form
async def change_federation(
    request: web.Request, session: WebSession, form: Form
) -> web.StreamResponse:
    """``POST /admin/federation/mode``, ``/admin/federation/block`` (field ``domain``) and
    ``/admin/federation/unblock``."""
    node = request.app[NODE]
    action = request.match_info["action"]
    domain = form_field(form, "domain")
    try:
        if action == "mode":
            await change_mode(node, form_field(form, "mode"))
            done = "mode"
        else:
            await block_domain(node, domain, blocked=action == "block")
            done = "blocked" if action == "block" else "unblocked"
    except CercleError as exc:
        return await _federation(request, status=exc.status, error=exc.message, domain=domain)
    return await see_other(request, f"/admin/federation?done={done}")


# --- delivery ------------------------------------------------------------------------


async def _delivery(request: web.Request, status: int = 200, **context: Any) -> web.Response:
    return await _admin_view(
        request,
        "admin_delivery.html",
        status=status,
        queue=await queue_status(request.app[NODE]),
        **context,
    )


@admin_page
async def delivery_page(request: web.Request, session: WebSession) -> web.Response:
    """``GET /admin/delivery``."""
    return await _delivery(request)


@admin_form
async def retry(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /admin/delivery/retry`` (field ``domain``)."""
    try:
        await retry_domain_now(request.app[NODE], form_field(form, "domain"))
    except CercleError as exc:
        return await _delivery(request, status=exc.status, error=exc.message)
    return await see_other(request, "/admin/delivery?done=retried")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/admin", admin_index)
    app.router.add_get("/admin/users", users_page)
    app.router.add_post("/admin/users/invite", invite)
    app.router.add_post(
        r"/admin/users/{username:[a-z0-9_]+}/{action:role|disable|enable}", change_user
    )
    app.router.add_get("/admin/partners", partners_page)
    app.router.add_post("/admin/partners/propose", change_partner)
    app.router.add_post(
        r"/admin/partners/{domain:[A-Za-z0-9.:-]+}/{action:accept|refuse|end}", change_partner
    )
    app.router.add_get("/admin/federation", federation_page)
    app.router.add_post(r"/admin/federation/{action:mode|block|unblock}", change_federation)
    app.router.add_get("/admin/delivery", delivery_page)
    app.router.add_post("/admin/delivery/retry", retry)
