"""Typed application keys of the web UI."""

from aiohttp import web

from webui.templating import Templates

TEMPLATES = web.AppKey("webui_templates", Templates)
