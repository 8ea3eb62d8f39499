"""Mounting the client API: every module of ``node.api.mastodon`` (and ``node.api.oauth``)
that defines ``setup_routes(app)`` registers its own routes."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from aiohttp import web

import node.api.mastodon as mastodon_package
from node.api.middleware import RATE_LIMITER
from node.api.ratelimit import RateLimiter

EXTRA_MODULES = ("node.api.oauth", "node.api.streaming", "node.identity.routes")


def api_modules() -> list[str]:
    names = [
        f"{mastodon_package.__name__}.{info.name}"
        for info in pkgutil.iter_modules(mastodon_package.__path__)
    ]
    for extra in EXTRA_MODULES:
        if importlib.util.find_spec(extra) is not None:
            names.append(extra)
    return sorted(names)


def setup_api(app: web.Application, *, rate_limit: int = 300) -> None:
    app[RATE_LIMITER] = RateLimiter(limit=rate_limit)
    for name in api_modules():
        module = importlib.import_module(name)
        register = getattr(module, "setup_routes", None)
        if register is not None:
            register(app)
