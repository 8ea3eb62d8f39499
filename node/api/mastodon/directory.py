"""``GET /api/v1/directory/groups``: the groups of this node and of its partner firms
that people may find and join (node/group_directory.py), as Account entities with
``group: true`` plus two Cercle fields: ``members_only`` (null for a partner's group)
and ``members_count`` (members known here)."""

from __future__ import annotations

from aiohttp import web

from node.api.auth import require_user
from node.api.mastodon.render import Renderer
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.group_directory import directory_groups


async def groups(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "read:accounts")
    params = await read_params(request)
    limit = params.get_int("limit", 40, low=1, high=80) or 40
    offset = params.get_int("offset", 0, low=0) or 0
    async with node.reads() as db:
        listed = await directory_groups(
            db, local_only=params.get_bool("local"), limit=limit, offset=offset
        )
        accounts = await Renderer(node, db, me).accounts([g.actor for g in listed])
    for account, group in zip(accounts, listed, strict=True):
        account["members_only"] = group.members_only
        account["members_count"] = group.members
    return web.json_response(accounts)


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/directory/groups", groups)
