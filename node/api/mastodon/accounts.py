"""``/api/v1/accounts``: profiles, one's own credentials, an account's posts and follows,
following and unfollowing, relationships, account search and lookup.

Also the helpers the other relationship modules share: an account from the path, ids
from ``id[]`` parameters, the Relationship entity.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from node.accounts import (
    PostFilter,
    ProfileChange,
    account_posts,
    actor_by_id,
    local_actor_by_username,
    profile_source_note,
    update_profile,
)
from node.api.auth import Auth, optional_auth, require_user
from node.api.errors import ApiError, not_found
from node.api.mastodon.render import Renderer
from node.api.pagination import page_from, paged_response
from node.api.params import Params, read_params
from node.api.routing import route
from node.appkeys import NODE
from node.db.models import Actor, Follow, User
from node.db.models.follows import ACCEPTED
from node.errors import CercleError
from node.follows import followers_page, following_page
from node.media import media_url, store_image
from node.relationships import (
    Relationship,
    follow_account,
    relationship,
    relationships,
    remove_follower,
    unfollow_account,
)
from node.search import SearchRequest, resolve_remote_account
from node.search import search as search_service

ACCOUNT = r"/api/v1/accounts/{id:\d+}"

# --- shared helpers ---------------------------------------------------------------


def account_id(request: web.Request) -> int:
    return int(request.match_info["id"])


async def target_actor(request: web.Request) -> Actor:
    """The account named by the path; 404 when there is none."""
    async with request.app[NODE].reads() as db:
        return await actor_by_id(db, account_id(request))


def relationship_json(rel: Relationship) -> dict[str, Any]:
    """Mastodon's Relationship entity. Boosts always show and per-follow notifications,
    languages, endorsements, domain blocks and private notes are not kept."""
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.following or rel.requested,
        "notifying": False,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


async def relationship_response(request: web.Request, me: Actor, target_id: int) -> web.Response:
    async with request.app[NODE].reads() as db:
        rel = await relationship(db, me.id, target_id)
    return web.json_response(relationship_json(rel))


async def render_accounts(
    request: web.Request, viewer: Actor | None, actors: list[Actor]
) -> list[dict[str, Any]]:
    node = request.app[NODE]
    async with node.reads() as db:
        return await Renderer(node, db, viewer).accounts(actors)


def ids_param(params: Params, name: str) -> list[int]:
    """``id[]=1&id[]=2`` as integers; ids that are not numbers match nothing."""
    return [int(v) for v in params.get_list(name) if str(v).strip().isdigit()]


# --- one's own account ------------------------------------------------------------


async def _own_account(request: web.Request) -> tuple[Auth, Actor]:
    """``profile`` or ``read:accounts`` (Mastodon 4.3 accepts either)."""
    try:
        return await require_user(request, "read:accounts")
    except ApiError as exc:
        if exc.status != 403:
            raise
        return await require_user(request, "profile")


async def credential_json(request: web.Request, actor_id: int, user: User) -> dict[str, Any]:
    node = request.app[NODE]
    async with node.reads() as db:
        actor = await db.get(Actor, actor_id)
        assert actor is not None
        account = await Renderer(node, db, actor).credential_account(actor, user)
    account["source"]["note"] = profile_source_note(actor)
    return account


async def verify_credentials(request: web.Request) -> web.Response:
    auth, me = await _own_account(request)
    assert auth.user is not None
    return web.json_response(await credential_json(request, me.id, auth.user))


async def update_credentials(request: web.Request) -> web.Response:
    auth, me = await require_user(request, "write:accounts")
    assert auth.user is not None
    params = await read_params(request)
    change = ProfileChange(
        display_name=params.get_str("display_name"),
        note=params.get_str("note"),
        locked=params.get_bool("locked") if params.has("locked") else None,
        discoverable=params.get_bool("discoverable") if params.has("discoverable") else None,
        **await uploaded_images(request, params),
    )
    await update_profile(request.app[NODE], me.id, change)
    return web.json_response(await credential_json(request, me.id, auth.user))


AVATAR_SIDE = 400
HEADER_SIDE = 1500


async def uploaded_images(request: web.Request, params: Params) -> dict[str, str]:
    """Avatar and header uploads, stored (resized, metadata stripped) by the media
    service; their public URLs go into the profile."""
    uploads = {k: params.files[k] for k in ("avatar", "header") if k in params.files}
    if not uploads:
        return {}
    node = request.app[NODE]
    urls: dict[str, str] = {}
    for name, upload in uploads.items():
        data = upload.file.read()
        try:
            stored = await store_image(
                node,
                data,
                mime_type=upload.content_type or "application/octet-stream",
                max_side=AVATAR_SIDE if name == "avatar" else HEADER_SIDE,
            )
        except CercleError as exc:
            raise ApiError(422, f"Validation failed: {name}: {exc.message}") from exc
        urls[f"{name}_url"] = media_url(node.settings.base_url, stored.file_name)
    return urls


# --- reading accounts -------------------------------------------------------------


async def get_account(request: web.Request) -> web.Response:
    auth = await optional_auth(request, "read:accounts")
    actor = await target_actor(request)
    viewer = auth.actor if auth else None
    return web.json_response((await render_accounts(request, viewer, [actor]))[0])


async def get_accounts(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts?id[]=…``: the accounts that exist, in the order asked."""
    auth = await optional_auth(request, "read:accounts")
    ids = ids_param(await read_params(request), "id")[:40]
    node = request.app[NODE]
    found: list[Actor] = []
    async with node.reads() as db:
        for i in ids:
            try:
                found.append(await actor_by_id(db, i))
            except CercleError:
                continue
    return web.json_response(await render_accounts(request, auth.actor if auth else None, found))


