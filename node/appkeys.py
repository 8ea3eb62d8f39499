"""Typed keys for what the aiohttp application shares between handlers."""

from aiohttp import web

from node.context import Node

NODE = web.AppKey("node", Node)
