"""ActivityPub read endpoints: actors, collections, objects, and the inbox routes."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from node import audience as aud
from node.ap.documents import (
    actor_document,
    announce_activity,
    create_activity,
    ordered_collection,
    ordered_page,
)
from node.ap.negotiation import activity_response, not_found, signed_requester, wants_json
from node.appkeys import NODE
from node.db.models import Actor, Follow, Poll, Post
from node.db.models.follows import ACCEPTED
from node.groups import GROUP, can_read_members
from node.inbox.gate import inbox_view
from node.polls import question_fields
from node.posts import viewer_can_see

PAGE_SIZE = 20


async def _local_actor(request: web.Request, uri: str) -> Actor | None:
    async with request.app[NODE].reads() as db:
        return await db.scalar(select(Actor).where(Actor.uri == uri, Actor.local.is_(True)))


async def _collection_owner(request: web.Request) -> Actor | None:
    """The local actor whose collection this is: the URL less its last segment, so the
    same handlers serve ``/users/alice/outbox`` and ``/org/outbox``."""
    node = request.app[NODE]
    return await _local_actor(request, node.settings.base_url + request.path.rsplit("/", 1)[0])


async def user_actor(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    username = request.match_info["username"]
    actor = await _local_actor(request, node.urls.user(username))
    if actor is None:
        return not_found()
    if not wants_json(request):
        raise web.HTTPFound(node.urls.profile(actor.username))
    return activity_response(actor_document(actor))


async def node_actor(request: web.Request) -> web.StreamResponse:
    """The Organization (``/org``) and Application (``/actor``) actors, and groups."""
    node = request.app[NODE]
    uri = node.settings.base_url + request.path
    actor = await _local_actor(request, uri)
    if actor is None:
        return not_found()
    if not wants_json(request):
        raise web.HTTPFound("/")
    return activity_response(actor_document(actor))


def _page_arg(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=f'{{"error": "{name} must be an integer"}}', content_type="application/json"
        ) from exc


async def outbox(request: web.Request) -> web.StreamResponse:
    """Public and unlisted posts, newest first, paged by ``max_id``."""
    node = request.app[NODE]
    actor = await _collection_owner(request)
    if actor is None:
        return not_found()
    open_audiences = list(aud.OPEN_AUDIENCES)
    async with node.reads() as db:
        base = select(Post).where(
            Post.actor_id == actor.id,
            Post.deleted_at.is_(None),
            Post.audience.in_(open_audiences),
        )
        total = await db.scalar(select(func.count()).select_from(base.subquery()))
        if "page" not in request.query:
            return activity_response(
                ordered_collection(actor.outbox, int(total or 0), f"{actor.outbox}?page=true")
            )
        max_id = _page_arg(request, "max_id")
        query = base.order_by(Post.id.desc()).limit(PAGE_SIZE)
        if max_id is not None:
            query = query.where(Post.id < max_id)
        posts = list(await db.scalars(query))
        items = []
        for post in posts:
            if post.reblog_of_id is not None:
                original = await db.get(Post, post.reblog_of_id)
                if original is not None:
                    items.append(announce_activity(post, actor, original.uri))
            else:
                items.append(create_activity(post, actor))
    for item in items:
        item.pop("@context", None)
    next_url = (
        f"{actor.outbox}?page=true&max_id={posts[-1].id}" if len(posts) == PAGE_SIZE else None
    )
    page_id = f"{actor.outbox}?page=true" + (f"&max_id={max_id}" if max_id else "")
    return activity_response(ordered_page(page_id, actor.outbox, items, next_url))


async def _relations(request: web.Request, *, followers: bool) -> web.StreamResponse:
    node = request.app[NODE]
    actor = await _collection_owner(request)
    if actor is None:
        return not_found()
    mine, theirs = (
        (Follow.followee_id, Follow.follower_id)
        if followers
        else (Follow.follower_id, Follow.followee_id)
    )
    collection = actor.followers_url if followers else actor.following_url
    async with node.reads() as db:
        if actor.type == GROUP and not await can_read_members(
            db, actor.id, await signed_requester(request)
        ):
            return not_found()  # a members-only group's member list is for its members
        base = (
            select(Actor.uri, Follow.id)
            .join(Follow, theirs == Actor.id)
            .where(mine == actor.id, Follow.state == ACCEPTED)
        )
        total = await db.scalar(select(func.count()).select_from(base.subquery()))
        if "page" not in request.query:
            return activity_response(
                ordered_collection(collection, int(total or 0), f"{collection}?page=1")
            )
        page = max(1, _page_arg(request, "page") or 1)
        rows = (
            await db.execute(
                base.order_by(Follow.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
            )
        ).all()
    items = [uri for uri, _ in rows]
    next_url = f"{collection}?page={page + 1}" if len(items) == PAGE_SIZE else None
    prev_url = f"{collection}?page={page - 1}" if page > 1 else None
    return activity_response(
        ordered_page(f"{collection}?page={page}", collection, items, next_url, prev_url)
    )


async def followers(request: web.Request) -> web.StreamResponse:
    return await _relations(request, followers=True)


async def following(request: web.Request) -> web.StreamResponse:
    return await _relations(request, followers=False)


async def _visible_local_post(request: web.Request) -> tuple[Post, Actor] | None:
    """The post named by the URL if the (signed or anonymous) requester may see it."""
    node = request.app[NODE]
    try:
        post_id = int(request.match_info["post_id"])
    except ValueError:
        return None
    actor_uri = node.urls.user(request.match_info["username"])
    requester = await signed_requester(request)
    async with node.reads() as db:
        post = await db.get(Post, post_id)
        author = await db.scalar(select(Actor).where(Actor.uri == actor_uri))
        if post is None or author is None or post.actor_id != author.id or not post.local:
            return None
        if not await viewer_can_see(db, requester, post):
            return None
    return post, author


async def status(request: web.Request) -> web.StreamResponse:
    found = await _visible_local_post(request)
    if found is None:
        return not_found()
    post, author = found
    if not wants_json(request):
        raise web.HTTPFound(post.url or post.uri)
    if post.reblog_of_id is not None:
        return not_found()
    activity = await _create_with_poll(request, post, author)
    return activity_response({"@context": activity["@context"], **activity["object"]})


async def _create_with_poll(request: web.Request, post: Post, author: Actor) -> dict[str, Any]:
    """The Create of a post; a poll's options and counts make its Note a Question."""
    activity = create_activity(post, author)
    async with request.app[NODE].reads() as db:
        poll = await db.get(Poll, post.id)
    if poll is not None:
        activity["object"].update(question_fields(poll))
    return activity


async def status_activity(request: web.Request) -> web.StreamResponse:
    found = await _visible_local_post(request)
    if found is None or found[0].reblog_of_id is not None:
        return not_found()
    post, author = found
    return activity_response(await _create_with_poll(request, post, author))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/users/{username}", user_actor)
    app.router.add_get("/org", node_actor)
    app.router.add_get("/actor", node_actor)
    app.router.add_get("/groups/{name}", node_actor)
    app.router.add_post("/groups/{name}/inbox", inbox_view)
    for prefix in ("/users/{username}", "/org", "/actor", "/groups/{name}"):
        app.router.add_get(f"{prefix}/outbox", outbox)
        app.router.add_get(f"{prefix}/followers", followers)
        app.router.add_get(f"{prefix}/following", following)
    app.router.add_get("/users/{username}/statuses/{post_id}", status)
    app.router.add_get("/users/{username}/statuses/{post_id}/activity", status_activity)
    app.router.add_post("/users/{username}/inbox", inbox_view)
    app.router.add_post("/org/inbox", inbox_view)
    app.router.add_post("/actor/inbox", inbox_view)
    app.router.add_post("/inbox", inbox_view)
