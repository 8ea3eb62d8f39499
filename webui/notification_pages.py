"""The notifications page: who followed, mentioned, boosted or liked what, newest first,
with Accept / Reject on follow requests (for locked accounts)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from node.appkeys import NODE
from node.db.models import Actor, Notification
from node.errors import CercleError
from node.follows import Page
from node.notification_feed import dismiss_all, notification_feed
from node.people import person_by_id
from node.relationships import answer_request
from webui.i18n import translator
from webui.page_access import Entry, entry, person_path, signed_in_page
from webui.responses import Form, form_post, render, see_other
from webui.sessions import WebSession

PAGE_SIZE = 30


@dataclass(frozen=True)
class NotificationView:
    notification: Notification
    who: Actor | None
    who_href: str | None
    #: the sentence, in the reader's language, without the person's name
    what: str
    post: Entry | None
    pending_request: bool


def _sentences(request: web.Request) -> dict[str, str]:
    _ = translator(request).gettext
    return {
        "mention": _("mentioned you"),
        "status": _("posted"),
        "reblog": _("boosted your post"),
        "follow": _("followed you"),
        "follow_request": _("asked to follow you"),
        "favourite": _("liked your post"),
        "poll": _("a poll has ended"),
        "update": _("edited a post"),
    }


@signed_in_page
async def notifications(request: web.Request, session: WebSession) -> web.Response:
    """``GET /notifications``."""
    assert session.actor is not None
    max_id = request.query.get("max_id", "")
    page = Page(limit=PAGE_SIZE, max_id=int(max_id) if max_id.isdigit() else None)
    sentences = _sentences(request)
    items = await notification_feed(request.app[NODE], session.actor, page)
    views = [
        NotificationView(
            notification=i.notification,
            who=i.who,
            who_href=person_path(i.who) if i.who is not None else None,
            what=sentences.get(i.notification.type, i.notification.type),
            post=entry(i.post, i.post_author) if i.post is not None else None,
            pending_request=i.pending_request,
        )
        for i in items
    ]
    return await render(
        request,
        "notifications.html",
        views=views,
        older=items[-1].notification.id if len(items) == PAGE_SIZE else None,
    )


@form_post()
async def answer(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /notifications/requests/{actor id}/{accept|reject}``."""
    node = request.app[NODE]
    assert session.actor is not None
    try:
        requester = await person_by_id(node, int(request.match_info["actor_id"]))
        await answer_request(
            node, session.actor, requester, accept=request.match_info["verb"] == "accept"
        )
    except CercleError:
        _ = translator(request).gettext
        return await render(
            request,
            "not_found.html",
            status=404,
            what=_("this follow request (it was answered or withdrawn)"),
        )
    return await see_other(request, "/notifications")


@form_post()
async def clear(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /notifications/clear``: dismiss every notification."""
    assert session.actor is not None
    await dismiss_all(request.app[NODE], session.actor)
    return await see_other(request, "/notifications")


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/notifications", notifications)
    app.router.add_post(r"/notifications/requests/{actor_id:\d+}/{verb:accept|reject}", answer)
    app.router.add_post("/notifications/clear", clear)
