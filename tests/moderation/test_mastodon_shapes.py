"""Mastodon-shaped Flag and Move from a third-party peer (a fake server standing in for
Mastodon, with real keys and signatures) into a real node."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from node.follows import Page, follow
from node.moderation.reports import report_views
from node.posts import create_post
from node.remote_actors import get_or_fetch_actor
from tests.fake_peer import AS2, FakePeer
from tests.harness import NodeFactory, wait_for
from tests.moderation.helpers import follows


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    fake = await FakePeer().start()
    try:
        yield fake
    finally:
        await fake.stop()


async def test_mastodon_flag_becomes_a_report(node_factory: NodeFactory, peer: FakePeer):
    """Mastodon's Flag (instance actor, object = [account, status], content) about alice
    is stored for A's admins with the post attached; a Flag naming nobody of ours is
    accepted and ignored."""
    a = await node_factory.start("a", users=("alice",))
    alice = await a.actor("alice")
    post = await create_post(a.node, alice, "Reported from Mastodon")
    peer.add_actor("mastodon.example")  # Mastodon's instance actor is named after its domain
    flag = {
        "@context": AS2,
        "id": f"{peer.base}/0f2b6a4e-8d0c-4c1e-9a3e-5a6a1b2c3d4e",
        "type": "Flag",
        "actor": peer.actor_uri("mastodon.example"),
        "content": "Boo!!",
        "object": [alice.uri, post.uri],
    }
    key = f"{peer.actor_uri('mastodon.example')}#main-key"
    status, _ = await peer.post(f"{a.base_url}/inbox", flag, key_id=key)
    assert status == 202
    views = await report_views(a.node, Page(limit=10))
    assert len(views) == 1
    assert views[0].account.id == alice.id and views[0].report.comment == "Boo!!"
    assert [p.id for p in views[0].statuses] == [post.id]

    stray = {**flag, "id": f"{peer.base}/other", "object": [f"{peer.base}/users/x"]}
    status, _ = await peer.post(f"{a.base_url}/inbox", stray, key_id=key)
    assert status == 202
    assert len(await report_views(a.node, Page(limit=10))) == 1


async def test_mastodon_move_is_followed_only_when_the_target_agrees(
    node_factory: NodeFactory, peer: FakePeer
):
    """carol follows old@peer; a Move to a target without alsoKnownAs gets 422 and
    changes nothing; once the target lists the old account, the Move moves carol."""
    a = await node_factory.start("a", users=("carol",))
    old_uri = peer.add_actor("old")
    new_uri = peer.add_actor("new")
    carol = await a.actor("carol")
    old = await get_or_fetch_actor(a.node, old_uri)
    row = await follow(a.node, carol, old)
    # the fake peer does not answer with Accept: accept it the way its Accept would
    accept = {
        "@context": AS2,
        "id": f"{peer.base}/accept/1",
        "type": "Accept",
        "actor": old_uri,
        "object": {"id": row.activity_uri, "type": "Follow", "actor": carol.uri, "object": old_uri},
    }
    key = f"{old_uri}#main-key"
    assert (await peer.post(f"{a.base_url}/users/carol/inbox", accept, key_id=key))[0] == 202
    await wait_for(lambda: follows(a, "carol", old_uri))

    move = {
        "@context": AS2,
        "id": f"{old_uri}#moves/1",
        "type": "Move",
        "actor": old_uri,
        "object": old_uri,
        "target": new_uri,
    }
    status, body = await peer.post(f"{a.base_url}/inbox", move, key_id=key)
    assert status == 422 and "alsoKnownAs" in str(body)
    assert await follows(a, "carol", old_uri)

    peer.documents["/users/new"]["alsoKnownAs"] = [old_uri]
    status, _ = await peer.post(
        f"{a.base_url}/inbox", {**move, "id": f"{old_uri}#moves/2"}, key_id=key
    )
    assert status == 202
    assert not await follows(a, "carol", old_uri)
    # the Follow of the new account and the Undo of the old follow reach the peer
    await wait_for(lambda: _moved(peer, old_uri, new_uri))


async def _moved(peer: FakePeer, old_uri: str, new_uri: str) -> bool:
    followed = any(r.get("type") == "Follow" and r.get("object") == new_uri for r in peer.received)
    undone = any(
        r.get("type") == "Undo" and (r.get("object") or {}).get("object") == old_uri
        for r in peer.received
    )
    return followed and undone
