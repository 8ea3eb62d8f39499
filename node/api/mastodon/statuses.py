"""Statuses: post, read, delete (and redraft), edit with history, thread context, boost
and pin (``/api/v1/statuses``).

A status the caller may not see answers 404 exactly like a missing one, on every route:
its existence never leaks. Favourites and bookmarks are in ``bookmarks_favourites``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from sqlalchemy import select

from node import audience as aud
from node.api.auth import optional_auth, require_user
from node.api.errors import not_found, unprocessable
from node.api.mastodon.media import media_entity
from node.api.mastodon.places import place_param
from node.api.mastodon.render import Renderer, iso, plain_text
from node.api.pagination import page_from, paged_response
from node.api.params import TRUE, Params, read_params
from node.api.routing import route
from node.appkeys import NODE
from node.bookmarks import pin, reblogged_by_page, unpin
from node.context import Node
from node.db.models import Actor, MediaAttachment, Post
from node.edits import Version, edit_post, history
from node.errors import Invalid, NotFound
from node.polls import PollSpec, poll_spec
from node.posts import create_post, delete_post, visible_post, visible_posts
from node.reactions import reblog, unreblog
from node.threads import ancestors_of, replies_under

STATUS = r"/api/v1/statuses/{id:\d+}"
#: Mastodon's visibilities, and Cercle audiences accepted under their own name.
AUDIENCE_OF = {
    "public": aud.PUBLIC_AUDIENCE,
    "unlisted": aud.UNLISTED,
    "private": aud.FOLLOWERS,
    "direct": aud.DIRECT,
    **{a: a for a in aud.AUDIENCES if a not in (aud.CIRCLE, aud.GROUP)},
}
#: Thread sizes Mastodon serves: anonymous readers get a bounded view.
ANONYMOUS_CONTEXT = (40, 60)
SIGNED_IN_CONTEXT = (4096, 4096)


# --- shared by the status-related modules ------------------------------------------


def status_id(request: web.Request) -> int:
    try:
        return int(request.match_info["id"])
    except ValueError as exc:
        raise not_found() from exc


@contextmanager
def validation() -> Iterator[None]:
    """Service refusals (``Invalid``) as Mastodon words them: ``Validation failed: …``."""
    try:
        yield
    except Invalid as exc:
        raise unprocessable(exc.message) from exc


async def visible(node: Node, viewer: Actor | None, post_id: int) -> Post:
    """The post if ``viewer`` may see it, else 404 with Mastodon's wording."""
    try:
        return await visible_post(node, viewer, post_id)
    except NotFound as exc:
        raise not_found() from exc


async def original(node: Node, viewer: Actor | None, post: Post) -> Post:
    """Acting on a boost acts on what it boosts, as clients expect."""
    if post.reblog_of_id is None:
        return post
    return await visible(node, viewer, post.reblog_of_id)


async def render_status(node: Node, viewer: Actor | None, post: Post) -> dict[str, Any]:
    """The status as it is now: read again, since an action may have changed its counts."""
    async with node.reads() as db:
        current = await db.get(Post, post.id)
        return await Renderer(node, db, viewer).status(current or post)


async def status_response(node: Node, viewer: Actor | None, post: Post) -> web.Response:
    return web.json_response(await render_status(node, viewer, post))


# --- posting -----------------------------------------------------------------------


def _audience(params: Params) -> str:
    """Stock visibilities, Cercle's audiences by name, and ``limited`` with ``circle_id``
    (Fedibird's circles)."""
    visibility = params.get_str("visibility") or "public"
    if params.has("group_id"):
        if visibility not in ("limited", "group", "public"):
            raise unprocessable("group_id goes with visibility=limited (or group)")
        return "group"
    if params.has("circle_id"):
        if visibility not in ("limited", "circle"):
            raise unprocessable("circle_id goes with visibility=limited")
        return "circle"
    if visibility == "limited":
        if params.get_str("in_reply_to_id"):
            # A reply in a circle thread (Fedibird clients send limited): the thread's
            # audience applies (node/thread_audience.py).
            return "circle"
        raise unprocessable("visibility=limited needs at least one circle_id")
    if visibility not in AUDIENCE_OF:
        raise unprocessable(
            f"visibility {visibility!r} is not one of public, unlisted, private, direct"
        )
    return AUDIENCE_OF[visibility]


def _poll(params: Params) -> PollSpec | None:
    fields = params.get_dict("poll")
    if not fields or not fields.get("options"):
        return None
    options = fields["options"]
    multiple = fields.get("multiple", False)
    if not isinstance(multiple, bool):
        multiple = str(multiple).strip().lower() in TRUE
    with validation():
        return poll_spec(
            options if isinstance(options, list) else [options], fields.get("expires_in"), multiple
        )


