"""Serving an aiohttp app in a benchmark child process until SIGTERM.

Children announce readiness on stdout only once their socket listens, so the parent
never polls and never races the first request against ``listen()``.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket

from aiohttp import web

from node.logging_setup import JsonAccessLogger


async def serve_until_signal(
    app: web.Application,
    sock: socket.socket,
    banner: str,
    *,
    access_log: logging.Logger | None = None,
) -> None:
    """Serve ``app`` on ``sock``; print ``banner`` once listening; stop on SIGTERM/SIGINT.

    ``access_log``: one JSON line per request through this logger, as ``cercle serve``
    writes by default (None: no access log, as ``--no-access-log``)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(app, access_log=access_log, access_log_class=JsonAccessLogger)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        print(banner, flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
