"""Blocking and muting accounts, and the lists of blocked and muted accounts.

A block is federated to a remote account's server (it then hides us from its user); a
mute stays private to this node.
"""

from __future__ import annotations

from aiohttp import web

from node.api.auth import require_user
from node.api.mastodon.accounts import (
    ACCOUNT,
    relationship_response,
    target_actor,
)
from node.api.mastodon.render import Renderer, iso
from node.api.pagination import page_from, paged_response
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.relationships import block, blocks_page, mute, mutes_page, unblock, unmute


async def block_account(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:blocks")
    target = await target_actor(request)
    await block(request.app[NODE], me, target)
    return await relationship_response(request, me, target.id)


async def unblock_account(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:blocks")
    target = await target_actor(request)
    await unblock(request.app[NODE], me, target)
    return await relationship_response(request, me, target.id)


async def mute_account(request: web.Request) -> web.Response:
    """``notifications`` (default true) mutes notifications too; ``duration`` in seconds,
    0 for as long as the mute stays. Muting again updates the mute."""
    _, me = await require_user(request, "write:mutes")
    params = await read_params(request)
    target = await target_actor(request)
    await mute(
        request.app[NODE],
        me,
        target,
        notifications=params.get_bool("notifications", True),
        duration=params.get_int("duration", 0) or 0,
    )
    return await relationship_response(request, me, target.id)


async def unmute_account(request: web.Request) -> web.Response:
    _, me = await require_user(request, "write:mutes")
    target = await target_actor(request)
    await unmute(request.app[NODE], me, target)
    return await relationship_response(request, me, target.id)


async def list_blocks(request: web.Request) -> web.Response:
    _, me = await require_user(request, "read:blocks")
    params = await read_params(request)
    node = request.app[NODE]
    async with node.reads() as db:
        rows = await blocks_page(db, me.id, page_from(params, default=40, maximum=80))
        body = await Renderer(node, db, me).accounts([actor for _, actor in rows])
    return paged_response(request, body, [key for key, _ in rows])


async def list_mutes(request: web.Request) -> web.Response:
    """Muted accounts, each with ``mute_expires_at`` (Mastodon 4.3)."""
    _, me = await require_user(request, "read:mutes")
    params = await read_params(request)
    node = request.app[NODE]
    async with node.reads() as db:
        rows = await mutes_page(db, me.id, page_from(params, default=40, maximum=80))
        body = await Renderer(node, db, me).accounts([actor for _, actor, _ in rows])
    for account, (_, _, expires_at) in zip(body, rows, strict=True):
        account["mute_expires_at"] = iso(expires_at)
    return paged_response(request, body, [key for key, _, _ in rows])


def setup_routes(app: web.Application) -> None:
    route(app, "POST", f"{ACCOUNT}/block", block_account)
    route(app, "POST", f"{ACCOUNT}/unblock", unblock_account)
    route(app, "POST", f"{ACCOUNT}/mute", mute_account)
    route(app, "POST", f"{ACCOUNT}/unmute", unmute_account)
    route(app, "GET", "/api/v1/blocks", list_blocks)
    route(app, "GET", "/api/v1/mutes", list_mutes)
