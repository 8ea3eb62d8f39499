"""Typed application keys of the web UI."""

import jinja2
from aiohttp import web

TEMPLATES = web.AppKey("webui_templates", jinja2.Environment)
