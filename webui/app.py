"""Mounting the web pages on the node's aiohttp application."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from webui.keys import TEMPLATES
from webui.pages import setup_routes


def setup_webui(app: web.Application) -> None:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        enable_async=True,
    )
    app[TEMPLATES] = env
    setup_routes(app)
    app.router.add_static("/static", Path(__file__).parent / "static")
