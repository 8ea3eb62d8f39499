"""``/api/v1/notifications`` and ``/api/v1/markers`` over real HTTP: a favourite given
on another node becomes a notification here; filters, paging, dismissing, clearing, and
the unread count measured from the read marker."""

from __future__ import annotations

import re

from sqlalchemy import select

from node.db.models import Follow, Post
from node.db.models.follows import ACCEPTED
from node.follows import follow
from node.remote_actors import resolve_account
from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory, RunningNode, wait_for


async def test_favourite_on_another_node_notifies_the_author(
    node_a: RunningNode, node_b: RunningNode, api: ClientFactory
):
    """bob@B follows alice@A, sees her post and favourites it through B's API; the Like
    travels to A, where alice finds a ``favourite`` notification from bob@B."""
    # Given bob on B follows alice on A
    bob = await node_b.actor("bob")
    await follow(node_b.node, bob, await resolve_account(node_b.node, node_a.handle("alice")))

    async def accepted() -> bool:
        async with node_b.node.reads() as db:
            state = await db.scalar(select(Follow.state).where(Follow.follower_id == bob.id))
            return state == ACCEPTED

    await wait_for(accepted)

    # When alice posts and bob favourites the copy that reached B
    alice = await api(node_a, "alice")
    status = await alice.post("/api/v1/statuses", json={"status": "quarterly numbers"})

    async def copy_on_b() -> int | None:
        async with node_b.node.reads() as db:
            return await db.scalar(select(Post.id).where(Post.uri == status["uri"]))

    remote_id = await wait_for(copy_on_b)
    bob_api = await api(node_b, "bob")
    faved = await bob_api.post(f"/api/v1/statuses/{remote_id}/favourite")
    assert faved["favourited"] is True

    # Then alice on A is notified, with bob's account and her status (after bob's follow)
    async def notified() -> list[dict]:
        return await alice.get("/api/v1/notifications?types[]=favourite")

    [notification] = await wait_for(notified)
    assert [n["type"] for n in await alice.get("/api/v1/notifications")] == [
        "favourite",
        "follow",
    ]
    assert notification["type"] == "favourite"
    assert notification["account"]["acct"] == f"bob@{node_b.domain}"
    assert notification["status"]["id"] == status["id"]
    assert notification["status"]["favourites_count"] == 1
    assert isinstance(notification["id"], str) and notification["created_at"].endswith("Z")


async def _busy_alice(node_factory: NodeFactory, api: ClientFactory):
    """alice gets a follow from bob, a mention, a favourite and a boost from carol."""
    node = await node_factory.start("a", users=("alice", "bob", "carol"))
    alice, bob, carol = [await api(node, u) for u in ("alice", "bob", "carol")]
    await follow(node.node, await node.actor("bob"), await node.actor("alice"))
    status = await alice.post("/api/v1/statuses", json={"status": "news"})
    await carol.post("/api/v1/statuses", json={"status": "@alice look"})
    await carol.post(f"/api/v1/statuses/{status['id']}/favourite")
    await carol.post(f"/api/v1/statuses/{status['id']}/reblog")
    return node, alice, bob, carol


