"""429 when a client exceeds its request budget; polls served over ActivityPub as Questions."""

from __future__ import annotations

import aiohttp

from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory


async def test_rate_limited_client_gets_429_with_retry_after(
    node_factory: NodeFactory, api: ClientFactory
):
    node = await node_factory.start("a", users=("alice", "bob"), api_rate_limit=5)
    alice = await api(node, "alice")
    for _ in range(5):
        await alice.get("/api/v1/accounts/verify_credentials")
    _, body, headers = await alice.call("GET", "/api/v1/accounts/verify_credentials", expect=429)
    assert body == {"error": "Too many requests"}
    assert int(headers["Retry-After"]) > 0
    assert headers["X-RateLimit-Remaining"] == "0"
    # The budget is the account's, as Mastodon counts it: alice's second app shares it
    # (its token's very first request is counted before the token is known)...
    other = await api(node, "alice")
    await other.get("/api/v1/accounts/verify_credentials")
    await other.call("GET", "/api/v1/accounts/verify_credentials", expect=429)
    # ...and another account has its own
    bob = await api(node, "bob")
    for _ in range(5):
        await bob.get("/api/v1/accounts/verify_credentials")


async def test_poll_is_served_as_a_question(node_factory: NodeFactory, api: ClientFactory):
    node = await node_factory.start("a", users=("alice",))
    alice = await api(node, "alice")
    status = await alice.post(
        "/api/v1/statuses",
        json={"status": "Lunch?", "poll": {"options": ["pizza", "salad"], "expires_in": 3600}},
    )
    async with (
        aiohttp.ClientSession() as session,
        session.get(status["uri"], headers={"Accept": "application/activity+json"}) as response,
    ):
        assert response.status == 200
        doc = await response.json(content_type=None)
    assert doc["type"] == "Question"
    assert [o["name"] for o in doc["oneOf"]] == ["pizza", "salad"]
    assert "endTime" in doc
