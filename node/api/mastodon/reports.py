"""``POST /api/v1/reports``: a user reports an account (and some of its posts) to this
node's admins and moderators; with ``forward`` and a remote account the report also goes
to the account's server as a ``Flag`` (node/moderation/reports.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from node.api.auth import require_user
from node.api.errors import unprocessable
from node.api.mastodon.render import Renderer, iso
from node.api.params import read_params
from node.api.routing import route
from node.appkeys import NODE
from node.db.models import Actor, Report
from node.moderation.reports import file_report


def report_json(report: Report, target: dict[str, Any]) -> dict[str, Any]:
    """Mastodon's Report entity, as its reporter sees it."""
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": iso(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "status_ids": [str(i) for i in report.status_ids] or None,
        "rule_ids": None,
        "target_account": target,
    }


def _ids(values: list[Any], name: str) -> list[int]:
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError) as exc:
        raise unprocessable(f"{name} must be a list of ids") from exc


async def create(request: web.Request) -> web.Response:
    node = request.app[NODE]
    _, me = await require_user(request, "write:reports")
    params = await read_params(request)
    account_id = _ids([params.require_str("account_id")], "account_id")[0]
    report = await file_report(
        node,
        me,
        account_id=account_id,
        status_ids=_ids(params.get_list("status_ids"), "status_ids"),
        comment=params.get_str("comment") or "",
        forward=params.get_bool("forward"),
        category=params.get_str("category"),
    )
    async with node.reads() as db:
        target = await db.get(Actor, report.account_id)
        assert target is not None
        account = await Renderer(node, db, me).account(target)
    return web.json_response(report_json(report, account))


def setup_routes(app: web.Application) -> None:
    route(app, "POST", "/api/v1/reports", create)