async def test_filters_paging_dismiss_and_clear(node_factory: NodeFactory, api: ClientFactory):
    node, alice, bob, _carol = await _busy_alice(node_factory, api)

    every = await alice.get("/api/v1/notifications")
    assert [n["type"] for n in every] == ["reblog", "favourite", "mention", "follow"]
    assert every[3]["status"] is None and every[3]["account"]["acct"] == "bob"

    async def types(query: str) -> list[str]:
        return [n["type"] for n in await alice.get(f"/api/v1/notifications?{query}")]

    assert await types("types[]=mention&types[]=follow") == ["mention", "follow"]
    assert await types("exclude_types[]=reblog&exclude_types[]=follow") == [
        "favourite",
        "mention",
    ]
    bob_id = every[3]["account"]["id"]
    assert await types(f"account_id={bob_id}") == ["follow"]
    assert await types("types[]=admin.sign_up") == []

    # Paging by two, with Mastodon's Link header.
    _, first, headers = await alice.call("GET", "/api/v1/notifications", params={"limit": "2"})
    assert [n["id"] for n in first] == [every[0]["id"], every[1]["id"]]
    next_url = re.search(r'<([^>]+)>; rel="next"', headers["Link"]).group(1)
    assert next_url.endswith(f"max_id={every[1]['id']}")
    async with alice.session.get(next_url, headers=alice.headers()) as response:
        assert [n["id"] for n in await response.json()] == [every[2]["id"], every[3]["id"]]

    # One, someone else's (404), dismissed, cleared.
    one = await alice.get(f"/api/v1/notifications/{every[2]['id']}")
    assert one["type"] == "mention" and one["status"]["content"].endswith("look</p>")
    await bob.call("GET", f"/api/v1/notifications/{every[2]['id']}", expect=404)
    await bob.call("POST", f"/api/v1/notifications/{every[2]['id']}/dismiss", expect=404)
    assert await alice.post(f"/api/v1/notifications/{every[2]['id']}/dismiss") == {}
    await alice.call("GET", f"/api/v1/notifications/{every[2]['id']}", expect=404)
    assert len(await alice.get("/api/v1/notifications")) == 3
    assert await alice.post("/api/v1/notifications/clear") == {}
    assert await alice.get("/api/v1/notifications") == []

    # Scopes: reading needs read:notifications, dismissing write:notifications.
    writer = await api(node, "alice", scopes="write")
    await writer.call("GET", "/api/v1/notifications", expect=403)
    reader = await api(node, "alice", scopes="read")
    await reader.call("POST", "/api/v1/notifications/clear", expect=403)
    await (await api(node, None)).call("GET", "/api/v1/notifications", expect=401)


async def test_a_deleted_post_takes_its_notifications_along(
    node_factory: NodeFactory, api: ClientFactory
):
    _node, alice, _bob, carol = await _busy_alice(node_factory, api)
    [mention] = await alice.get("/api/v1/notifications?types[]=mention")
    await carol.delete(f"/api/v1/statuses/{mention['status']['id']}")
    assert await alice.get("/api/v1/notifications?types[]=mention") == []


async def test_markers_and_unread_count(node_factory: NodeFactory, api: ClientFactory):
    """Markers are saved per timeline with a version that grows; the unread count is the
    number of notifications newer than the notifications marker."""
    _node, alice, bob, _carol = await _busy_alice(node_factory, api)
    every = await alice.get("/api/v1/notifications")
    assert await alice.get("/api/v1/markers?timeline[]=home&timeline[]=notifications") == {}
    assert (await alice.get("/api/v1/notifications/unread_count"))["count"] == 4

    saved = await alice.post(
        "/api/v1/markers",
        data={"notifications[last_read_id]": every[2]["id"], "home[last_read_id]": "42"},
    )
    assert saved["notifications"]["last_read_id"] == every[2]["id"]
    assert saved["notifications"]["version"] == 1 and saved["home"]["last_read_id"] == "42"
    assert (await alice.get("/api/v1/notifications/unread_count"))["count"] == 2
    unread = await alice.get("/api/v1/notifications/unread_count?types[]=reblog")
    assert unread == {"count": 1}
    assert (await alice.get("/api/v1/notifications/unread_count?limit=1"))["count"] == 1

    again = await alice.post(
        "/api/v1/markers", json={"notifications": {"last_read_id": every[0]["id"]}}
    )
    assert list(again) == ["notifications"] and again["notifications"]["version"] == 2
    markers = await alice.get(
        "/api/v1/markers", params=[("timeline[]", "home"), ("timeline[]", "notifications")]
    )
    assert markers["home"]["version"] == 1 and markers["notifications"]["version"] == 2
    assert markers["home"]["updated_at"].endswith("Z")
    assert (await alice.get("/api/v1/notifications/unread_count"))["count"] == 0
    assert await bob.get("/api/v1/markers?timeline[]=home") == {}
    await alice.call("POST", "/api/v1/markers", json={"home": {"last_read_id": "soon"}}, expect=422)
