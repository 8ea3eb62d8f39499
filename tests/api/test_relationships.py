"""Following, follow requests, blocks and mutes through the client API, on one node and
across two real nodes talking signed ActivityPub."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from node.db.models import Block, Follow, Notification
from tests.api.conftest import ApiClient, ClientFactory
from tests.harness import RunningNode, wait_for

RELATIONSHIP_KEYS = {
    "id", "following", "showing_reblogs", "notifying", "languages", "followed_by",
    "blocking", "blocked_by", "muting", "muting_notifications", "requested",
    "requested_by", "domain_blocking", "endorsed", "note",
}  # fmt: skip


async def relation(client: ApiClient, account_id: str | int) -> dict[str, Any]:
    rels = await client.get("/api/v1/accounts/relationships", params={"id[]": str(account_id)})
    assert len(rels) == 1
    return rels[0]


async def remote_id(client: ApiClient, handle: str) -> str:
    """The local id of a remote account, found as a client would: search with resolve."""
    found = await client.get("/api/v2/search", params={"q": handle, "resolve": "true"})
    assert [a["acct"] for a in found["accounts"]] == [handle], found
    return found["accounts"][0]["id"]


# --- one node ---------------------------------------------------------------------


async def test_follow_and_unfollow_a_local_account(node_a: RunningNode, api: ClientFactory):
    """Following an unlocked account is immediate and seen from both sides; the
    Relationship entity carries every field Mastodon documents."""
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    carol_id = (await node_a.actor("carol")).id
    alice_id = (await node_a.actor("alice")).id

    rel = await alice.post(f"/api/v1/accounts/{carol_id}/follow", data={"reblogs": "false"})
    assert set(rel) == RELATIONSHIP_KEYS
    assert rel["id"] == str(carol_id) and rel["following"] is True and rel["requested"] is False
    assert (await relation(carol, alice_id))["followed_by"] is True

    # Following again is harmless and answers the same.
    assert (await alice.post(f"/api/v1/accounts/{carol_id}/follow"))["following"] is True
    rel = await alice.post(f"/api/v1/accounts/{carol_id}/unfollow")
    assert rel["following"] is False
    assert (await relation(carol, alice_id))["followed_by"] is False


async def test_relationship_errors(node_a: RunningNode, api: ClientFactory):
    """401 without a token, 403 with a token lacking the scope, 404 for an unknown
    account, 422 for following oneself; unknown ids are left out of relationships."""
    carol_id = (await node_a.actor("carol")).id
    alice_id = (await node_a.actor("alice")).id
    anonymous = await api(node_a, None)
    _, body, _ = await anonymous.call("POST", f"/api/v1/accounts/{carol_id}/follow", expect=401)
    assert body["error"]
    reader = await api(node_a, "alice", scopes="read")
    _, body, _ = await reader.call("POST", f"/api/v1/accounts/{carol_id}/follow", expect=403)
    assert body == {"error": "This action is outside the authorized scopes"}
    follow_only = await api(node_a, "alice", scopes="follow")
    await follow_only.post(f"/api/v1/accounts/{carol_id}/block")

    alice = await api(node_a, "alice")
    await alice.call("POST", "/api/v1/accounts/987654321/follow", expect=404)
    await alice.call("POST", "/api/v1/accounts/987654321/block", expect=404)
    await alice.call("POST", f"/api/v1/accounts/{alice_id}/follow", expect=422)
    await alice.call("POST", f"/api/v1/accounts/{alice_id}/block", expect=422)
    rels = await alice.get(
        "/api/v1/accounts/relationships",
        params=[("id[]", str(carol_id)), ("id[]", "987654321"), ("id[]", "x")],
    )
    assert [r["id"] for r in rels] == [str(carol_id)]
    await anonymous.call("GET", "/api/v1/accounts/relationships", expect=401)


async def test_locked_account_authorizes_a_request(node_a: RunningNode, api: ClientFactory):
    """A locked account gets a request (and a follow_request notification), lists it,
    authorizes it by the requester's id; a second request is rejected."""
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    alice_id = (await node_a.actor("alice")).id
    carol_id = (await node_a.actor("carol")).id
    await alice.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})

    rel = await carol.post(f"/api/v1/accounts/{alice_id}/follow")
    assert rel["requested"] is True and rel["following"] is False
    assert (await relation(alice, carol_id))["requested_by"] is True
    requests = await alice.get("/api/v1/follow_requests")
    assert [a["id"] for a in requests] == [str(carol_id)]
    me = await alice.get("/api/v1/accounts/verify_credentials")
    assert me["source"]["follow_requests_count"] == 1
    async with node_a.node.reads() as db:
        kinds = list(await db.scalars(select(Notification.type)))
    assert kinds == ["follow_request"]

    rel = await alice.post(f"/api/v1/follow_requests/{carol_id}/authorize")
    assert rel["followed_by"] is True and rel["requested_by"] is False
    assert (await relation(carol, alice_id))["following"] is True
    assert await alice.get("/api/v1/follow_requests") == []
    await alice.call("POST", f"/api/v1/follow_requests/{carol_id}/authorize", expect=404)

    await carol.post(f"/api/v1/accounts/{alice_id}/unfollow")
    await carol.post(f"/api/v1/accounts/{alice_id}/follow")
    rel = await alice.post(f"/api/v1/follow_requests/{carol_id}/reject")
    assert rel["followed_by"] is False and rel["requested_by"] is False
    assert (await relation(carol, alice_id))["requested"] is False
    reader = await api(node_a, "alice", scopes="read")
    await reader.call("POST", f"/api/v1/follow_requests/{carol_id}/authorize", expect=403)


