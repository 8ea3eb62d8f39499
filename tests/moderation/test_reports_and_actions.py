"""Reports and admin actions between real nodes on loopback: a report forwarded as a
``Flag`` reaches the other node's admins; silence, suspend and post removal take effect
over the client API and over federation."""

from __future__ import annotations

from sqlalchemy import select

from node.db.models import Delivery, Post
from node.follows import follow
from node.posts import create_post
from node.remote_actors import resolve_account
from tests.api.conftest import ClientFactory
from tests.harness import NodeFactory, RunningNode, wait_for
from tests.moderation.helpers import ADMIN_SCOPES, delivery_outcome, follows, make_follow


async def _remote_post_id(node: RunningNode, uri: str) -> int | None:
    async with node.node.reads() as db:
        return await db.scalar(select(Post.id).where(Post.uri == uri))


async def test_forwarded_report_reaches_the_reported_accounts_admins(
    node_factory: NodeFactory, api: ClientFactory
):
    """bob@B reports alice@A and one of her posts with ``forward``: B keeps the report,
    A's admin sees it (sent by B's application actor, comment and post included) and
    resolves it; a plain user of A cannot read the reports."""
    a = await node_factory.start("a", users=("alice", "carol"))
    b = await node_factory.start("b", users=("bob",))
    # Given bob follows alice and has her post
    await make_follow(b, "bob", a, "alice")
    alice = await a.actor("alice")
    post = await create_post(a.node, alice, "Buy cheap watches")
    await wait_for(lambda: _remote_post_id(b, post.uri))
    alice_on_b = await b.actor_by_uri(alice.uri)
    assert alice_on_b is not None
    post_on_b = await _remote_post_id(b, post.uri)

    # When bob reports her with forward
    bob = await api(b, "bob")
    report = await bob.post(
        "/api/v1/reports",
        json={
            "account_id": str(alice_on_b.id),
            "status_ids": [str(post_on_b)],
            "comment": "spam",
            "forward": True,
            "category": "spam",
        },
    )
    assert report["forwarded"] is True and report["target_account"]["id"] == str(alice_on_b.id)
    assert report["status_ids"] == [str(post_on_b)]

    # Then A's admin sees the Flag as a report about alice and her post
    admin_a = await api(a, "admin", ADMIN_SCOPES)

    async def received() -> list:
        return await admin_a.get("/api/v1/admin/reports")

    found = (await wait_for(received))[0]
    assert found["target_account"]["id"] == str(alice.id)
    assert found["account"]["account"]["uri"] == f"{b.base_url}/actor"
    assert found["comment"] == "spam"
    assert [s["uri"] for s in found["statuses"]] == [post.uri]
    # and B's admin has bob's report too
    admin_b = await api(b, "admin", ADMIN_SCOPES)
    local = await admin_b.get("/api/v1/admin/reports")
    assert local[0]["account"]["username"] == "bob" and local[0]["forwarded"] is True

    # When A's admin resolves it, it leaves the unresolved list
    resolved = await admin_a.post(f"/api/v1/admin/reports/{found['id']}/resolve")
    assert resolved["action_taken"] is True
    assert await admin_a.get("/api/v1/admin/reports") == []
    assert len(await admin_a.get("/api/v1/admin/reports", params={"resolved": "true"})) == 1
    reopened = await admin_a.post(f"/api/v1/admin/reports/{found['id']}/reopen")
    assert reopened["action_taken"] is False

    # And a user who is neither admin nor moderator is refused
    carol = await api(a, "carol", ADMIN_SCOPES)
    await carol.call("GET", "/api/v1/admin/reports", expect=403)