async def create(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth, me = await require_user(request, "write:statuses")
    assert auth.user is not None
    params = await read_params(request)
    if params.get_str("scheduled_at"):
        # Publishing now what was meant for later would be worse than refusing.
        raise unprocessable("scheduled posts are not supported")
    audience = _audience(params)
    in_reply_to = None
    if reply_id := params.get_str("in_reply_to_id"):
        try:
            in_reply_to = await visible(node, me, int(reply_id))
        except ValueError as exc:
            raise not_found() from exc
    group = await _group_param(node, params) if audience == aud.GROUP else None
    key = request.headers.get("Idempotency-Key")
    with validation():
        post = await create_post(
            node,
            me,
            params.get_str("status") or "",
            audience=audience,
            in_reply_to=in_reply_to,
            summary=params.get_str("spoiler_text") or "",
            sensitive=params.get_bool("sensitive"),
            language=params.get_str("language") or None,
            media_ids=params.get_list("media_ids"),
            poll=_poll(params),
            idempotency=(auth.user.id, key[:255]) if key else None,
            circle_ids=params.get_list("circle_id") if audience == aud.CIRCLE else (),
            place=await place_param(node, params),
            group=group,
        )
    return await status_response(node, me, post)


async def _group_param(node: Node, params: Params) -> Actor:
    """The Group actor named by ``group_id`` (an account id: local or remote group)."""
    try:
        group_id = int(params.get_str("group_id") or "")
    except ValueError as exc:
        raise unprocessable("group_id must be a group's account id") from exc
    async with node.reads() as db:
        group = await db.get(Actor, group_id)
    if group is None or group.type != "Group":
        raise unprocessable("group_id is not a group")
    return group


# --- reading -----------------------------------------------------------------------


async def show(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    viewer = auth.actor if auth else None
    return await status_response(node, viewer, await visible(node, viewer, status_id(request)))


async def index(request: web.Request) -> web.Response:
    """``GET /api/v1/statuses?id[]=…``: the visible ones among the ids, in that order."""
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    viewer = auth.actor if auth else None
    params = await read_params(request)
    try:
        ids = list(dict.fromkeys(int(i) for i in params.get_list("id")))[:40]
    except ValueError as exc:
        raise unprocessable("id must be a list of status ids") from exc
    async with node.reads() as db:
        found = {p.id: p for p in await db.scalars(select(Post).where(Post.id.in_(ids)))}
        posts = await visible_posts(db, viewer, [found[i] for i in ids if i in found])
        body = await Renderer(node, db, viewer).statuses(posts)
    return web.json_response(body)


async def context(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    viewer = auth.actor if auth else None
    post = await visible(node, viewer, status_id(request))
    up, down = SIGNED_IN_CONTEXT if viewer else ANONYMOUS_CONTEXT
    ancestors = await ancestors_of(node, post, up)
    descendants = [reply for reply, _ in await replies_under(node, post, down)]
    async with node.reads() as db:
        shown = {p.id for p in await visible_posts(db, viewer, [*ancestors, *descendants])}
        rendered = {
            int(s["id"]): s
            for s in await Renderer(node, db, viewer).statuses(
                [p for p in (*ancestors, *descendants) if p.id in shown]
            )
        }
    return web.json_response(
        {
            "ancestors": [rendered[p.id] for p in ancestors if p.id in rendered],
            "descendants": [rendered[p.id] for p in descendants if p.id in rendered],
        }
    )


async def source(request: web.Request) -> web.Response:
    """What the author typed, for an edit form (Mastodon's StatusSource)."""
    node = request.app[NODE]
    _, me = await require_user(request, "read:statuses")
    post = await visible(node, me, status_id(request))
    return web.json_response(
        {
            "id": str(post.id),
            "text": post.source if post.source is not None else plain_text(post.content),
            "spoiler_text": post.summary or "",
        }
    )


async def _history_entries(
    node: Node, viewer: Actor | None, post: Post, versions: list[Version]
) -> list[dict[str, Any]]:
    media_ids = {int(m["media_id"]) for v in versions for m in v.media if "media_id" in m}
    async with node.reads() as db:
        renderer = Renderer(node, db, viewer)
        author = await db.get(Actor, post.actor_id)
        assert author is not None
        account = await renderer.account(author)
        uploads = {
            m.id: m
            for m in await db.scalars(
                select(MediaAttachment).where(MediaAttachment.id.in_(media_ids))
            )
        }

    def media(item: dict[str, Any], index: int) -> dict[str, Any] | None:
        if "media_id" in item:
            upload = uploads.get(int(item["media_id"]))
            return media_entity(node.settings.base_url, upload) if upload else None
        return renderer._remote_media(index, post, item)

    return [
        {
            "content": v.content,
            "spoiler_text": v.summary or "",
            "sensitive": v.sensitive,
            "created_at": iso(v.created_at),
            "account": account,
            "poll": {"options": [{"title": o["title"]} for o in v.poll.options]}
            if v.poll
            else None,
            "media_attachments": [
                m for i, item in enumerate(v.media) if (m := media(item, i)) is not None
            ],
            "emojis": [],
        }
        for v in versions
    ]


async def edit_history(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    viewer = auth.actor if auth else None
    post = await visible(node, viewer, status_id(request))
    async with node.reads() as db:
        versions = await history(db, post)
    return web.json_response(await _history_entries(node, viewer, post, versions))


# --- changing ----------------------------------------------------------------------


async def _own(node: Node, me: Actor, post_id: int) -> Post:
    post = await visible(node, me, post_id)
    if post.actor_id != me.id:
        raise not_found()
    return post


async def destroy(request: web.Request) -> web.Response:
    """Delete, answering with the status and its ``text`` so a client can redraft it."""
    node = request.app[NODE]
    _, me = await require_user(request, "write:statuses")
    params = await read_params(request)
    post = await _own(node, me, status_id(request))
    body = await render_status(node, me, post)
    if post.reblog_of_id is not None:
        # Deleting one's boost is undoing it: peers get an Undo of the Announce.
        await unreblog(node, me, await original(node, me, post))
        return web.json_response(body)
    await delete_post(node, me, post, detach_media=not params.get_bool("delete_media"))
    return web.json_response(body)


async def edit(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:statuses")
    params = await read_params(request)
    post = await _own(node, me, status_id(request))
    with validation():
        post = await edit_post(
            node,
            me,
            post.id,
            params.get_str("status") or "",
            summary=params.get_str("spoiler_text") or "",
            sensitive=params.get_bool("sensitive"),
            language=params.get_str("language") or None,
            media_ids=params.get_list("media_ids"),
            poll=_poll(params),
        )
    return await status_response(node, me, post)


async def boost(request: web.Request) -> web.Response:
    """Answers with the boost itself, the boosted status in its ``reblog``."""
    node = request.app[NODE]
    _, me = await require_user(request, "write:statuses")
    params = await read_params(request)
    post = await original(node, me, await visible(node, me, status_id(request)))
    visibility = params.get_str("visibility") or "public"
    if visibility not in ("public", "unlisted", "private"):
        raise unprocessable("visibility must be public, unlisted or private")
    with validation():
        boosted = await reblog(node, me, post, audience=AUDIENCE_OF[visibility])
    return await status_response(node, me, boosted)


async def unboost(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:statuses")
    post = await original(node, me, await visible(node, me, status_id(request)))
    await unreblog(node, me, post)
    return await status_response(node, me, post)


async def pin_status(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:accounts")
    post = await visible(node, me, status_id(request))
    with validation():
        await pin(node, me, post)
    return await status_response(node, me, post)


async def unpin_status(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:accounts")
    post = await visible(node, me, status_id(request))
    await unpin(node, me, post.id)
    return await status_response(node, me, post)


async def reblogged_by(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth = await optional_auth(request, "read:statuses")
    viewer = auth.actor if auth else None
    post = await visible(node, viewer, status_id(request))
    page = page_from(await read_params(request), default=40, maximum=80)
    async with node.reads() as db:
        rows = await reblogged_by_page(db, post.id, page)
        body = await Renderer(node, db, viewer).accounts(actor for _, actor in rows)
    return paged_response(request, body, [key for key, _ in rows], more=len(rows) == page.limit)


def setup_routes(app: web.Application) -> None:
    route(app, "POST", "/api/v1/statuses", create)
    route(app, "GET", "/api/v1/statuses", index)
    route(app, "GET", STATUS, show)
    route(app, "PUT", STATUS, edit)
    route(app, "DELETE", STATUS, destroy)
    route(app, "GET", f"{STATUS}/context", context)
    route(app, "GET", f"{STATUS}/history", edit_history)
    route(app, "GET", f"{STATUS}/source", source)
    route(app, "POST", f"{STATUS}/reblog", boost)
    route(app, "POST", f"{STATUS}/unreblog", unboost)
    route(app, "POST", f"{STATUS}/pin", pin_status)
    route(app, "POST", f"{STATUS}/unpin", unpin_status)
    route(app, "GET", f"{STATUS}/reblogged_by", reblogged_by)
