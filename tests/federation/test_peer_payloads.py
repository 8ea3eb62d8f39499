"""Activities in the shapes Mastodon, Misskey, GoToSocial, Pleroma, Lemmy and Fedify send
(tests/fixtures/payloads/), signed by a loopback stand-in for that server, are all
accepted and applied by a real node."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from federation.integrity import create_proof
from node.db.models import Actor, Follow, Like, Post
from node.db.models.follows import ACCEPTED
from tests.fake_peer import FakePeer
from tests.harness import NodeFactory, RunningNode

PAYLOADS = Path(__file__).parent.parent / "fixtures" / "payloads"
INDEX: list[dict[str, Any]] = json.loads((PAYLOADS / "index.json").read_text())
SOFTWARE = sorted({entry["software"] for entry in INDEX})
BOB_POST_ID = 100000000000000001
#: The order a real peer would send them in, so each one finds what it refers to.
ORDER = ["follow", "create", "like", "undo_like", "announce", "update", "delete", "undo_follow"]


def _rank(entry: dict[str, Any]) -> int:
    name = Path(entry["file"]).stem
    for rank, prefix in enumerate(ORDER):
        if name.startswith(prefix):
            return rank
    return len(ORDER)


class Rewriter:
    def __init__(self, peer: FakePeer, node: RunningNode) -> None:
        self.pairs = [
            ("https://remote.example", peer.base),
            ("https://cercle.example", node.base_url),
            ("__PUBLIC_KEY_PEM__", json.dumps(peer.public_pem)[1:-1]),
            ("__PUBLIC_KEY_MULTIBASE__", peer.public_multibase),
        ]

    def load(self, name: str) -> Any:
        text = (PAYLOADS / name).read_text()
        for old, new in self.pairs:
            text = text.replace(old, new)
        return json.loads(text)


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    fake = await FakePeer().start()
    try:
        yield fake
    finally:
        await fake.stop()


async def _seed_bob_post(node: RunningNode) -> None:
    bob = await node.actor("bob")
    async with node.node.sessions() as db, db.begin():
        db.add(
            Post(
                id=BOB_POST_ID,
                uri=f"{bob.uri}/statuses/{BOB_POST_ID}",
                url=f"{node.base_url}/@bob/{BOB_POST_ID}",
                actor_id=bob.id,
                local=True,
                content="<p>Hello fediverse</p>",
                audience="public",
                to=["https://www.w3.org/ns/activitystreams#Public"],
                cc=[bob.followers_url],
            )
        )


async def _bob_follows(node: RunningNode, group_uri: str) -> None:
    """bob follows a remote actor (accepted), so what it sends to followers concerns him."""
    from node.follows import follow
    from node.remote_actors import get_or_fetch_actor

    group = await get_or_fetch_actor(node.node, group_uri)
    await follow(node.node, await node.actor("bob"), group)
    async with node.node.sessions() as db, db.begin():
        row = await db.scalar(select(Follow).where(Follow.followee_id == group.id))
        assert row is not None
        row.state = ACCEPTED


@pytest.mark.parametrize("software", SOFTWARE)
async def test_peer_payloads_are_applied(
    software: str, node_factory: NodeFactory, peer: FakePeer
) -> None:
    node = await node_factory.start("b", users=("bob",), workers=False)
    rewrite = Rewriter(peer, node)
    entries = [e for e in INDEX if e["software"] == software]
    for entry in entries:
        if not entry["send"]:
            doc = rewrite.load(entry["file"])
            path = (entry.get("serve_at") or doc.get("id", "")).replace(
                "https://remote.example", ""
            )
            path = path.replace(peer.base, "")
            peer.documents[path] = doc
            key_id = doc.get("publicKey", {}).get("id", "")
            if key_id and "#" not in key_id:
                # GoToSocial serves each key at its own URL, as a stub of the actor.
                peer.documents[key_id.replace(peer.base, "")] = {
                    "@context": doc["@context"],
                    "id": doc["id"],
                    "type": doc["type"],
                    "publicKey": doc["publicKey"],
                }
    await _seed_bob_post(node)
    for entry in entries:
        if entry["send"] and entry["type"] == "Announce" and software == "lemmy":
            await _bob_follows(node, rewrite.load(entry["file"])["actor"])
        if entry["file"].endswith("create_note_followers_1.json"):
            await _bob_follows(node, rewrite.load(entry["file"])["actor"])

    sent = sorted((e for e in entries if e["send"]), key=_rank)
    for entry in sent:
        activity = rewrite.load(entry["file"])
        if "__PROOF_VALUE__" in json.dumps(activity):
            obj = {k: v for k, v in activity["object"].items() if k != "proof"}
            activity["object"] = create_proof(obj, peer.ed_key, f"{activity['actor']}#ed25519-key")
        actor = activity["actor"]
        key_id = peer.documents[actor.replace(peer.base, "")]["publicKey"]["id"]
        status, answer = await peer.post(f"{node.base_url}/inbox", activity, key_id=key_id)
        # Then every activity is accepted and has an effect here
        assert status == 202, (entry["file"], answer)
        assert answer == {"status": "applied"}, (entry["file"], answer)

    # And the end state is what the sequence implies
    async with node.node.reads() as db:
        bob_post = await db.get(Post, BOB_POST_ID)
        assert bob_post is not None and bob_post.likes_count == 0
        assert bob_post.reblogs_count == (0 if software == "lemmy" else 1)
        assert await db.scalar(select(Like.id)) is None
        remote = await db.scalar(
            select(Actor).where(Actor.local.is_(False), Actor.type == "Person")
        )
        assert remote is not None
        assert await db.scalar(select(Follow.id).where(Follow.follower_id == remote.id)) is None
        created = [e for e in sent if e["type"] == "Create"]
        for entry in created:
            uri = rewrite.load(entry["file"])["object"]["id"]
            post = await db.scalar(select(Post).where(Post.uri == uri))
            assert post is not None, entry["file"]
