"""Reads on one hand-off (``node.db.one_hop``) give what the ORM gives.

Timeline pages, visibility and rendering read posts and accounts as plain records from
statements run in one function on the database driver's thread (SQLite), or through the
session (PostgreSQL). These tests load the same rows both ways on a real node's database
and compare them value by value and type by type — JSON columns, UTC datetimes, booleans,
an account's few actor-document members extracted by the database — and check that the
statements stay visible to engine listeners (the query-count tests rely on it).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select

from node.db.models import Actor, Post
from node.db.one_hop import Reads, one_hop
from node.db.rows import (
    ACTORS_WITH_STATS,
    POST_COLUMNS,
    POSTS_BY_ID,
    RAW_MEMBERS,
    actor_with_stats,
)
from node.follows import Page
from node.timelines import read_home_page
from tests.api.conftest import ClientFactory
from tests.harness import RunningNode

PEER_DOCUMENT: dict[str, Any] = {
    "type": "Person",
    "id": "https://peer.example/users/zoe",
    "image": {"type": "Image", "url": "https://peer.example/header.png"},
    "attachment": [{"type": "PropertyValue", "name": "Web", "value": "zoe.example"}],
    "followersCount": 1234,
    "following_count": 56,
    "publicKey": {"id": "https://peer.example/users/zoe#main-key", "publicKeyPem": "x" * 400},
}


def _same(record: Any, model: Any, keys: list[str]) -> None:
    for key in keys:
        got, want = getattr(record, key), getattr(model, key)
        assert got == want, (key, got, want)
        assert type(got) is type(want), (key, type(got), type(want))


async def test_post_and_account_records_equal_the_orm_objects(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """Posts with hashtags, a content warning, an edit and a deletion, and accounts local
    and remote (with a peer's document), read as records, equal the ORM's objects."""
    # Given posts of every shape the columns can take
    alice = await api(node_a, "alice")
    plain = await alice.post("/api/v1/statuses", json={"status": "hello #World"})
    warned = await alice.post(
        "/api/v1/statuses",
        json={"status": "careful", "spoiler_text": "cw", "sensitive": True},
    )
    await alice.put(f"/api/v1/statuses/{warned['id']}", json={"status": "careful, edited"})
    gone = await alice.post("/api/v1/statuses", json={"status": "soon gone"})
    await alice.delete(f"/api/v1/statuses/{gone['id']}")
    ids = [int(s["id"]) for s in (plain, warned, gone)]
    # and a remote account as the node keeps it, and one without any document
    node = node_a.node
    async with node.sessions() as db, db.begin():
        zoe = Actor(
            uri=PEER_DOCUMENT["id"],
            local=False,
            username="zoe",
            domain="peer.example",
            raw=PEER_DOCUMENT,
            fetched_at=datetime(2026, 11, 27, 9, 30, 1, 250_000, tzinfo=UTC),
        )
        bare = Actor(
            uri="https://peer.example/users/bare",
            local=False,
            username="bare",
            domain="peer.example",
        )
        db.add_all([zoe, bare])
    alice_actor = await node_a.actor("alice")
    actor_ids = [alice_actor.id, zoe.id, bare.id]

    # When they are read both ways
    async with node.reads() as db:
        post_rows = await one_hop(db, lambda reads: reads.all(POSTS_BY_ID, {"ids": ids}))
        actor_rows = await one_hop(
            db, lambda reads: reads.all(ACTORS_WITH_STATS, {"ids": actor_ids})
        )
        posts = {p.id: p for p in await db.scalars(select(Post).where(Post.id.in_(ids)))}
        actors = {a.id: a for a in await db.scalars(select(Actor).where(Actor.id.in_(actor_ids)))}

    # Then every column agrees, value and type
    keys = [c.key for c in POST_COLUMNS]
    assert len(post_rows) == 3
    for row in post_rows:
        record = dict(zip(keys, row, strict=True))
        post = posts[record["id"]]
        for key, value in record.items():
            assert value == getattr(post, key), key
            assert type(value) is type(getattr(post, key)), key
    assert posts[ids[2]].deleted_at is not None and posts[ids[1]].edited_at is not None
    for row in actor_rows:
        record, stats = actor_with_stats(row)
        actor = actors[record.id]
        _same(record, actor, [k for k in record._fields if k != "raw"])
        if actor.raw is None:
            assert not record.raw  # None, or {} for a document stored as JSON null
        else:
            wanted = {k: actor.raw[k] for k in RAW_MEMBERS if actor.raw.get(k) is not None}
            assert record.raw == wanted
        assert len(stats) == 4
    assert next(actor_with_stats(r)[0].raw for r in actor_rows if r[0] == zoe.id) == {
        "image": PEER_DOCUMENT["image"],
        "attachment": PEER_DOCUMENT["attachment"],
        "followersCount": 1234,
        "following_count": 56,
    }


async def test_a_page_is_read_in_one_hand_off_and_listeners_see_its_statements(
    node_a: RunningNode, api: ClientFactory
) -> None:
    """On SQLite the whole function runs on the driver's thread (one hand-off); its
    statements still reach the engine's listeners; an empty id list matches nothing;
    ``read_home_page`` pages as ``home_page`` does (max_id, min_id)."""
    alice = await api(node_a, "alice")
    posted = [await alice.post("/api/v1/statuses", json={"status": f"n{i}"}) for i in range(5)]
    me = await node_a.actor("alice")
    node = node_a.node
    seen: list[str] = []

    def listener(*args: Any) -> None:
        seen.append(args[2])

    sync_engine = node.read_engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", listener)
    loop_thread = threading.get_ident()
    try:
        async with node.read_engine.connect() as connection:

            def read(reads: Reads) -> tuple[Any, ...]:
                newest = read_home_page(reads, me.id, Page(limit=2))
                older = read_home_page(reads, me.id, Page(limit=2, max_id=newest[-1].id))
                newer = read_home_page(reads, me.id, Page(limit=2, min_id=int(posted[0]["id"])))
                empty = reads.all(POSTS_BY_ID, {"ids": []})
                return threading.get_ident(), newest, older, newer, empty

            thread, newest, older, newer, empty = await one_hop(connection, read)
    finally:
        event.remove(sync_engine, "before_cursor_execute", listener)

    ids = [s["id"] for s in reversed(posted)]
    assert [str(p.id) for p in newest] == ids[:2]
    assert [str(p.id) for p in older] == ids[2:4]
    # min_id: the oldest two newer than the first post, newest first (as Mastodon pages)
    assert [str(p.id) for p in newer] == [ids[2], ids[3]]
    assert empty == []
    # (a new PostgreSQL connection also runs the dialect's own first statements)
    assert len([sql for sql in seen if "FROM posts" in sql]) == 4
    if node.settings.is_sqlite:
        assert thread != loop_thread