async def test_block_ends_follows_and_refuses_new_ones(node_a: RunningNode, api: ClientFactory):
    """A block ends follows both ways, drops the account from the blocker's lists,
    and neither side may follow the other until it is lifted."""
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    alice_id = (await node_a.actor("alice")).id
    carol_id = (await node_a.actor("carol")).id
    await alice.post(f"/api/v1/accounts/{carol_id}/follow")
    await carol.post(f"/api/v1/accounts/{alice_id}/follow")
    team = await alice.post("/api/v1/lists", data={"title": "Team"})
    await alice.post(f"/api/v1/lists/{team['id']}/accounts", data={"account_ids[]": carol_id})

    rel = await alice.post(f"/api/v1/accounts/{carol_id}/block")
    assert rel["blocking"] is True
    assert rel["following"] is False and rel["followed_by"] is False
    assert (await relation(carol, alice_id))["blocked_by"] is True
    assert await alice.get(f"/api/v1/lists/{team['id']}/accounts") == []
    blocks = await alice.get("/api/v1/blocks")
    assert [a["id"] for a in blocks] == [str(carol_id)]

    _, body, _ = await carol.call("POST", f"/api/v1/accounts/{alice_id}/follow", expect=403)
    assert body["error"] == "This action is not allowed"
    await alice.call("POST", f"/api/v1/accounts/{carol_id}/follow", expect=403)
    # A blocked reader sees none of the blocker's posts, followers or following.
    assert await carol.get(f"/api/v1/accounts/{alice_id}/followers") == []

    rel = await alice.post(f"/api/v1/accounts/{carol_id}/unblock")
    assert rel["blocking"] is False
    assert await alice.get("/api/v1/blocks") == []
    assert (await carol.post(f"/api/v1/accounts/{alice_id}/follow"))["following"] is True
    await (await api(node_a, "alice", scopes="read")).call("GET", "/api/v1/blocks")
    await (await api(node_a, "alice", scopes="write")).call("GET", "/api/v1/blocks", expect=403)


async def test_mute_with_and_without_notifications(node_a: RunningNode, api: ClientFactory):
    """A mute hides notifications unless asked not to; muting again updates it; a timed
    mute shows its end in the mutes list; unmute lifts it."""
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    carol_id = (await node_a.actor("carol")).id
    alice_id = (await node_a.actor("alice")).id

    rel = await alice.post(f"/api/v1/accounts/{carol_id}/mute")
    assert rel["muting"] is True and rel["muting_notifications"] is True
    await carol.post(f"/api/v1/accounts/{alice_id}/follow")
    async with node_a.node.reads() as db:
        assert list(await db.scalars(select(Notification.id))) == []

    rel = await alice.post(
        f"/api/v1/accounts/{carol_id}/mute", json={"notifications": False, "duration": 3600}
    )
    assert rel["muting"] is True and rel["muting_notifications"] is False
    mutes = await alice.get("/api/v1/mutes")
    assert [a["id"] for a in mutes] == [str(carol_id)]
    assert mutes[0]["mute_expires_at"].endswith("Z")

    await alice.call(
        "POST", f"/api/v1/accounts/{carol_id}/mute", data={"duration": "-5"}, expect=422
    )
    rel = await alice.post(f"/api/v1/accounts/{carol_id}/unmute")
    assert rel["muting"] is False
    assert await alice.get("/api/v1/mutes") == []


