"""Who may open a page: signed-in pages send visitors to the sign-in form, admin pages
answer 403 with a page saying why. Also the links every post and person on a page needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from node.db.models import Actor, Post
from webui.responses import Form, form_post, render, see_other
from webui.sessions import WebSession, current_session

PageHandler = Callable[[web.Request, WebSession], Awaitable[web.StreamResponse]]
FormHandler = Callable[[web.Request, WebSession, Form], Awaitable[web.StreamResponse]]


def signed_in_page(handler: PageHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A GET page for signed-in people only; others go to the sign-in form."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        session = await current_session(request)
        if not session.signed_in:
            return await see_other(request, "/signin")
        return await handler(request, session)

    wrapped.__doc__ = handler.__doc__
    return wrapped


def is_admin(session: WebSession) -> bool:
    return session.user is not None and session.user.is_admin and not session.user.disabled


async def forbidden_page(request: web.Request) -> web.Response:
    return await render(request, "admin_forbidden.html", status=403)


def admin_page(handler: PageHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A GET page for admins: visitors sign in first, other people get a 403 page."""

    async def checked(request: web.Request, session: WebSession) -> web.StreamResponse:
        if not is_admin(session):
            return await forbidden_page(request)
        return await handler(request, session)

    checked.__doc__ = handler.__doc__
    return signed_in_page(checked)


def admin_form(handler: FormHandler) -> Callable[..., Any]:
    """A POST for admins: CSRF checked first (form_post), then the role, each with its page."""

    async def checked(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
        if not is_admin(session):
            return await forbidden_page(request)
        return await handler(request, session, form)

    checked.__doc__ = handler.__doc__
    checked.__name__ = handler.__name__
    return form_post()(checked)


def person_path(actor: Actor) -> str:
    """The web page of a person: ``/@name`` here, ``/@name@domain`` for anyone else."""
    return f"/@{actor.username}" if actor.local else f"/@{actor.handle}"


def post_path(post: Post, author: Actor | None) -> str:
    """The web page of a post and its thread (the local URL form for local posts)."""
    if author is not None and author.local and post.local:
        return f"/@{author.username}/{post.id}"
    return f"/posts/{post.id}"


@dataclass(frozen=True)
class Entry:
    """A post as pages list it: what ``_post_entry.html`` needs."""

    post: Post
    author: Actor | None
    href: str
    author_href: str | None
    depth: int = 0


def entry(post: Post, author: Actor | None, depth: int = 0) -> Entry:
    return Entry(
        post=post,
        author=author,
        href=post_path(post, author),
        author_href=person_path(author) if author is not None else None,
        depth=depth,
    )
