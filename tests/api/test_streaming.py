"""The streaming API over real WebSocket and SSE connections to a running node: events
arrive within a second, each rendered for (and visible to) its subscriber."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import pytest

from node import audience as aud
from node.api.streaming import REGISTRY
from node.context import transaction
from node.db.models import UserList
from node.follows import follow
from node.posts import create_post, delete_post
from tests.api.conftest import ApiClient, ClientFactory
from tests.harness import NodeFactory, RunningNode, wait_for


def ws_url(client: ApiClient, query: str = "") -> str:
    return client.node.base_url.replace("http", "ws", 1) + "/api/v1/streaming" + query


async def next_event(ws: aiohttp.ClientWebSocketResponse, timeout: float = 1.0) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), timeout)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def event_of_kind(
    ws: aiohttp.ClientWebSocketResponse, kind: str, timeout: float = 1.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        event = await next_event(ws, max(0.01, deadline - time.monotonic()))
        if event.get("event") == kind:
            return event


async def sse_events(response: aiohttp.ClientResponse, count: int, timeout: float = 2.0) -> list:
    """The next ``count`` events of a server-sent event stream, comments skipped."""
    events: list[tuple[str, str]] = []
    kind = data = None

    async def read() -> None:
        nonlocal kind, data
        while len(events) < count:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line.startswith(":"):
                continue
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and kind is not None:
                events.append((kind, data or ""))
                kind = data = None

    await asyncio.wait_for(read(), timeout)
    return events


async def test_user_stream_gets_updates_and_mention_notifications(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """The test the issue asks for: a post by someone Alice follows reaches her WebSocket
    within a second, and so does the notification when she is mentioned."""
    alice_client = await api(node_a, "alice")
    alice, carol = await node_a.actor("alice"), await node_a.actor("carol")
    await follow(node_a.node, alice, carol)

    async with alice_client.session.ws_connect(
        ws_url(alice_client, "?stream=user"), headers=alice_client.headers()
    ) as ws:
        # When Carol posts
        post = await create_post(node_a.node, carol, "hello followers")
        # Then Alice's home stream has it within a second, rendered as a Status
        event = await next_event(ws)
        assert event["stream"] == ["user"]
        assert event["event"] == "update"
        status = json.loads(event["payload"])
        assert status["id"] == str(post.id)
        assert status["account"]["username"] == "carol"
        assert "hello followers" in status["content"]

        # When Carol mentions Alice
        mention = await create_post(node_a.node, carol, "@alice hi")
        # Then a notification arrives, carrying the status
        event = await event_of_kind(ws, "notification")
        notification = json.loads(event["payload"])
        assert notification["type"] == "mention"
        assert notification["account"]["username"] == "carol"
        assert notification["status"]["id"] == str(mention.id)

        # When Carol deletes her post, the client is told to drop it
        await delete_post(node_a.node, carol, post)
        event = await event_of_kind(ws, "delete")
        assert event["payload"] == str(post.id)


async def test_sse_public_stream_carries_public_posts_only(
    node_a: RunningNode, api: ClientFactory
) -> None:
    alice_client = await api(node_a, "alice")
    carol = await node_a.actor("carol")
    url = node_a.base_url + "/api/v1/streaming/public"
    async with alice_client.session.get(url, headers=alice_client.headers()) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        # Given a followers-only post first, then a public one
        await create_post(node_a.node, carol, "for my followers", audience=aud.FOLLOWERS)
        public = await create_post(node_a.node, carol, "for everyone")
        # Then the first (and only) event is the public post
        [(kind, data)] = await sse_events(response, 1)
        assert kind == "update"
        assert json.loads(data)["id"] == str(public.id)


async def test_sse_token_in_query_and_hashtag_stream(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """EventSource cannot send headers: the token comes as ``access_token``."""
    alice_client = await api(node_a, "alice")
    carol = await node_a.actor("carol")
    url = f"{node_a.base_url}/api/v1/streaming/hashtag/local?tag=Cats&access_token="
    async with alice_client.session.get(url + str(alice_client.token)) as response:
        assert response.status == 200
        await create_post(node_a.node, carol, "no tag here")
        tagged = await create_post(node_a.node, carol, "look #cats")
        [(kind, data)] = await sse_events(response, 1)
        assert (kind, json.loads(data)["id"]) == ("update", str(tagged.id))


async def test_websocket_subscribe_unsubscribe_and_errors(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """Token as the WebSocket sub-protocol (what browsers use); streams added and
    removed by message; a bad subscription answered with Mastodon's error object."""
    alice_client = await api(node_a, "alice")
    carol = await node_a.actor("carol")
    bus = node_a.node.events
    async with alice_client.session.ws_connect(
        ws_url(alice_client), protocols=(str(alice_client.token),)
    ) as ws:
        assert ws.protocol == alice_client.token

        await ws.send_json({"type": "subscribe", "stream": "hashtag", "tag": "news"})
        await wait_for(lambda: _async(bus.subscriber_count("hashtag:news") == 1))
        post = await create_post(node_a.node, carol, "#news of the day")
        event = await next_event(ws)
        assert event["stream"] == ["hashtag", "news"]
        assert json.loads(event["payload"])["id"] == str(post.id)

        await ws.send_json({"type": "unsubscribe", "stream": "hashtag", "tag": "news"})
        await wait_for(lambda: _async(bus.subscriber_count("hashtag:news") == 0))

        await ws.send_json({"type": "subscribe", "stream": "nonsense"})
        assert (await next_event(ws))["status"] == 400
        await ws.send_json({"type": "subscribe", "stream": "hashtag"})
        assert (await next_event(ws)) == {"error": "No tag for stream provided", "status": 400}
        await ws.send_str("not json")
        assert (await next_event(ws))["status"] == 400


