"""Mounting the web pages on the node's aiohttp application."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from node.appkeys import PAGES
from webui import circle_pages, home, signin
from webui.keys import TEMPLATES
from webui.pages import setup_routes
from webui.templating import Templates


def setup_webui(app: web.Application) -> None:
    app[TEMPLATES] = Templates()
    app[PAGES] = app[TEMPLATES]
    setup_routes(app)
    signin.setup_routes(app)
    home.setup_routes(app)
    circle_pages.setup_routes(app)
    app.router.add_static("/static", Path(__file__).parent / "static")
