"""Two requests meeting the same new remote actor at once store it once, and neither
fails (on PostgreSQL both find no row, both insert, one loses on ``uq_actors_uri``)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from federation.vocab import parse_actor
from node.db.models import Actor
from node.remote_actors import store_actor_document
from tests.harness import NodeFactory

REMOTE = "http://127.0.0.1:9/users/newcomer"


def newcomer(name: str) -> dict[str, object]:
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": REMOTE,
        "type": "Person",
        "preferredUsername": "newcomer",
        "name": name,
        "inbox": f"{REMOTE}/inbox",
        "outbox": f"{REMOTE}/outbox",
        "followers": f"{REMOTE}/followers",
        "endpoints": {"sharedInbox": "http://127.0.0.1:9/inbox"},
    }


async def test_concurrent_first_stores_of_one_actor_make_one_row(
    node_factory: NodeFactory,
) -> None:
    node = (await node_factory.start("race", workers=False)).node
    docs = [parse_actor(newcomer(f"Newcomer {n}")) for n in range(8)]
    stored = await asyncio.gather(*(store_actor_document(node, doc) for doc in docs))
    assert len({actor.id for actor in stored}) == 1
    async with node.reads() as db:
        assert await db.scalar(select(func.count()).where(Actor.uri == REMOTE)) == 1
        name = await db.scalar(select(Actor.display_name).where(Actor.uri == REMOTE))
    assert name in {f"Newcomer {n}" for n in range(8)}
