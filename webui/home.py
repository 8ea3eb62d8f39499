"""The home timeline and the compose form with its audience picker.

Works without JavaScript: paging is an "older" link with ``max_id``, posting is a form that
redirects back (Post/Redirect/Get). With JavaScript (static/cercle.js) the same page is
enhanced, not replaced: the older link loads the next page in place as the reader nears
the end (infinite scroll), and new posts arrive live: a streaming ticket opens the
streaming API, and each ``update`` fetches ``/home?min_id=<newest shown>`` — the same
server-rendered markup, filtered by the same visibility rules, in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from node import audience as aud
from node.appkeys import NODE
from node.circles import circles_of, members
from node.context import Node
from node.db.models import Actor
from node.errors import CercleError, Invalid
from node.groups import groups_of
from node.posts import create_post
from node.profiles import node_summary
from node.stream_tickets import TICKET_SECONDS, issue_ticket
from node.timelines import home_page
from node.visibility import active_partner_domains
from node.web_sessions import actors_by_id
from webui.i18n import Translator, current_translator, translator
from webui.page_access import Entry, entry
from webui.responses import (
    PRIVATE_HEADERS,
    Form,
    form_field,
    form_post,
    json_error,
    render,
    see_other,
)
from webui.sessions import CSRF_HEADER, WebSession, csrf_valid, current_session

PAGE_SIZE = 20
#: Where the page's script opens its WebSocket (node/api/streaming.py).
STREAMING_PATH = "/api/v1/streaming"


@dataclass(frozen=True)
class AudienceChoice:
    """One radio button of the picker: its value and who will see the post, in words."""

    value: str
    label: str
    who: str


async def audience_choices(
    node: Node, me: Actor, t: Translator | None = None
) -> list[AudienceChoice]:
    """The picker's choices, each with a plain-words line naming who will see the post, in
    the page's language (the current request's when ``t`` is not given)."""
    t = t or current_translator()
    _ = t.gettext
    summary = await node_summary(node)
    org = summary.org_name
    async with node.reads() as db:
        partners = sorted(await active_partner_domains(db))
        circles = [(c, len(await members(db, c))) for c in await circles_of(db, me)]
        my_groups = await groups_of(db, me.id)
    partner_words = (
        _(
            "Everyone at %(org)s and at partner firms (%(partners)s)",
            org=org,
            partners=", ".join(partners),
        )
        if partners
        else _("Everyone at %(org)s (no partner firm yet)", org=org)
    )
    choices = [
        AudienceChoice(
            aud.PUBLIC_AUDIENCE, _("Public"), _("Anyone, on any server, even signed out")
        ),
        AudienceChoice(aud.FOLLOWERS, _("Followers"), _("Only the people who follow you")),
        AudienceChoice(
            aud.ORGANISATION,
            _("Organisation"),
            _("Everyone at %(org)s, and no one else", org=org),
        ),
        AudienceChoice(aud.PARTNERS, _("Partners"), partner_words),
    ]
    for circle, count in circles:
        people = t.ngettext("%(num)d person", "%(num)d people", count)
        choices.append(
            AudienceChoice(
                f"circle:{circle.id}",
                _("Circle: %(title)s", title=circle.title),
                _("Only the people in %(title)s (%(people)s)", title=circle.title, people=people),
            )
        )
    for group in my_groups:
        name = group.display_name or group.username
        choices.append(
            AudienceChoice(
                f"group:{group.id}",
                _("Group: %(name)s", name=name),
                _("The members of %(name)s, in every firm", name=name),
            )
        )
    choices.append(
        AudienceChoice(aud.DIRECT, _("Direct"), _("Only the people you mention with @name@domain"))
    )
    return choices


@dataclass(frozen=True)
class Picked:
    """The picker's choice as ``create_post`` takes it."""

    audience: str
    circle_ids: list[str]
    group: Actor | None = None


