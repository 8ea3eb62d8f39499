"""A minimal HTTP/1.1 keep-alive load generator for pre-built requests.

aiohttp's client costs about as much CPU per request as a small aiohttp server does, so
with it the benchmark would measure the sender as much as the server. Here every request
is already a byte string; the sender writes it on one of ``concurrency`` persistent
connections and reads back a status line, headers and a ``Content-Length`` body. That is
all a benchmark needs and it leaves the server as the bottleneck.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    """What came back: status counts, wall time, and one refused answer to show."""

    statuses: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0
    sample_error: str = ""
    sent: int = 0
    stopped_early: bool = False

    def count(self, status: int) -> int:
        return self.statuses[status]

    def rate(self, status: int) -> float:
        """Answers with ``status`` per second of wall time."""
        return self.statuses[status] / self.elapsed if self.elapsed else 0.0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
        elif name == "transfer-encoding":
            raise RuntimeError("chunked responses are not supported by the load generator")
    body = await reader.readexactly(length) if length else b""
    return status, body, keep_alive


async def drive(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    concurrency: int = 64,
    time_limit: float | None = None,
) -> LoadResult:
    """Send every request once, ``concurrency`` at a time, and time the whole batch.

    The clock starts once all connections are open, so connection set-up is not counted.
    After ``time_limit`` seconds no new request is sent (those in flight finish), so a
    slow server cannot make a benchmark run for ever; ``sent`` says how many went out.
    """
    result = LoadResult()
    queue = iter(requests)
    connections = [await asyncio.open_connection(host, port) for _ in range(concurrency)]
    deadline = None if time_limit is None else time.perf_counter() + time_limit

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for request in queue:
            if deadline is not None and time.perf_counter() > deadline:
                result.stopped_early = True
                break
            result.sent += 1
            writer.write(request)
            status, body, keep_alive = await _read_response(reader)
            result.statuses[status] += 1
            if status >= 300 and not result.sample_error:
                result.sample_error = f"{status} {body[:300].decode('utf-8', 'replace')}"
            if not keep_alive:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    start = time.perf_counter()
    await asyncio.gather(*(worker(r, w) for r, w in connections))
    result.elapsed = time.perf_counter() - start
    return result
