"""``GET /api/v1/admin/adoption?period=week|month[&format=csv]``: the adoption figures
(node/adoption.py) for the node's admins, as JSON or CSV.

Like Mastodon's admin API it needs an ``admin:read`` token of an admin account; anyone
else gets 403, whatever their token's scopes.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from node.adoption import adoption, to_csv
from node.api.auth import require_user
from node.api.errors import forbidden, unprocessable
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.db.models import User
from node.errors import Invalid


async def figures(request: web.Request) -> web.Response:
    node = request.app[NODE]
    auth, _ = await require_user(request, "admin:read")
    params = await read_params(request)
    period = params.get_str("period") or "week"
    kind = params.get_str("format") or "json"
    if kind not in ("json", "csv"):
        raise unprocessable("format must be json or csv")
    async with node.reads() as db:
        user = await db.scalar(select(User).where(User.id == auth.token.user_id))
        if user is None or not user.is_admin:
            raise forbidden("This action is not allowed")
        try:
            body = await adoption(db, period)
        except Invalid as exc:
            raise unprocessable(exc.message) from exc
    if kind == "csv":
        return web.Response(
            text=to_csv(body),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="adoption-{period}.csv"'},
        )
    return web.json_response(body)


def setup_routes(app: web.Application) -> None:
    route(app, "GET", "/api/v1/admin/adoption", figures)
