"""The inbox reads the whole body however the peer's bytes arrive: a POST whose body
comes in several TCP segments, with pauses between them (a large activity over a slow
link), is verified and applied like one that came at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from node.db.models import Follow, ReceivedActivity
from tests.fake_peer import AS2, FakePeer
from tests.harness import RunningNode


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    fake = await FakePeer().start()
    fake.add_actor("alice")
    try:
        yield fake
    finally:
        await fake.stop()


async def post_in_pieces(url: str, headers: dict[str, str], body: bytes, pieces: int) -> int:
    """POST ``body`` over a raw connection in ``pieces`` writes, pausing between them;
    returns the status code."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host")
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode("latin-1"))
        step = -(-len(body) // pieces)
        for start in range(0, len(body), step):
            writer.write(body[start : start + step])
            await writer.drain()
            await asyncio.sleep(0.05)  # the server reads what came so far meanwhile
        status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()


async def test_body_sent_in_pieces_is_read_whole(node_b: RunningNode, peer: FakePeer):
    """Given a signed Follow whose body is padded to ≈ 20 KB, when the peer sends the body
    in four pieces with pauses, then the node answers 202 and applies it once."""
    activity = {
        "@context": AS2,
        "id": f"{peer.base}/activities/follow-in-pieces",
        "type": "Follow",
        "actor": peer.actor_uri(),
        "object": node_b.actor_uri("bob"),
        "summary": "x" * 20_000,
    }
    body = json.dumps(activity).encode()
    url = f"{node_b.base_url}/inbox"
    headers = peer.signed(url, body)

    status = await post_in_pieces(url, headers, body, pieces=4)

    assert status == 202
    async with node_b.node.reads() as db:
        received = await db.scalar(select(func.count()).select_from(ReceivedActivity))
        follows = await db.scalar(select(func.count()).select_from(Follow))
    assert (received, follows) == (1, 1)
