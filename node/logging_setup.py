"""Structured logs: one JSON object per line, each carrying the request id it belongs to.

Log collectors (journald, Loki, Elasticsearch) index JSON fields without parsing rules,
and a request id in every line ties a warning deep in the inbox to the access-log line of
the request that caused it. The id comes from the reverse proxy's ``X-Request-Id`` when it
sends one (so proxy and node logs join), else a new one; it is echoed in the response.

``CERCLE_LOG_FORMAT=text`` gives the classic human-readable lines for a terminal.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from itertools import count
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from node.db import json_text

REQUEST_ID_HEADER = "X-Request-Id"
#: the id on the request itself, for the access log (which runs after the handler)
REQUEST_ID_KEY = web.RequestKey("request_id", str)
#: the request being served by the current task, "" outside requests
request_id: ContextVar[str] = ContextVar("request_id", default="")
#: what a client-sent id may look like: short, printable, no spaces (it lands in logs)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
#: extra values written as they are; any other type is written as its str()
_PLAIN = frozenset({str, int, float, bool})
#: LogRecord attributes that are not "extra" fields
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class _RequestIds:
    """32 hex digits: 20 random ones per process, then a 12-digit counter.

    Unique across processes and restarts like a random UUID, for a fraction of its cost
    (``uuid4`` reads the kernel's random source on every request). A forked child draws
    its own prefix, so parent and child never hand out the same id.
    """

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.prefix = secrets.token_hex(10)
        self.counter = count()

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFF:012x}"


_REQUEST_IDS = _RequestIds()


def new_request_id(offered: str | None) -> str:
    """The proxy's id if it is a sane token, else a fresh one."""
    if offered and _VALID_ID.match(offered):
        return offered
    return _REQUEST_IDS.next()


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...extra, "exc"}``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            entry["request_id"] = rid
        fields = record.__dict__
        for key in [key for key in fields if key not in _STANDARD]:
            if key not in entry:
                value = fields[key]
                entry[key] = value if type(value) in _PLAIN else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json_text.dumps(entry)  # orjson: the access log writes a line per request


def configure_logging(fmt: str | None = None, level: int = logging.INFO) -> None:
    """Root logging for ``cercle serve`` and ``cercle worker``: JSON unless asked for text."""
    fmt = (fmt or os.environ.get("CERCLE_LOG_FORMAT") or "json").lower()
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "text":
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    else:
        handler.setFormatter(JsonFormatter())
    # Neither format writes where a call came from, nor its thread or process: skip
    # finding them for every record (the logging HOWTO's "Optimization"; the access log
    # makes a record per request).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


class JsonAccessLogger(AbstractAccessLogger):
    """One line per request, with the same request id as the lines logged while serving it."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status,
            extra={
                "request_id": request.get(REQUEST_ID_KEY, ""),
                "method": request.method,
                "path": request.path,
                "status": response.status,
                "duration_ms": round(time * 1000, 2),
                "remote": request.remote or "",
                "user_agent": request.headers.get("User-Agent", ""),
                "bytes": response.body_length,
            },
        )
