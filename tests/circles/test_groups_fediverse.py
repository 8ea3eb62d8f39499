"""Groups as the rest of the fediverse meets them: a Mastodon-style server follows a
public group and gets its Announces; a Mastodon user posts to it by mentioning it; an
invitation reaches a person on another Cercle node, who then joins without waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from federation.vocab import PUBLIC
from node import groups
from node.db.models import Actor, Notification, Post
from node.follows import follow
from node.posts import create_post
from node.remote_actors import resolve_account
from node.visibility import viewer_can_see
from tests.fake_peer import FakePeer
from tests.harness import NodeFactory, RunningNode, wait_for

AS2 = "https://www.w3.org/ns/activitystreams"


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    fake = await FakePeer().start()
    fake.add_actor("masto")
    try:
        yield fake
    finally:
        await fake.stop()


def _of_type(peer: FakePeer, kind: str) -> list[dict[str, Any]]:
    return [a for a in peer.received if a.get("type") == kind]


async def _arrived(peer: FakePeer, kind: str) -> bool:
    return bool(_of_type(peer, kind))


async def _sees(node: RunningNode, username: str, uri: str) -> bool:
    async with node.node.reads() as db:
        post = await db.scalar(select(Post).where(Post.uri == uri))
        return post is not None and await viewer_can_see(db, await node.actor(username), post)


async def test_mastodon_style_server_follows_a_public_group(
    node_factory: NodeFactory, peer: FakePeer
):
    a = await node_factory.start("a", users=("alice",))
    b = await node_factory.start("b", users=("bob",))
    alice = await a.actor("alice")
    lobby = await groups.create_group(a.node, alice, "lobby", members_only=False)
    masto = peer.actor_uri("masto")
    key = {"key_id": f"{masto}#main-key"}

    # The Mastodon user follows the group: requested, then let in by the group's admin
    follow_doc = {
        "@context": AS2,
        "id": f"{masto}#follows/1",
        "type": "Follow",
        "actor": masto,
        "object": lobby.uri,
    }
    status, _ = await peer.post(lobby.inbox, follow_doc, **key)
    assert status == 202
    async with a.node.reads() as db:
        waiting = await groups.pending_requests(db, lobby.id)
    assert [w.uri for w in waiting] == [masto]
    await groups.decide_request(a.node, lobby.id, alice, waiting[0], accept=True)
    await a.deliver_all()  # the node's own worker may be the one delivering it: wait
    await wait_for(lambda: _arrived(peer, "Accept"))
    assert _of_type(peer, "Accept")[-1]["object"]["id"] == follow_doc["id"]

    # bob on B is invited: he is told, and his Follow is accepted at once
    bob_on_a = await resolve_account(a.node, b.handle("bob"))
    assert await groups.invite(a.node, lobby.id, alice, [bob_on_a]) == 1
    await a.deliver_all()
    bob = await b.actor("bob")
    await wait_for(lambda: _notified(b, bob, "group_invite"))
    lobby_on_b = await resolve_account(b.node, a.handle("lobby"))
    await follow(b.node, bob, lobby_on_b)
    await b.deliver_all()
    await a.deliver_all()

    async def bob_is_member() -> bool:
        async with a.node.reads() as db:
            return await groups.is_member(db, lobby.id, bob_on_a.id)

    await wait_for(bob_is_member)

    # A post in the public group reaches the Mastodon server as a boost it can read
    post = await create_post(a.node, alice, "welcome all", audience="group", group=lobby)
    await a.deliver_all()
    await wait_for(lambda: _arrived(peer, "Announce"))
    announce = _of_type(peer, "Announce")[-1]
    assert announce["actor"] == lobby.uri
    assert announce["object"] == post.uri
    assert PUBLIC in announce["cc"]
    await wait_for(lambda: _sees(b, "bob", post.uri))

    # The Mastodon user posts to the group by mentioning it: the group relays it to bob
    note_id = f"{masto}/statuses/7"
    create = {
        "@context": AS2,
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": masto,
        "to": [PUBLIC],
        "cc": [f"{masto}/followers", lobby.uri],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": masto,
            "to": [PUBLIC],
            "cc": [f"{masto}/followers", lobby.uri],
            "content": f'<p><a href="{lobby.uri}">@lobby</a> hello from Mastodon</p>',
            "tag": [{"type": "Mention", "href": lobby.uri, "name": "@lobby"}],
        },
    }
    peer.documents["/users/masto/statuses/7"] = create["object"]
    status, _ = await peer.post(lobby.inbox, create, **key)
    assert status == 202
    async with a.node.reads() as db:
        stored = await db.scalar(select(Post).where(Post.uri == note_id))
    assert stored is not None and stored.group_id == lobby.id
    await a.deliver_all()
    await wait_for(lambda: _sees(b, "bob", note_id))

    # A stranger who is not a member cannot post into it
    peer.add_actor("stranger")
    stranger = peer.actor_uri("stranger")
    intrusion = {
        **create,
        "id": f"{stranger}/statuses/1/activity",
        "actor": stranger,
        "object": {**create["object"], "id": f"{stranger}/statuses/1", "attributedTo": stranger},
    }
    status, body = await peer.post(lobby.inbox, intrusion, key_id=f"{stranger}#main-key")
    assert status == 202 and body["status"] == "ignored"
    async with a.node.reads() as db:
        assert await db.scalar(select(Post).where(Post.uri == f"{stranger}/statuses/1")) is None


async def _notified(node: RunningNode, owner: Actor, kind: str) -> bool:
    async with node.node.reads() as db:
        found = await db.scalar(
            select(Notification.id).where(
                Notification.owner_id == owner.id, Notification.type == kind
            )
        )
    return found is not None