async def lookup(request: web.Request) -> web.Response:
    """A local user name, or ``user@host`` of an account known here or resolvable."""
    auth = await optional_auth(request, "read:accounts")
    params = await read_params(request)
    acct = params.require_str("acct").strip().lstrip("@")
    node = request.app[NODE]
    username, _, host = acct.partition("@")
    if host.lower() == node.settings.domain.lower():
        host = ""
    async with node.reads() as db:
        if host:
            actor = await db.scalar(
                select(Actor).where(
                    func.lower(Actor.username) == username.lower(),
                    Actor.domain == host.lower(),
                    Actor.local.is_(False),
                )
            )
        else:
            actor = await local_actor_by_username(db, username)
    if actor is None and host:
        actor = await resolve_remote_account(node, acct)
    if actor is None:
        raise not_found()
    async with node.reads() as db:
        actor = await actor_by_id(db, actor.id)
    viewer = auth.actor if auth else None
    return web.json_response((await render_accounts(request, viewer, [actor]))[0])


async def account_statuses(request: web.Request) -> web.Response:
    auth = await optional_auth(request, "read:statuses")
    viewer = auth.actor if auth else None
    params = await read_params(request)
    account = await target_actor(request)
    filters = PostFilter(
        exclude_replies=params.get_bool("exclude_replies"),
        exclude_reblogs=params.get_bool("exclude_reblogs"),
        only_media=params.get_bool("only_media"),
        pinned=params.get_bool("pinned"),
        tagged=params.get_str("tagged") or None,
    )
    node = request.app[NODE]
    async with node.reads() as db:
        posts = await account_posts(
            db, viewer, account, filters, page_from(params, default=20, maximum=40)
        )
        body = await Renderer(node, db, viewer).statuses(posts)
    return paged_response(request, body, [p.id for p in posts])


async def _follow_listing(request: web.Request, *, followers: bool) -> web.Response:
    auth = await optional_auth(request, "read:accounts")
    viewer = auth.actor if auth else None
    params = await read_params(request)
    account = await target_actor(request)
    node = request.app[NODE]
    async with node.reads() as db:
        if viewer is not None and (await relationship(db, viewer.id, account.id)).blocked_by:
            return web.json_response([])
        listing = followers_page if followers else following_page
        rows = await listing(db, account.id, page_from(params, default=40, maximum=80))
        body = await Renderer(node, db, viewer).accounts([actor for _, actor in rows])
    return paged_response(request, body, [key for key, _ in rows])