async def picked_audience(node: Node, value: str) -> Picked:
    """The form's radio value (``public``, ``circle:ID``, ``group:ID``...) as an audience,
    circle ids and group; the reply form of thread pages reads it the same way."""
    if value.startswith("circle:"):
        return Picked(aud.CIRCLE, [value.removeprefix("circle:")])
    if value.startswith("group:"):
        raw = value.removeprefix("group:")
        group = None
        if raw.isdigit():
            async with node.reads() as db:
                group = await db.get(Actor, int(raw))
        if group is None or group.type != "Group":
            raise Invalid("no such group")
        return Picked(aud.GROUP, [], group)
    return Picked(value, [])


async def _timeline(node: Node, me: Actor, max_id: int | None, min_id: int | None) -> list[Entry]:
    async with node.reads() as db:
        posts = await home_page(db, me.id, limit=PAGE_SIZE, max_id=max_id, min_id=min_id)
        authors = await actors_by_id(db, (p.actor_id for p in posts))
    return [entry(p, authors.get(p.actor_id)) for p in posts]


def _post_id(request: web.Request, name: str) -> int | None:
    """A paging id from the query; anything else (or a number past 64 bits) is ignored."""
    value = request.query.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 19 else None


async def _page(
    request: web.Request,
    session: WebSession,
    template: str,
    *,
    status: int = 200,
    error: str | None = None,
    text: str = "",
    chosen: str = aud.ORGANISATION,
) -> web.Response:
    node = request.app[NODE]
    assert session.actor is not None
    entries: list[Entry] = []
    max_id = _post_id(request, "max_id")
    if template == "home.html":
        entries = await _timeline(node, session.actor, max_id, _post_id(request, "min_id"))
    older = entries[-1].post.id if len(entries) == PAGE_SIZE else None
    return await render(
        request,
        template,
        status=status,
        entries=entries,
        older=older,
        # Live updates belong on the newest page only, not on one paged back to.
        live=max_id is None,
        choices=await audience_choices(node, session.actor, translator(request)),
        chosen=chosen,
        text=text,
        error=error,
    )


async def home(request: web.Request) -> web.Response:
    """``GET /home``: the signed-in person's timeline, newest first, with the compose form."""
    session = await current_session(request)
    if not session.signed_in:
        return await see_other(request, "/signin")
    return await _page(request, session, "home.html")


async def compose_page(request: web.Request) -> web.Response:
    """``GET /compose``: the compose form alone, a page of its own on a phone."""
    session = await current_session(request)
    if not session.signed_in:
        return await see_other(request, "/signin")
    return await _page(request, session, "compose.html")


@form_post()
async def compose(request: web.Request, session: WebSession, form: Form) -> web.Response:
    """``POST /compose``: post, then back home; on an error the form comes back with the
    text kept and the reason shown."""
    assert session.actor is not None
    text = form_field(form, "text")
    chosen = form_field(form, "audience") or aud.ORGANISATION
    try:
        picked = await picked_audience(request.app[NODE], chosen)
        await create_post(
            request.app[NODE],
            session.actor,
            text,
            audience=picked.audience,
            circle_ids=picked.circle_ids,
            group=picked.group,
        )
    except CercleError as exc:
        return await _page(
            request,
            session,
            "compose.html",
            status=422,
            error=exc.message,
            text=text,
            chosen=chosen,
        )
    return await see_other(request, "/home")


async def stream_ticket(request: web.Request) -> web.Response:
    """``POST /home/stream-ticket``: a short-lived ticket with which the home page's script
    opens the streaming API as the signed-in person (see node/stream_tickets.py for why not
    the cookie). Same-origin only: the CSRF token must come in the ``X-CSRF-Token`` header,
    which another site cannot set on a request carrying this site's cookie."""
    session = await current_session(request)
    if not await csrf_valid(request, request.headers.get(CSRF_HEADER, "")):
        return json_error(403, "This request was refused: reload the page.")
    if session.user is None:
        return json_error(401, "Sign in first.")
    ticket = await issue_ticket(request.app[NODE], session.user)
    return web.json_response(
        {"ticket": ticket, "url": STREAMING_PATH, "stream": "user", "expires_in": TICKET_SECONDS},
        headers={**PRIVATE_HEADERS, "Cache-Control": "no-store"},
    )


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/home", home)
    app.router.add_post("/home/stream-ticket", stream_ticket)
    app.router.add_get("/compose", compose_page)
    app.router.add_post("/compose", compose)