async def test_suspended_remote_account_is_refused_and_silenced_posts_leave_public(
    node_factory: NodeFactory, api: ClientFactory
):
    """A's admin silences bob@B: his posts leave A's public timeline but reach alice, who
    follows him. Then A's admin suspends him: his follow ends, his posts are gone, and
    his next activity gets 403 at A's inbox."""
    a = await node_factory.start("a", users=("alice",))
    b = await node_factory.start("b", users=("bob",))
    await make_follow(a, "alice", b, "bob")
    bob_on_b = await b.actor("bob")
    bob_on_a = await a.actor_by_uri(bob_on_b.uri)
    assert bob_on_a is not None
    admin = await api(a, "admin", ADMIN_SCOPES)
    alice = await api(a, "alice")

    # When A's admin silences bob
    await admin.post(f"/api/v1/admin/accounts/{bob_on_a.id}/action", json={"type": "silence"})
    first = await create_post(b.node, bob_on_b, "Silenced but followed")
    await wait_for(lambda: _remote_post_id(a, first.uri))

    # Then the post is in alice's home, not in the public timeline
    home = await alice.get("/api/v1/timelines/home")
    assert first.uri in [s["uri"] for s in home]
    public = await alice.get("/api/v1/timelines/public")
    assert first.uri not in [s["uri"] for s in public]
    account = await alice.get(f"/api/v1/accounts/{bob_on_a.id}")
    assert account["limited"] is True

    # And once unsilenced, it is public again
    unsilenced = await admin.post(f"/api/v1/admin/accounts/{bob_on_a.id}/unsilence")
    assert unsilenced["silenced"] is False
    public = await alice.get("/api/v1/timelines/public")
    assert first.uri in [s["uri"] for s in public]

    # When A's admin suspends bob
    await admin.post(f"/api/v1/admin/accounts/{bob_on_a.id}/action", json={"type": "suspend"})

    # Then alice no longer follows him and his post is gone
    assert not await follows(a, "alice", bob_on_b.uri)
    await alice.call("GET", f"/api/v1/statuses/{await _remote_post_id(a, first.uri)}", expect=404)
    # and what he sends next is refused with 403
    alice_on_b = await resolve_account(b.node, a.handle("alice"))
    row = await follow(b.node, bob_on_b, alice_on_b)
    outcome = await wait_for(lambda: delivery_outcome(b, row.activity_uri))
    assert outcome == ("dead", 403)


async def test_suspending_a_local_account_deletes_it_on_followers_servers(
    node_factory: NodeFactory, api: ClientFactory
):
    """A's admin suspends alice: her token stops working and B, where bob follows her,
    receives the Delete of her actor (bob's follow ends)."""
    a = await node_factory.start("a", users=("alice",))
    b = await node_factory.start("b", users=("bob",))
    await make_follow(b, "bob", a, "alice")
    alice_actor = await a.actor("alice")
    alice = await api(a, "alice")
    await alice.get("/api/v1/accounts/verify_credentials")
    admin = await api(a, "admin", ADMIN_SCOPES)

    # Admins cannot suspend themselves or another admin
    admin_actor = await a.actor("admin")
    await admin.call(
        "POST",
        f"/api/v1/admin/accounts/{admin_actor.id}/action",
        json={"type": "suspend"},
        expect=403,
    )
    await admin.call(
        "POST", f"/api/v1/admin/accounts/{alice_actor.id}/action", json={"type": "ban"}, expect=422
    )

    await admin.post(f"/api/v1/admin/accounts/{alice_actor.id}/action", json={"type": "suspend"})

    await alice.call("GET", "/api/v1/accounts/verify_credentials", expect=401)
    await wait_for(lambda: _not(follows(b, "bob", alice_actor.uri)))
    async with a.node.reads() as db:
        sent = await db.scalar(
            select(Delivery.state).where(Delivery.activity_uri == f"{alice_actor.uri}#delete")
        )
    assert sent == "done"

    # Unsuspending lets her sign in again (a new token works)
    back = await admin.post(f"/api/v1/admin/accounts/{alice_actor.id}/unsuspend")
    assert back["suspended"] is False and back["disabled"] is False
    again = await api(a, "alice")
    await again.get("/api/v1/accounts/verify_credentials")


async def _not(awaitable) -> bool:  # type: ignore[no-untyped-def]
    return not await awaitable
