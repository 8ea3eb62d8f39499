"""The aiohttp application factory: one node, its routes, its background workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from sqlalchemy import select

from node.ap import routes as ap_routes
from node.ap import wellknown
from node.ap.fetch_policy import fetch_policy_middleware
from node.api.middleware import api_middleware
from node.api.setup import setup_api
from node.appkeys import NODE
from node.bootstrap import INITIALISED_KEY, app_actor
from node.context import Node, open_node
from node.db.migrate import is_up_to_date
from node.db.models import NodeSetting
from node.delivery.orphans import release_orphans
from node.delivery.worker import run_forever
from node.events_pg import start_relay
from node.gc_tuning import tune_for_serving
from node.inbox.group_commit import GroupCommitter
from node.ops.http import ops_middleware, setup_ops
from node.polls import run_poll_closer
from node.settings import Settings
from webui import setup_webui

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class NodeNotReady(Exception):
    """The data directory holds no initialised node, or an old schema."""


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Machine clients get ``{"error": ...}`` for every failure, never an HTML page."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        if request.path.startswith(("/@",)) or request.path == "/":
            raise
        return web.json_response({"error": exc.reason}, status=exc.status)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return web.json_response({"error": "internal server error"}, status=500)


async def load_node_settings(node: Node) -> None:
    """Values the admin set at run time override the configuration file."""
    async with node.reads() as db:
        result = await db.execute(select(NodeSetting.key, NodeSetting.value))
        rows = {key: value for key, value in result.all()}
    if INITIALISED_KEY not in rows:
        raise NodeNotReady("no node in this data directory: run `cercle init` first")
    if rows[INITIALISED_KEY] != node.settings.domain:
        raise NodeNotReady(
            f"this database belongs to {rows[INITIALISED_KEY]}, not {node.settings.domain}"
        )
    overrides = {}
    if "org_name" in rows:
        overrides["org_name"] = rows["org_name"]
    if "federation_mode" in rows:
        overrides["federation_mode"] = rows["federation_mode"]
    node.settings = node.settings.with_overrides(**overrides)


def create_app(
    settings: Settings, *, workers: bool = True, node: Node | None = None
) -> web.Application:
    """``workers=False`` serves HTTP only (``cercle serve --no-workers``)."""
    app = web.Application(
        middlewares=[ops_middleware, json_errors, api_middleware, fetch_policy_middleware],
        client_max_size=settings.max_body_bytes,
    )
    the_node = node or open_node(settings)
    app[NODE] = the_node

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        if not await is_up_to_date(the_node.engine):
            raise NodeNotReady("the database schema is not current: run `cercle migrate`")
        await load_node_settings(the_node)
        async with the_node.reads() as db:
            signer_actor = await app_actor(db, the_node)
        await the_node.start_http(signer_actor)
        the_node.inbox_committer = GroupCommitter(the_node)
        the_node.inbox_committer.start()
        # On PostgreSQL, live events cross to the node's other processes.
        relay = await start_relay(the_node.settings.database_url, the_node.events)
        tune_for_serving()
        stop = asyncio.Event()
        if workers:  # a killed predecessor's claimed rows go back to the queue at once
            await release_orphans(the_node)
        tasks = (
            [
                asyncio.create_task(run_forever(the_node, stop=stop), name="delivery"),
                asyncio.create_task(run_poll_closer(the_node, stop), name="poll-closer"),
            ]
            if workers
            else []
        )
        try:
            yield
        finally:
            await the_node.inbox_committer.stop()
            the_node.inbox_committer = None
            stop.set()
            the_node.delivery_wakeup.set()
            # Let the batch in flight finish (bounded), so no delivery is half-recorded.
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=20)
                for task in pending:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if relay is not None:
                await relay.close()
            await the_node.close()

    app.cleanup_ctx.append(lifecycle)
    setup_ops(app)
    wellknown.setup_routes(app)
    ap_routes.setup_routes(app)
    setup_api(app, rate_limit=settings.api_rate_limit)
    setup_webui(app)
    return app
