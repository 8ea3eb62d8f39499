"""Circles through the client API: create, fill, post to, and who then sees the post."""

from __future__ import annotations

from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory


async def test_circle_lifecycle_and_post_visibility(node_factory: NodeFactory, api: ClientFactory):
    node = await node_factory.start("a", users=("alice", "carol", "dave"))
    alice, carol, dave = [await api(node, name) for name in ("alice", "carol", "dave")]
    anonymous = await api(node, None)
    carol_id = (await carol.get("/api/v1/accounts/verify_credentials"))["id"]

    # alice makes a circle, renames it and puts carol in it
    circle = await alice.post("/api/v1/circles", json={"title": "Project X"})
    assert circle["title"] == "Project X"
    renamed = await alice.put(f"/api/v1/circles/{circle['id']}", json={"title": "Project Y"})
    assert renamed == {"id": circle["id"], "title": "Project Y"}
    await alice.post(f"/api/v1/circles/{circle['id']}/accounts", json={"account_ids": [carol_id]})
    members = await alice.get(f"/api/v1/circles/{circle['id']}/accounts")
    assert [m["username"] for m in members] == ["carol"]
    assert [c["title"] for c in await alice.get("/api/v1/circles")] == ["Project Y"]

    # Nobody else sees alice's circles
    await carol.call("GET", f"/api/v1/circles/{circle['id']}", expect=404)
    assert await carol.get("/api/v1/circles") == []

    # A post to the circle: visibility limited, audience circle
    status = await alice.post(
        "/api/v1/statuses",
        json={"status": "for the project", "visibility": "limited", "circle_id": [circle["id"]]},
    )
    assert status["visibility"] == "limited" and status["audience"] == "circle"

    # carol (in the circle) sees it, in her home timeline too; dave and anonymous do not
    assert (await carol.get(f"/api/v1/statuses/{status['id']}"))["id"] == status["id"]
    assert status["id"] in [s["id"] for s in await carol.get("/api/v1/timelines/home")]
    await dave.call("GET", f"/api/v1/statuses/{status['id']}", expect=404)
    await anonymous.call("GET", f"/api/v1/statuses/{status['id']}", expect=404)
    assert status["id"] not in [s["id"] for s in await dave.get("/api/v1/timelines/home")]
    # The post stays with the people it was for, even after the circle changes
    await alice.call(
        "DELETE", f"/api/v1/circles/{circle['id']}/accounts", json={"account_ids": [carol_id]}
    )
    assert (await carol.get(f"/api/v1/statuses/{status['id']}"))["id"] == status["id"]

    await alice.delete(f"/api/v1/circles/{circle['id']}")
    assert await alice.get("/api/v1/circles") == []


async def test_circle_bad_input(node_factory: NodeFactory, api: ClientFactory):
    node = await node_factory.start("a", users=("alice", "carol"))
    alice, carol = await api(node, "alice"), await api(node, "carol")
    await alice.call("POST", "/api/v1/circles", json={"title": "  "}, expect=422)
    theirs = await carol.post("/api/v1/circles", json={"title": "Carol's"})
    # Posting to someone else's circle: 404, nothing posted
    _, body, _ = await alice.call(
        "POST",
        "/api/v1/statuses",
        json={"status": "x", "visibility": "limited", "circle_id": [theirs["id"]]},
        expect=404,
    )
    assert "error" in body
    mine = await alice.post("/api/v1/circles", json={"title": "Empty"})
    _, body, _ = await alice.call(
        "POST",
        "/api/v1/statuses",
        json={"status": "x", "visibility": "limited", "circle_id": [mine["id"]]},
        expect=422,
    )
    assert "empty" in body["error"]
    await alice.call(
        "POST", f"/api/v1/circles/{mine['id']}/accounts", json={"account_ids": [999]}, expect=404
    )
    await alice.call(
        "POST", "/api/v1/statuses", json={"status": "x", "visibility": "limited"}, expect=422
    )
    # None of the refused posts was stored
    me = await alice.get("/api/v1/accounts/verify_credentials")
    assert await alice.get(f"/api/v1/accounts/{me['id']}/statuses") == []


async def test_limited_reply_stays_in_the_circle(node_factory: NodeFactory, api: ClientFactory):
    """A Fedibird-style client replies to a circle post with visibility=limited and no
    circle: the reply takes the thread's audience."""
    node = await node_factory.start("a", users=("alice", "carol", "dave"))
    alice, carol, dave = [await api(node, name) for name in ("alice", "carol", "dave")]
    carol_id = (await carol.get("/api/v1/accounts/verify_credentials"))["id"]
    circle = await alice.post("/api/v1/circles", json={"title": "Inner"})
    await alice.post(f"/api/v1/circles/{circle['id']}/accounts", json={"account_ids": [carol_id]})
    root = await alice.post(
        "/api/v1/statuses",
        json={"status": "inner news", "visibility": "limited", "circle_id": [circle["id"]]},
    )
    reply = await carol.post(
        "/api/v1/statuses",
        json={"status": "thanks", "visibility": "limited", "in_reply_to_id": root["id"]},
    )
    assert reply["visibility"] == "limited" and reply["audience"] == "circle"
    assert (await alice.get(f"/api/v1/statuses/{reply['id']}"))["id"] == reply["id"]
    await dave.call("GET", f"/api/v1/statuses/{reply['id']}", expect=404)
    # Without a thread to follow, limited still needs a circle
    await dave.call("POST", "/api/v1/statuses", json={"status": "x", "visibility": "limited"},
                    expect=422)  # fmt: skip
