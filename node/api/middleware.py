"""What every client-API request goes through: CORS (web apps like Elk and Phanpy call
from other origins), rate limits, and Mastodon-shaped errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from node.api.auth import bearer_token, hash_secret
from node.api.errors import ApiError
from node.api.ratelimit import RATE_LIMITER
from node.errors import CercleError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/")
__all__ = ["RATE_LIMITER", "api_middleware", "client_key"]

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
    "Access-Control-Expose-Headers": (
        "Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
    ),
    "Access-Control-Max-Age": "86400",
}


def client_key(request: web.Request) -> str:
    token = bearer_token(request)
    if token:
        return "token:" + hash_secret(token)
    return "ip:" + (request.remote or "unknown")


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIXES):
        return await handler(request)
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=CORS_HEADERS)
    limiter = request.app.get(RATE_LIMITER)
    headers: dict[str, str] = dict(CORS_HEADERS)
    if (
        limiter is not None
        and request.path.startswith("/api/")
        and not request.path.startswith("/api/v1/streaming")
    ):
        allowed, remaining, reset = limiter.hit(limiter.key_for(client_key(request)))
        headers.update(
            {
                "X-RateLimit-Limit": str(limiter.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(int(reset)),
            }
        )
        if not allowed:
            return web.json_response(
                {"error": "Too many requests"},
                status=429,
                headers={**headers, "Retry-After": str(max(1, int(reset)))},
            )
    try:
        response = await handler(request)
    except ApiError as exc:
        response = exc.response()
    except CercleError as exc:
        response = web.json_response({"error": exc.message}, status=exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = web.json_response({"error": exc.reason}, status=exc.status)
    if not response.prepared:
        for key, value in headers.items():
            response.headers.setdefault(key, value)
    return response
