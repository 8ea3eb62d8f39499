"""Groups through the client API: create, join (requested until approved), requests,
members, posting with ``group_id``, invitations, roles, removal, and bad input."""

from __future__ import annotations

from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory


async def test_group_lifecycle_through_the_api(node_factory: NodeFactory, api: ClientFactory):
    node = await node_factory.start("a", users=("alice", "carol", "dave", "erin"))
    alice, carol, dave, erin = [await api(node, n) for n in ("alice", "carol", "dave", "erin")]
    ids = {
        n: (await c.get("/api/v1/accounts/verify_credentials"))["id"]
        for n, c in (("carol", carol), ("dave", dave), ("erin", erin))
    }

    group = await alice.post(
        "/api/v1/groups",
        json={"name": "crew", "display_name": "The crew", "members_only": True},
    )
    assert group["group"] is True and group["acct"] == "crew" and group["locked"] is True
    gid = group["id"]
    assert [g["id"] for g in await alice.get("/api/v1/groups")] == [gid]

    # carol asks to join: requested until an admin lets her in
    rel = await carol.post(f"/api/v1/accounts/{gid}/follow")
    assert rel["requested"] is True and rel["following"] is False
    await carol.call("GET", f"/api/v1/groups/{gid}/requests", expect=403)
    requests = await alice.get(f"/api/v1/groups/{gid}/requests")
    assert [r["id"] for r in requests] == [ids["carol"]]
    await alice.post(f"/api/v1/groups/{gid}/requests/{ids['carol']}/authorize")
    rel = (await carol.get(f"/api/v1/accounts/relationships?id[]={gid}"))[0]
    assert rel["following"] is True

    # dave asks and is refused: nothing changes for him
    await dave.post(f"/api/v1/accounts/{gid}/follow")
    await alice.post(f"/api/v1/groups/{gid}/requests/{ids['dave']}/reject")
    rel = (await dave.get(f"/api/v1/accounts/relationships?id[]={gid}"))[0]
    assert rel["following"] is False and rel["requested"] is False

    # members-only: the member list is for members
    members = await carol.get(f"/api/v1/groups/{gid}/members")
    assert sorted(m["username"] for m in members) == ["alice", "carol"]
    await dave.call("GET", f"/api/v1/groups/{gid}/members", expect=404)

    # posting to the group; members see it, others do not
    status = await carol.post(
        "/api/v1/statuses",
        json={"status": "hi crew", "visibility": "limited", "group_id": gid},
    )
    assert status["visibility"] == "limited" and status["audience"] == "group"
    assert (await alice.get(f"/api/v1/statuses/{status['id']}"))["id"] == status["id"]
    assert status["id"] in [s["id"] for s in await alice.get("/api/v1/timelines/home")]
    await dave.call("GET", f"/api/v1/statuses/{status['id']}", expect=404)
    # ...or by mentioning the group from any client
    mention = await carol.post("/api/v1/statuses", json={"status": "@crew ping"})
    assert mention["audience"] == "group"
    await dave.call("GET", f"/api/v1/statuses/{mention['id']}", expect=404)

    # a non-member cannot post to it, and a non-group is not a group
    _, body, _ = await dave.call(
        "POST", "/api/v1/statuses", json={"status": "x", "group_id": gid}, expect=403
    )
    assert "member" in body["error"]
    await dave.call(
        "POST", "/api/v1/statuses", json={"status": "x", "group_id": ids["carol"]}, expect=422
    )

    # invitations: erin is invited and gets in without waiting
    await carol.call(
        "POST",
        f"/api/v1/groups/{gid}/invitations",
        json={"account_ids": [ids["erin"]]},
        expect=403,
    )
    await alice.post(f"/api/v1/groups/{gid}/invitations", json={"account_ids": [ids["erin"]]})
    notes = await erin.get("/api/v1/notifications")
    assert any(n["type"] == "group_invite" and n["account"]["id"] == gid for n in notes)
    rel = await erin.post(f"/api/v1/accounts/{gid}/follow")
    assert rel["following"] is True

    # roles: carol becomes a moderator and removes a post and a member
    await carol.call("PUT", f"/api/v1/groups/{gid}/roles/{ids['erin']}", expect=403)
    await alice.put(f"/api/v1/groups/{gid}/roles/{ids['carol']}", json={"role": "moderator"})
    await carol.delete(f"/api/v1/groups/{gid}/statuses/{status['id']}")
    await alice.call("GET", f"/api/v1/statuses/{status['id']}", expect=404)
    await carol.delete(f"/api/v1/groups/{gid}/members/{ids['erin']}")
    rel = (await erin.get(f"/api/v1/accounts/relationships?id[]={gid}"))[0]
    assert rel["following"] is False
    # an admin cannot be removed by a moderator; unknown groups are 404
    alice_id = (await alice.get("/api/v1/accounts/verify_credentials"))["id"]
    await carol.call("DELETE", f"/api/v1/groups/{gid}/members/{alice_id}", expect=403)
    await alice.call("GET", "/api/v1/groups/999/requests", expect=404)


async def test_group_bad_input(node_factory: NodeFactory, api: ClientFactory):
    node = await node_factory.start("a", users=("alice",))
    alice = await api(node, "alice")
    await alice.call("POST", "/api/v1/groups", json={"name": ""}, expect=422)
    await alice.call("POST", "/api/v1/groups", json={"name": "no spaces!"}, expect=422)
    await alice.post("/api/v1/groups", json={"name": "crew"})
    _, body, _ = await alice.call("POST", "/api/v1/groups", json={"name": "crew"}, expect=409)
    assert "taken" in body["error"]
    _, body, _ = await alice.call("POST", "/api/v1/groups", json={"name": "alice"}, expect=409)
    assert [g["acct"] for g in await alice.get("/api/v1/groups")] == ["crew"]
