"""Live events cross processes on PostgreSQL through LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from node.events import Event
from node.events_pg import decode, encode
from tests.api.conftest import issue_token
from tests.harness import NodeFactory
from tests.ops.cli_process import needs_postgres, run_cli, settings_env


def test_payloads_stay_under_postgres_limit_and_round_trip() -> None:
    """NOTIFY refuses payloads of 8,000 bytes: many events are split, none lost."""
    events = [Event("update", f"hashtag:{'x' * 40}{n}", 10**17 + n) for n in range(500)]
    payloads = encode("origin-1", events)
    assert len(payloads) > 1
    assert all(len(p.encode()) < 8000 for p in payloads)
    decoded = [e for p in payloads for e in decode(p)[1]]
    assert decoded == events
    assert decode(payloads[0])[0] == "origin-1"


@needs_postgres
async def test_a_post_made_by_another_process_reaches_streaming_clients(
    node_factory: NodeFactory,
) -> None:
    """`cercle post` runs in its own process; a client streaming alice's home timeline
    from `cercle serve` hears of the post at once."""
    node = await node_factory.start("e", users=("alice",))
    alice = await node.actor("alice")
    async with node.node.events.subscribe([f"user:{alice.id}", "public:local"]) as queue:
        # When another process publishes a post
        result = await asyncio.to_thread(
            run_cli, settings_env(node.settings), "post", "--as", "alice", "across processes"
        )
        assert result.returncode == 0, result.stderr
        post_id = int(result.stdout.strip().rsplit("/", 1)[1])
        # Then this process hears of it on both streams
        heard = set()
        async with asyncio.timeout(20):
            while len(heard) < 2:
                event = await queue.get()
                if event.object_id == post_id:
                    heard.add((event.kind, event.stream))
        assert heard == {("update", f"user:{alice.id}"), ("update", "public:local")}


@needs_postgres
async def test_sse_clients_of_serve_see_posts_made_by_another_process(
    node_factory: NodeFactory,
) -> None:
    """End to end: an SSE client of the web process streams a status that `cercle post`
    published from another process, rendered like any other."""
    node = await node_factory.start("s", users=("alice",))
    token = await issue_token(node, "alice")
    async with aiohttp.ClientSession() as session:
        async with session.get(
            node.base_url + "/api/v1/streaming/public",
            headers={"Authorization": f"Bearer {token}"},
        ) as stream:
            assert stream.status == 200
            result = await asyncio.to_thread(
                run_cli, settings_env(node.settings), "post", "--as", "alice", "hello stream"
            )
            assert result.returncode == 0, result.stderr
            async with asyncio.timeout(20):
                async for raw in stream.content:
                    if raw.startswith(b"data:") and b"hello stream" in raw:
                        status = json.loads(raw[len(b"data:") :])
                        break
    assert status["account"]["username"] == "alice"
    assert status["url"] == result.stdout.strip()
