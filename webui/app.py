"""Mounting the web pages on the node's aiohttp application."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from node.appkeys import PAGES
from webui import (
    admin_dashboard,
    admin_pages,
    admin_reports,
    circle_pages,
    community_pages,
    company_signin,
    directory_pages,
    group_pages,
    home,
    notification_pages,
    profile_pages,
    pwa,
    search_pages,
    settings_pages,
    signin,
    thread_pages,
)
from webui.i18n import locale_middleware
from webui.keys import TEMPLATES
from webui.pages import setup_routes
from webui.templating import Templates


def setup_webui(app: web.Application) -> None:
    app[TEMPLATES] = Templates()
    app[PAGES] = app[TEMPLATES]
    app.middlewares.append(locale_middleware)
    setup_routes(app)
    signin.setup_routes(app)
    company_signin.setup_routes(app)
    home.setup_routes(app)
    circle_pages.setup_routes(app)
    group_pages.setup_routes(app)
    thread_pages.setup_routes(app)
    profile_pages.setup_routes(app)
    notification_pages.setup_routes(app)
    directory_pages.setup_routes(app)
    search_pages.setup_routes(app)
    settings_pages.setup_routes(app)
    admin_pages.setup_routes(app)
    admin_dashboard.setup_routes(app)
    admin_reports.setup_routes(app)
    community_pages.setup_routes(app)
    pwa.setup_routes(app)
    app.router.add_static("/static", Path(__file__).parent / "static")