async def account_followers(request: web.Request) -> web.Response:
    return await _follow_listing(request, followers=True)


async def account_following(request: web.Request) -> web.Response:
    return await _follow_listing(request, followers=False)


async def search(request: web.Request) -> web.Response:
    """``GET /api/v1/accounts/search``: by name or handle, resolving a handle or an
    actor URL on request (the accounts part of ``/api/v2/search``)."""
    _, me = await require_user(request, "read:accounts")
    params = await read_params(request)
    results = await search_service(
        request.app[NODE],
        me,
        SearchRequest(
            query=params.require_str("q"),
            kinds=("accounts",),
            resolve=params.get_bool("resolve"),
            limit=params.get_int("limit", 40, low=1, high=80) or 40,
            offset=params.get_int("offset", 0, low=0) or 0,
            following_only=params.get_bool("following"),
        ),
    )
    return web.json_response(await render_accounts(request, me, results.accounts))


# --- relationships ----------------------------------------------------------------


async def get_relationships(request: web.Request) -> web.Response:
    _, me = await require_user(request, "read:follows")
    ids = ids_param(await read_params(request), "id")
    async with request.app[NODE].reads() as db:
        known = set(await db.scalars(select(Actor.id).where(Actor.id.in_(ids)))) if ids else set()
        rels = await relationships(db, me.id, [i for i in ids if i in known])
    return web.json_response([relationship_json(r) for r in rels])


async def familiar_followers(request: web.Request) -> web.Response:
    """For each account asked about, its followers that the caller follows too."""
    _, me = await require_user(request, "read:follows")
    ids = ids_param(await read_params(request), "id")[:40]
    node = request.app[NODE]
    body = []
    async with node.reads() as db:
        renderer = Renderer(node, db, me)
        for i in ids:
            mine = select(Follow.followee_id).where(
                Follow.follower_id == me.id, Follow.state == ACCEPTED
            )
            actors = list(
                await db.scalars(
                    select(Actor)
                    .join(Follow, Follow.follower_id == Actor.id)
                    .where(
                        Follow.followee_id == i,
                        Follow.state == ACCEPTED,
                        Actor.id.in_(mine),
                    )
                    .limit(40)
                )
            )
            body.append({"id": str(i), "accounts": await renderer.accounts(actors)})
    return web.json_response(body)


async def follow(request: web.Request) -> web.Response:
    """Follow, or ask to follow a locked or remote account (``requested`` until the
    answer comes). ``reblogs``, ``notify`` and ``languages`` are accepted and ignored."""
    _, me = await require_user(request, "write:follows")
    target = await target_actor(request)
    await follow_account(request.app[NODE], me, target)
    return await relationship_response(request, me, target.id)


async def unfollow(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:follows")
    target = await target_actor(request)
    await unfollow_account(request.app[NODE], me, target)
    return await relationship_response(request, me, target.id)


async def remove_from_followers(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:follows")
    target = await target_actor(request)
    await remove_follower(request.app[NODE], me, target)
    return await relationship_response(request, me, target.id)


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/accounts/verify_credentials", verify_credentials)
    route(app, "PATCH", "/api/v1/accounts/update_credentials", update_credentials)
    route(app, "GET", "/api/v1/accounts/lookup", lookup)
    route(app, "GET", "/api/v1/accounts/search", search)
    route(app, "GET", "/api/v1/accounts/relationships", get_relationships)
    route(app, "GET", "/api/v1/accounts/familiar_followers", familiar_followers)
    route(app, "GET", "/api/v1/accounts", get_accounts)
    route(app, "GET", ACCOUNT, get_account)
    route(app, "GET", f"{ACCOUNT}/statuses", account_statuses)
    route(app, "GET", f"{ACCOUNT}/followers", account_followers)
    route(app, "GET", f"{ACCOUNT}/following", account_following)
    route(app, "POST", f"{ACCOUNT}/follow", follow)
    route(app, "POST", f"{ACCOUNT}/unfollow", unfollow)
    route(app, "POST", f"{ACCOUNT}/remove_from_followers", remove_from_followers)
