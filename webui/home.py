"""The home timeline and the compose form with its audience picker.

Works without JavaScript: paging is an "older" link with ``max_id``, posting is a form that
redirects back (Post/Redirect/Get).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from node import audience as aud
from node.appkeys import NODE
from node.circles import circles_of, members
from node.context import Node
from node.db.models import Actor
from node.errors import CercleError
from node.posts import create_post
from node.profiles import node_summary
from node.timelines import home_page
from node.visibility import active_partner_domains
from node.web_sessions import actors_by_id
from webui.responses import Form, form_field, form_post, render, see_other
from webui.sessions import WebSession, current_session

PAGE_SIZE = 20


@dataclass(frozen=True)
class AudienceChoice:
    """One radio button of the picker: its value and who will see the post, in words."""

    value: str
    label: str
    who: str


async def audience_choices(node: Node, me: Actor) -> list[AudienceChoice]:
    """The picker's choices, each with a plain-words line naming who will see the post."""
    summary = await node_summary(node)
    org = summary.org_name
    async with node.reads() as db:
        partners = sorted(await active_partner_domains(db))
        circles = [(c, len(await members(db, c))) for c in await circles_of(db, me)]
    partner_words = (
        f"Everyone at {org} and at partner firms ({', '.join(partners)})"
        if partners
        else f"Everyone at {org} (no partner firm yet)"
    )
    choices = [
        AudienceChoice(aud.PUBLIC_AUDIENCE, "Public", "Anyone, on any server, even signed out"),
        AudienceChoice(aud.FOLLOWERS, "Followers", "Only the people who follow you"),
        AudienceChoice(aud.ORGANISATION, "Organisation", f"Everyone at {org}, and no one else"),
        AudienceChoice(aud.PARTNERS, "Partners", partner_words),
    ]
    for circle, count in circles:
        people = "1 person" if count == 1 else f"{count} people"
        choices.append(
            AudienceChoice(
                f"circle:{circle.id}",
                f"Circle: {circle.title}",
                f"Only the people in {circle.title} ({people})",
            )
        )
    choices.append(
        AudienceChoice(aud.DIRECT, "Direct", "Only the people you mention with @name@domain")
    )
    return choices


def _audience(value: str) -> tuple[str, list[str]]:
    """The form's radio value as ``create_post``'s audience and circle ids."""
    if value.startswith("circle:"):
        return aud.CIRCLE, [value.removeprefix("circle:")]
    return value, []


async def _timeline(node: Node, me: Actor, max_id: int | None) -> list[dict[str, Any]]:
    async with node.reads() as db:
        posts = await home_page(db, me.id, limit=PAGE_SIZE, max_id=max_id)
        authors = await actors_by_id(db, (p.actor_id for p in posts))
    return [{"post": p, "author": authors.get(p.actor_id)} for p in posts]


def _max_id(request: web.Request) -> int | None:
    value = request.query.get("max_id", "")
    return int(value) if value.isdigit() else None


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
    entries = []
    if template == "home.html":
        entries = await _timeline(node, session.actor, _max_id(request))
    older = entries[-1]["post"].id if len(entries) == PAGE_SIZE else None
    return await render(
        request,
        template,
        status=status,
        entries=entries,
        older=older,
        choices=await audience_choices(node, session.actor),
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
    audience, circle_ids = _audience(chosen)
    try:
        await create_post(
            request.app[NODE], session.actor, text, audience=audience, circle_ids=circle_ids
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


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/home", home)
    app.router.add_get("/compose", compose_page)
    app.router.add_post("/compose", compose)
