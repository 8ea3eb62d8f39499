"""Typed keys for what the aiohttp application shares between handlers."""

from typing import Any, Protocol

from aiohttp import web

from node.context import Node


class PageRenderer(Protocol):
    """What the web UI provides for the few HTML pages node/ serves (the OAuth consent
    page): node/ never imports webui/, the application factory wires them."""

    async def render(self, name: str, **context: Any) -> str: ...


NODE = web.AppKey("node", Node)
PAGES = web.AppKey("pages", PageRenderer)
