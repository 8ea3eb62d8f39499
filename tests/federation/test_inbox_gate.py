"""The inbox gate against a misbehaving peer: every bad request gets its own 4xx with a
reason, and nothing of it is stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from federation.signatures.keys import generate_rsa_key
from node.db.models import Actor, Follow, Like, Post, ReceivedActivity
from node.posts import create_post
from tests.fake_peer import AS2, FakePeer
from tests.harness import RunningNode, wait_for


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    fake = await FakePeer().start()
    fake.add_actor("alice")
    try:
        yield fake
    finally:
        await fake.stop()


def follow_of(peer: FakePeer, node: RunningNode, n: int = 1) -> dict:
    return {
        "@context": AS2,
        "id": f"{peer.base}/activities/follow-{n}",
        "type": "Follow",
        "actor": peer.actor_uri(),
        "object": node.actor_uri("bob"),
    }


async def counts(node: RunningNode) -> tuple[int, int, int]:
    async with node.node.reads() as db:
        received = await db.scalar(select(func.count()).select_from(ReceivedActivity))
        follows = await db.scalar(select(func.count()).select_from(Follow))
        actors = await db.scalar(
            select(func.count()).select_from(Actor).where(Actor.local.is_(False))
        )
    return int(received or 0), int(follows or 0), int(actors or 0)


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_signed_follow_is_accepted(node_b: RunningNode, peer: FakePeer, scheme: str):
    """A Follow signed with draft-cavage or RFC 9421 is applied and answered with Accept."""
    activity = follow_of(peer, node_b)
    status, body = await peer.post(f"{node_b.base_url}/inbox", activity, scheme=scheme)
    assert status == 202, body
    assert await counts(node_b) == (1, 1, 1)
    await node_b.deliver_all()  # the node's own worker may be the one that sends it

    async def accepted() -> bool:
        return any(
            a["type"] == "Accept" and a["object"]["id"] == activity["id"] for a in peer.received
        )

    await wait_for(accepted)


async def test_unsigned_post_is_refused(node_b: RunningNode, peer: FakePeer):
    body = json.dumps(follow_of(peer, node_b)).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{node_b.base_url}/inbox",
            data=body,
            headers={"Content-Type": "application/activity+json"},
        ) as response,
    ):
        assert response.status == 401
        assert "signature" in (await response.json())["error"].lower()
    assert await counts(node_b) == (0, 0, 0)


async def test_wrong_key_is_refused(node_b: RunningNode, peer: FakePeer):
    status, body = await peer.post(
        f"{node_b.base_url}/inbox", follow_of(peer, node_b), private_key=generate_rsa_key()
    )
    assert status == 401 and "verify" in body["error"]
    assert await counts(node_b) == (0, 0, 0)


async def test_tampered_body_is_refused(node_b: RunningNode, peer: FakePeer):
    url = f"{node_b.base_url}/inbox"
    body = json.dumps(follow_of(peer, node_b)).encode()
    headers = peer.signed(url, body)
    tampered = body.replace(b"follow-1", b"follow-2")
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=tampered, headers=headers) as response,
    ):
        assert response.status == 401
        assert "digest" in (await response.json())["error"].lower()
    assert await counts(node_b) == (0, 0, 0)


async def test_date_two_hours_off_is_refused(node_b: RunningNode, peer: FakePeer):
    status, body = await peer.post(
        f"{node_b.base_url}/inbox",
        follow_of(peer, node_b),
        now=datetime.now(UTC) - timedelta(hours=2),
    )
    assert status == 401 and "date" in body["error"].lower()
    assert await counts(node_b) == (0, 0, 0)


async def test_unresolvable_key_is_refused(node_b: RunningNode, peer: FakePeer):
    status, body = await peer.post(
        f"{node_b.base_url}/inbox",
        follow_of(peer, node_b),
        key_id=f"{peer.base}/users/nobody#main-key",
    )
    assert status == 401 and "does not resolve" in body["error"]
    assert await counts(node_b) == (0, 0, 0)


async def test_signer_must_be_the_actor(node_b: RunningNode, peer: FakePeer):
    """mallory signs an activity claiming alice as its actor: refused."""
    peer.add_actor("mallory")
    status, body = await peer.post(
        f"{node_b.base_url}/inbox",
        follow_of(peer, node_b),
        key_id=f"{peer.actor_uri('mallory')}#main-key",
    )
    assert status == 401 and "not by the activity's actor" in body["error"]
    async with node_b.node.reads() as db:
        assert await db.scalar(select(func.count()).select_from(Follow)) == 0


async def test_replayed_activity_is_applied_once(node_b: RunningNode, peer: FakePeer):
    bob = await node_b.actor("bob")
    post = await create_post(node_b.node, bob, "like me")
    like = {
        "@context": AS2,
        "id": f"{peer.base}/likes/1",
        "type": "Like",
        "actor": peer.actor_uri(),
        "object": post.uri,
    }
    first = await peer.post(f"{node_b.base_url}/inbox", like)
    second = await peer.post(f"{node_b.base_url}/users/bob/inbox", like)
    assert first == (202, {"status": "applied"})
    assert second == (202, {"status": "duplicate"})
    async with node_b.node.reads() as db:
        assert await db.scalar(select(func.count()).select_from(Like)) == 1
        assert (await db.get(Post, post.id)).likes_count == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("payload", "status", "reason"),
    [
        (b"{not json", 400, "malformed JSON"),
        (b"[1, 2]", 400, "object"),
        (json.dumps({"id": "PEER/a/1", "type": "Follow", "object": "x"}).encode(), 422, "actor"),
        (
            json.dumps(
                {
                    "id": "PEER/a/2",
                    "type": "Create",
                    "actor": "PEER/users/alice",
                    "object": {
                        "id": "PEER/o/2",
                        "type": "Hologram",
                        "attributedTo": "PEER/users/alice",
                    },
                }
            ).encode(),
            422,
            "Hologram",
        ),
        (
            json.dumps({"id": "PEER/a/3", "type": "Dance", "actor": "PEER/users/alice"}).encode(),
            422,
            "Dance",
        ),
    ],
)
async def test_malformed_activities_get_clear_4xx(
    node_b: RunningNode, peer: FakePeer, payload: bytes, status: int, reason: str
):
    body = payload.replace(b"PEER", peer.base.encode())
    got, answer = await peer.post(f"{node_b.base_url}/inbox", body)
    assert got == status, answer
    assert reason.lower() in answer["error"].lower()
    assert (await counts(node_b))[:2] == (0, 0)


async def test_huge_body_is_refused_and_node_keeps_serving(node_b: RunningNode, peer: FakePeer):
    big = json.dumps({**follow_of(peer, node_b), "padding": "x" * 5_000_000}).encode()
    status, answer = await peer.post(f"{node_b.base_url}/inbox", big)
    assert status == 413, answer
    assert await counts(node_b) == (0, 0, 0)
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{node_b.base_url}/.well-known/nodeinfo") as response,
    ):
        assert response.status == 200