async def test_remove_from_followers(node_a: RunningNode, api: ClientFactory):
    """An account can drop one of its followers."""
    alice = await api(node_a, "alice")
    carol = await api(node_a, "carol")
    alice_id = (await node_a.actor("alice")).id
    carol_id = (await node_a.actor("carol")).id
    await carol.post(f"/api/v1/accounts/{alice_id}/follow")
    rel = await alice.post(f"/api/v1/accounts/{carol_id}/remove_from_followers")
    assert rel["followed_by"] is False
    assert (await relation(carol, alice_id))["following"] is False
    # Not a follower any more: still a 200, as Mastodon answers.
    await alice.post(f"/api/v1/accounts/{carol_id}/remove_from_followers")


# --- two nodes --------------------------------------------------------------------


async def test_follow_a_remote_account_found_by_search(
    node_a: RunningNode, node_b: RunningNode, api: ClientFactory
):
    """alice@A resolves bob@B through search, follows him by id; the relationship is
    ``requested`` until B's Accept arrives, then ``following``."""
    alice = await api(node_a, "alice")
    bob_id = await remote_id(alice, node_b.handle("bob"))

    rel = await alice.post(f"/api/v1/accounts/{bob_id}/follow")
    assert rel["following"] or rel["requested"]

    async def following() -> bool:
        return (await relation(alice, bob_id))["following"]

    await wait_for(following)
    following_list = await alice.get(
        f"/api/v1/accounts/{(await node_a.actor('alice')).id}/following"
    )
    assert [a["acct"] for a in following_list] == [node_b.handle("bob")]

    # Unfollowing reaches B too.
    await alice.post(f"/api/v1/accounts/{bob_id}/unfollow")
    bob = await node_b.actor("bob")

    async def gone_on_b() -> bool:
        async with node_b.node.reads() as db:
            return await db.scalar(select(Follow.id).where(Follow.followee_id == bob.id)) is None

    await wait_for(gone_on_b)


async def test_remote_request_authorized_through_the_api(
    node_a: RunningNode, node_b: RunningNode, api: ClientFactory
):
    """bob@B is locked: alice@A's request waits on B, bob authorizes it with the client
    API, and alice's relationship on A turns to ``following`` once the Accept lands."""
    bob = await api(node_b, "bob")
    await bob.patch("/api/v1/accounts/update_credentials", data={"locked": "true"})
    alice = await api(node_a, "alice")
    bob_id = await remote_id(alice, node_b.handle("bob"))

    rel = await alice.post(f"/api/v1/accounts/{bob_id}/follow")
    assert rel["requested"] is True and rel["following"] is False

    async def request_on_b() -> list[dict[str, Any]]:
        return await bob.get("/api/v1/follow_requests")

    requests = await wait_for(request_on_b)
    assert [a["acct"] for a in requests] == [node_a.handle("alice")]
    await bob.post(f"/api/v1/follow_requests/{requests[0]['id']}/authorize")

    async def following() -> bool:
        return (await relation(alice, bob_id))["following"]

    await wait_for(following)
    assert (await relation(alice, bob_id))["requested"] is False


async def test_block_federates(node_a: RunningNode, node_b: RunningNode, api: ClientFactory):
    """bob@B follows alice@A; alice blocks bob: B drops bob's Follow and records the
    Block; alice's unblock removes it on B again."""
    # Given bob on B follows alice on A
    bob = await api(node_b, "bob")
    alice_on_b = await remote_id(bob, node_a.handle("alice"))
    await bob.post(f"/api/v1/accounts/{alice_on_b}/follow")

    async def bob_follows() -> bool:
        return (await relation(bob, alice_on_b))["following"]

    await wait_for(bob_follows)

    # When alice blocks bob
    alice = await api(node_a, "alice")
    bob_on_a = await node_a.actor_by_uri(node_b.actor_uri("bob"))
    assert bob_on_a is not None
    rel = await alice.post(f"/api/v1/accounts/{bob_on_a.id}/block")
    assert rel["blocking"] is True and rel["followed_by"] is False

    # Then B removes bob's follow and knows bob is blocked by alice
    async def blocked_on_b() -> bool:
        rel = await relation(bob, alice_on_b)
        return not rel["following"] and rel["blocked_by"]

    await wait_for(blocked_on_b)
    async with node_b.node.reads() as db:
        assert await db.scalar(select(Block.id)) is not None

    # When alice unblocks, B forgets the block
    await alice.post(f"/api/v1/accounts/{bob_on_a.id}/unblock")

    async def unblocked_on_b() -> bool:
        return not (await relation(bob, alice_on_b))["blocked_by"]

    await wait_for(unblocked_on_b)
