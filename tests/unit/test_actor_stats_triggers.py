"""``actor_stats.statuses_count`` and ``last_status_at`` stay what a COUNT/MAX over
``posts`` gives when posts arrive many per statement, as the inbox writes them
(node/batch_io.py): on PostgreSQL migration 0009 counts them in one statement-level
trigger per INSERT, on SQLite 0003's row-level triggers still do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from node.db.engine import make_engine
from node.db.migrate import alembic_config, upgrade
from node.db.models import Actor, ActorStats, Post
from tests.harness import POSTGRES_ADMIN_URL, create_test_database, drop_test_database

needs_postgres = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="set CERCLE_TEST_POSTGRES to run the PostgreSQL tests"
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = (
        f"sqlite+aiosqlite:///{tmp_path / 'stats.db'}"
        if request.param == "sqlite"
        else await create_test_database()
    )
    engine = make_engine(url, writer=True)
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        if request.param == "postgresql":
            await drop_test_database(url)


def _actor(actor_id: int, name: str) -> dict[str, Any]:
    return {
        "id": actor_id,
        "uri": f"https://remote.example/users/{name}",
        "username": name,
        "domain": "remote.example",
    }


def _post(actor_id: int, minutes: int, *, deleted: bool = False) -> dict[str, Any]:
    """A post whose id sorts as its ``published`` does, as the ids of posts made here do
    (after a removal the triggers take the newest remaining post by id)."""
    post_id = minutes * 10 + actor_id
    return {
        "id": post_id,
        "uri": f"https://remote.example/posts/{post_id}",
        "actor_id": actor_id,
        "published": T0 + timedelta(minutes=minutes),
        "deleted_at": T0 if deleted else None,
    }


async def _stats(conn: AsyncConnection, actor_id: int) -> tuple[int, datetime | None]:
    row = (
        await conn.execute(
            select(ActorStats.statuses_count, ActorStats.last_status_at).where(
                ActorStats.actor_id == actor_id
            )
        )
    ).one()
    return row[0], row[1]


async def _counted(conn: AsyncConnection, actor_id: int) -> tuple[int, datetime | None]:
    row = (
        await conn.execute(
            select(func.count(), func.max(Post.published)).where(
                Post.actor_id == actor_id, Post.deleted_at.is_(None)
            )
        )
    ).one()
    return row[0], row[1]


async def test_counters_follow_multi_row_inserts_and_deletions(engine: AsyncEngine) -> None:
    alice, bob = _actor(1, "alice"), _actor(2, "bob")
    async with engine.begin() as conn:
        await conn.execute(insert(Actor), [alice, bob])
        # Given one statement storing posts of two authors, out of order, one of them
        # arriving already deleted, as the inbox's batched INSERTs do
        batch = [
            _post(alice["id"], 5),
            _post(bob["id"], 1),
            _post(alice["id"], 9),
            _post(alice["id"], 2),
            _post(bob["id"], 7, deleted=True),
            _post(bob["id"], 3),
        ]
        await conn.execute(insert(Post).values(batch))
        # And posts inserted one per statement, before and after it
        await conn.execute(insert(Post).values([_post(alice["id"], 1)]))
        newest_bob = _post(bob["id"], 4)
        await conn.execute(insert(Post).values([newest_bob]))
    async with engine.connect() as conn:
        # Then each author's counters are the count and the newest of its live posts
        assert await _stats(conn, alice["id"]) == (4, T0 + timedelta(minutes=9))
        assert await _stats(conn, bob["id"]) == (3, T0 + timedelta(minutes=4))
    for deleted_at, expected_bob in ((T0, (2, 3)), (None, (3, 4))):
        # When bob's newest post is soft-deleted, then restored
        async with engine.begin() as conn:
            await conn.execute(
                update(Post).where(Post.id == newest_bob["id"]).values(deleted_at=deleted_at)
            )
        async with engine.connect() as conn:
            count, minutes = expected_bob
            assert await _stats(conn, bob["id"]) == (count, T0 + timedelta(minutes=minutes))
            assert await _stats(conn, bob["id"]) == await _counted(conn, bob["id"])
    # And when a post is deleted outright
    async with engine.begin() as conn:
        await conn.execute(Post.__table__.delete().where(Post.id == batch[2]["id"]))
    async with engine.connect() as conn:
        for actor in (alice, bob):
            assert await _stats(conn, actor["id"]) == await _counted(conn, actor["id"])
        assert await _stats(conn, alice["id"]) == (3, T0 + timedelta(minutes=5))


TRIGGERS_ON_POSTS = text(
    "SELECT t.tgname, pg_get_triggerdef(t.oid), p.proname, p.prosrc "
    "FROM pg_trigger AS t JOIN pg_proc AS p ON p.oid = t.tgfoid "
    "WHERE t.tgrelid = 'posts'::regclass AND NOT t.tgisinternal ORDER BY t.tgname"
)


async def _migrate(engine: AsyncEngine, step: str, revision: str) -> None:
    def run(connection: Connection) -> None:
        getattr(command, step)(alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


@needs_postgres
async def test_inserts_count_per_statement_and_downgrade_restores_row_triggers() -> None:
    old_url, new_url = await create_test_database(), await create_test_database()
    old, new = make_engine(old_url, writer=True), make_engine(new_url, writer=True)
    try:
        await _migrate(old, "upgrade", "0008")
        await _migrate(new, "upgrade", "0009")
        async with old.connect() as conn:
            row_level = (await conn.execute(TRIGGERS_ON_POSTS)).all()
        async with new.connect() as conn:
            # At 0009 inserts fire one trigger per statement, with the rows it inserted
            definitions = {row[0]: row[1] for row in await conn.execute(TRIGGERS_ON_POSTS)}
        assert "FOR EACH STATEMENT" in definitions["actor_stats_posts_inserted"]
        assert "REFERENCING NEW TABLE AS new_posts" in definitions["actor_stats_posts_inserted"]
        assert "INSERT" not in definitions["actor_stats_posts"]
        # And going back to 0008 gives 0003's triggers and functions, as they were
        await _migrate(new, "downgrade", "0008")
        async with new.connect() as conn:
            assert (await conn.execute(TRIGGERS_ON_POSTS)).all() == row_level
            leftover = (
                "SELECT count(*) FROM pg_proc WHERE proname = 'actor_stats_on_posts_inserted'"
            )
            assert (await conn.execute(text(leftover))).scalar_one() == 0
    finally:
        await old.dispose()
        await new.dispose()
        await drop_test_database(old_url)
        await drop_test_database(new_url)
