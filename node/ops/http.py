"""The operator's HTTP surface: request ids and counters on every request,
``GET /healthz`` (the process answers), ``GET /readyz`` (it can serve: database reachable,
schema current, not shutting down) and ``GET /metrics`` (Prometheus text format).

``/metrics`` tells about the node's traffic and peers: expose it to the monitoring
network only (docs/operations.md shows the proxy rule).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import text

from node.appkeys import NODE
from node.db.migrate import HEAD_REVISION, current_revision
from node.logging_setup import REQUEST_ID_HEADER, REQUEST_ID_KEY, new_request_id, request_id
from node.metrics import (
    CONTENT_TYPE,
    INBOX_TYPE_KEY,
    Metrics,
    activity_type_label,
    inbox_result,
    queue_stats,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
INBOX_ROUTES = frozenset({"/users/{username}/inbox", "/org/inbox", "/actor/inbox", "/inbox"})
OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@dataclass
class OpsState:
    """Flipped when shutdown starts, so a load balancer stops sending new requests."""

    stopping: bool = False


METRICS = web.AppKey("metrics", Metrics)
OPS_STATE = web.AppKey("ops_state", OpsState)


def _route(request: web.Request) -> str:
    """The route pattern, not the path: one series per endpoint, not per user."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def ops_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = new_request_id(request.headers.get(REQUEST_ID_HEADER))
    request[REQUEST_ID_KEY] = rid
    token = request_id.set(rid)
    started = time.perf_counter()
    status = 500
    response: web.StreamResponse | None = None
    try:
        response = await handler(request)
        status = response.status
        if not response.prepared:
            response.headers[REQUEST_ID_HEADER] = rid
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers[REQUEST_ID_HEADER] = rid
        raise
    finally:
        request_id.reset(token)
        metrics = request.app.get(METRICS)
        if metrics is not None and request.path not in OPS_PATHS:
            route = _route(request)
            metrics.record_request(request.method, route, status, time.perf_counter() - started)
            if request.method == "POST" and route in INBOX_ROUTES:
                body = response.body if isinstance(response, web.Response) else None
                metrics.record_inbox(
                    activity_type_label(request.get(INBOX_TYPE_KEY)),
                    inbox_result(status, body if isinstance(body, bytes) else None),
                )


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the event loop answers. Never touches the database, so a slow database
    does not get a healthy process restarted."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: 200 only when a request could be served right now."""
    if request.app[OPS_STATE].stopping:
        return web.json_response({"error": "shutting down"}, status=503)
    node = request.app[NODE]
    try:
        async with node.reads() as db:
            await db.execute(text("SELECT 1"))
        revision = await current_revision(node.read_engine)
    except Exception as exc:  # any driver error means "not ready", with its reason
        return web.json_response({"error": f"database unreachable: {exc}"}, status=503)
    if revision != HEAD_REVISION:
        return web.json_response(
            {"error": f"database schema {revision} is not {HEAD_REVISION}: run cercle migrate"},
            status=503,
        )
    return web.json_response({"status": "ready", "schema": revision})


async def metrics_view(request: web.Request) -> web.Response:
    node = request.app[NODE]
    metrics = request.app[METRICS]
    async with node.reads() as db:
        metrics.set_queue(await queue_stats(db))
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})


def setup_ops(app: web.Application) -> None:
    """Routes and state; ``ops_middleware`` is listed first by the application factory."""
    app[METRICS] = Metrics()
    app[OPS_STATE] = OpsState()

    async def mark_stopping(app: web.Application) -> None:
        app[OPS_STATE].stopping = True

    app.on_shutdown.append(mark_stopping)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)