async def test_list_stream_only_for_its_owner(node_a: RunningNode, api: ClientFactory) -> None:
    alice_client = await api(node_a, "alice")
    carol_client = await api(node_a, "carol")
    alice = await node_a.actor("alice")
    async with transaction(node_a.node) as db:
        friends = UserList(owner_id=alice.id, title="friends")
        db.add(friends)
    async with alice_client.session.ws_connect(
        ws_url(alice_client, f"?stream=list&list={friends.id}"), headers=alice_client.headers()
    ):
        assert node_a.node.events.subscriber_count(f"list:{friends.id}") == 1
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with carol_client.session.ws_connect(
            ws_url(carol_client, f"?stream=list&list={friends.id}"),
            headers=carol_client.headers(),
        ):
            pass
    assert refused.value.status == 404


async def test_notification_stream_skips_timeline_updates(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """``user:notification`` needs only ``read:notifications`` and carries only those."""
    alice_client = await api(node_a, "alice", scopes="read:notifications")
    alice, carol = await node_a.actor("alice"), await node_a.actor("carol")
    await follow(node_a.node, alice, carol)
    async with alice_client.session.ws_connect(
        ws_url(alice_client, "?stream=user:notification"), headers=alice_client.headers()
    ) as ws:
        await create_post(node_a.node, carol, "timeline only")
        await create_post(node_a.node, carol, "@alice ping")
        event = await next_event(ws)
        assert event["stream"] == ["user:notification"]
        assert event["event"] == "notification"
        # The narrower token cannot open the home stream.
        await ws.send_json({"type": "subscribe", "stream": "user"})
        assert (await next_event(ws))["status"] == 403


@pytest.mark.parametrize("token", [None, "not-a-real-token"])
async def test_streams_need_a_valid_token(
    node_a: RunningNode, api: ClientFactory, token: str | None
) -> None:
    """Mastodon 4 requires a token even for public streams: 401 before any upgrade."""
    client = await api(node_a, None)
    client.token = token
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with client.session.ws_connect(
            ws_url(client, "?stream=public"), headers=client.headers()
        ):
            pass
    assert refused.value.status == 401
    status, body, _ = await client.call("GET", "/api/v1/streaming/public", expect=None)
    assert status == 401 and "error" in body
    if token is not None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with client.session.ws_connect(ws_url(client), protocols=(token,)):
                pass
        assert refused.value.status == 401


async def test_health(node_a: RunningNode, api: ClientFactory) -> None:
    client = await api(node_a, None)
    async with client.session.get(node_a.base_url + "/api/v1/streaming/health") as response:
        assert response.status == 200
        assert await response.text() == "OK"


async def test_shutdown_ends_open_streams_promptly(
    node_factory: NodeFactory, api: ClientFactory
) -> None:
    """Stopping the node closes sockets and SSE responses at once and leaves no task."""
    node = await node_factory.start("s", users=("alice",))
    client = await api(node, "alice")
    ws = await client.session.ws_connect(ws_url(client, "?stream=user"), headers=client.headers())
    sse = await client.session.get(
        node.base_url + "/api/v1/streaming/user", headers=client.headers()
    )
    registry = node.node.events
    assert registry.subscriber_count(f"user:{(await node.actor('alice')).id}") == 2
    app = node.runner.app if node.runner else None
    assert app is not None and len(app[REGISTRY].connections) == 2

    started = time.monotonic()
    await node_factory.stop(node)

    assert time.monotonic() - started < 5
    message = await asyncio.wait_for(ws.receive(), 1)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert await asyncio.wait_for(sse.content.read(), 1) is not None
    assert not app[REGISTRY].connections
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("stream ")]
    await ws.close()
    sse.close()


async def _async(value: bool) -> bool:
    return value
