"""A post with its thread, and the reply form under it.

``/@name/{id}`` is a local post's address (what its ``url`` says); ``/posts/{id}`` shows
any post this node knows, remote ones included. Whether the reader may see the post and
each reply is decided by the visibility rules (``node.threads``): a post the reader may
not see answers 404, exactly like a missing one.
"""

from __future__ import annotations

from aiohttp import web

from node import audience as aud
from node.appkeys import NODE
from node.db.models import Actor, Post
from node.errors import CercleError, NotFound
from node.posts import create_post, visible_post
from node.threads import author_of, thread_of
from webui.home import AudienceChoice, Picked, audience_choices, picked_audience
from webui.i18n import translator
from webui.page_access import entry, post_path
from webui.responses import Form, form_field, form_post, render, see_other
from webui.sessions import WebSession, current_session


async def _not_found(request: web.Request) -> web.Response:
    _ = translator(request).gettext
    return await render(request, "not_found.html", status=404, forms=False, what=_("this address"))


async def _post_or_none(request: web.Request, viewer: Actor | None) -> Post | None:
    try:
        post_id = int(request.match_info["post_id"])
        return await visible_post(request.app[NODE], viewer, post_id)
    except (NotFound, ValueError):
        return None


#: The reply picker's value for "the thread's own audience" (circle threads).
THREAD = "thread"


def _default_reply(post: Post, author: Actor | None, me: Actor) -> tuple[str, str]:
    """The reply form's first text and audience: the author mentioned (so a direct or
    circle reply reaches them), and the post's own audience when the replier may use it."""
    text = f"@{author.handle} " if author is not None and author.id != me.id else ""
    if post.audience in (aud.PUBLIC_AUDIENCE, aud.FOLLOWERS, aud.ORGANISATION, aud.PARTNERS):
        return text, post.audience
    if post.audience == aud.UNLISTED:
        return text, aud.PUBLIC_AUDIENCE
    if post.audience == aud.GROUP and post.group_id is not None:
        return text, f"group:{post.group_id}"  # a reply in a group stays in the group
    if post.audience == aud.CIRCLE:
        return text, THREAD
    return text, aud.DIRECT


async def _thread_page(
    request: web.Request,
    post: Post,
    *,
    status: int = 200,
    error: str | None = None,
    text: str | None = None,
    chosen: str | None = None,
) -> web.Response:
    node = request.app[NODE]
    session = await current_session(request)
    viewer = session.actor
    thread = await thread_of(node, viewer, post)
    choices: list = []
    if viewer is not None:
        default_text, default_audience = _default_reply(post, thread.focus.author, viewer)
        text = default_text if text is None else text
        chosen = chosen or default_audience
        choices = await audience_choices(node, viewer)
        if post.audience == aud.CIRCLE:
            _ = translator(request).gettext
            choices.insert(
                0,
                AudienceChoice(
                    THREAD,
                    _("This conversation"),
                    _("The people this post was for, and no one else"),
                ),
            )
    return await render(
        request,
        "thread.html",
        status=status,
        forms=False,
        ancestors=[entry(e.post, e.author) for e in thread.ancestors],
        focus=entry(post, thread.focus.author),
        descendants=[entry(e.post, e.author, e.depth) for e in thread.descendants],
        choices=choices,
        chosen=chosen,
        text=text or "",
        error=error,
    )


async def local_status_page(request: web.Request) -> web.Response:
    """``GET /@{name}/{id}``: a local post, only under its author's name."""
    session = await current_session(request)
    post = await _post_or_none(request, session.actor)
    if post is None:
        return await _not_found(request)
    author = await author_of(request.app[NODE], post)
    if author is None or not author.local or author.username != request.match_info["username"]:
        return await _not_found(request)
    return await _thread_page(request, post)


async def any_status_page(request: web.Request) -> web.Response:
    """``GET /posts/{id}``: any post the reader may see, local or from another server."""
    session = await current_session(request)
    post = await _post_or_none(request, session.actor)
    if post is None:
        return await _not_found(request)
    return await _thread_page(request, post)


@form_post()
async def reply(request: web.Request, session: WebSession, form: Form) -> web.StreamResponse:
    """``POST /posts/{id}/reply``: answer a post the replier may see; back to the thread,
    or the thread again with the reason and the text kept."""
    assert session.actor is not None
    parent = await _post_or_none(request, session.actor)
    if parent is None:
        return await _not_found(request)
    text = form_field(form, "text")
    chosen = form_field(form, "audience") or aud.DIRECT
    try:
        # "This conversation": the thread's own audience, which create_post gives every
        # non-direct reply in a circle thread (node/thread_audience.py).
        picked = (
            Picked(aud.CIRCLE, [])
            if chosen == THREAD
            else await picked_audience(request.app[NODE], chosen)
        )
        new = await create_post(
            request.app[NODE],
            session.actor,
            text,
            audience=picked.audience,
            in_reply_to=parent,
            circle_ids=picked.circle_ids,
            group=picked.group,
        )
    except CercleError as exc:
        return await _thread_page(
            request, parent, status=422, error=exc.message, text=text, chosen=chosen
        )
    author = await author_of(request.app[NODE], parent)
    return await see_other(request, f"{post_path(parent, author)}#post-{new.id}")


def setup_routes(app: web.Application) -> None:
    app.router.add_get(r"/@{username:[a-z0-9_]+}/{post_id:\d+}", local_status_page)
    app.router.add_get(r"/posts/{post_id:\d+}", any_status_page)
    app.router.add_post(r"/posts/{post_id:\d+}/reply", reply)
