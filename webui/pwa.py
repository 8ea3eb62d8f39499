"""What makes the web pages an installable app: the web app manifest, the service worker
and the page it shows offline.

The service worker is served from ``/sw.js`` (not ``/static/``) so that its scope is the
whole site. Its cache name carries a hash of the files it keeps (the "shell"), computed
once at start: a new release changes the worker's bytes, browsers install it, and its
``activate`` step drops the old cache. Signed-in pages are never cached (they are
``no-store``); offline, a navigation gets the offline page instead.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from aiohttp import web

from node.appkeys import NODE
from node.profiles import node_summary
from webui.i18n import translator
from webui.keys import TEMPLATES
from webui.responses import PAGE_HEADERS

STATIC_DIR = Path(__file__).parent / "static"
SERVICE_WORKER = STATIC_DIR / "sw.js"
OFFLINE_PATH = "/offline"
#: What the service worker caches at install: enough to draw the offline page.
SHELL = (OFFLINE_PATH, "/static/cercle.css", "/static/cercle.js", "/static/icons/icon-192.png")
#: The manifest's icons, drawn by ``python -m webui.icons``: (file, size in pixels, maskable).
ICONS = (
    ("icon-192.png", 192, False),
    ("icon-512.png", 512, False),
    ("maskable-512.png", 512, True),
)
THEME_COLOR = "#0b5cad"
BACKGROUND_COLOR = "#ffffff"


@cache
def shell_version() -> str:
    """A hash of the worker and the static files it caches (read once per process)."""
    digest = hashlib.sha256(SERVICE_WORKER.read_bytes())
    for path in SHELL:
        if path.startswith("/static/"):
            digest.update((STATIC_DIR / path.removeprefix("/static/")).read_bytes())
    return digest.hexdigest()[:16]


def manifest(name: str, short_name: str, description: str, lang: str) -> dict[str, object]:
    """The web app manifest (pure): opens on the home timeline, standalone, with icons."""
    return {
        "name": name,
        "short_name": short_name,
        "description": description,
        "lang": lang,
        "id": "/home",
        "start_url": "/home",
        "scope": "/",
        "display": "standalone",
        "background_color": BACKGROUND_COLOR,
        "theme_color": THEME_COLOR,
        "icons": [
            {
                "src": f"/static/icons/{file}",
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "maskable" if maskable else "any",
            }
            for file, size, maskable in ICONS
        ],
    }


async def manifest_file(request: web.Request) -> web.Response:
    """``GET /manifest.webmanifest``: named after the firm, described in the reader's
    language."""
    summary = await node_summary(request.app[NODE])
    _ = translator(request).gettext
    body = manifest(
        f"{summary.org_name} · Cercle",
        summary.org_name[:12] or "Cercle",
        _("The social network of %(org)s", org=summary.org_name),
        translator(request).locale,
    )
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        content_type="application/manifest+json",
        headers={**PAGE_HEADERS, "Cache-Control": "no-cache"},
    )


async def service_worker(request: web.Request) -> web.Response:
    """``GET /sw.js``: always revalidated, so a new release reaches installed apps."""
    source = SERVICE_WORKER.read_text(encoding="utf-8")
    source = source.replace("__VERSION__", shell_version()).replace(
        "__SHELL__", json.dumps(list(SHELL))
    )
    return web.Response(
        text=source,
        content_type="text/javascript",
        headers={**PAGE_HEADERS, "Cache-Control": "no-cache"},
    )


async def offline_page(request: web.Request) -> web.Response:
    """``GET /offline``: what the service worker shows when the network is gone. Rendered
    as for a stranger even to a signed-in reader (no name, no CSRF token, no cookie): the
    browser keeps it in its cache."""
    language = translator(request)
    html = (
        await request.app[TEMPLATES]
        .get_template("offline.html")
        .render_async(
            summary=await node_summary(request.app[NODE]),
            me=None,
            nav=False,
            translator=language,
            lang=language.locale,
            languages={},
            path=OFFLINE_PATH,
        )
    )
    headers = {**PAGE_HEADERS, "Content-Language": language.locale, "Cache-Control": "no-cache"}
    return web.Response(text=html, content_type="text/html", headers=headers)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/manifest.webmanifest", manifest_file)
    app.router.add_get("/sw.js", service_worker)
    app.router.add_get(OFFLINE_PATH, offline_page)
