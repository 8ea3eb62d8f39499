"""``cercle db copy --to postgresql://…``: a SQLite node's data moved to PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text

from node.accounts import require_user_actor
from node.context import open_node
from node.db.engine import make_engine
from node.db.models import Post
from node.ops.table_copy import tables
from node.posts import create_post
from node.reactions import like, reblog
from node.settings import Settings
from tests.harness import NodeFactory, create_test_database
from tests.ops.cli_process import cli_env, free_port, needs_postgres, plain_url, run_cli

STATS_QUERY = (
    "SELECT actor_id, statuses_count, followers_count, following_count "
    "FROM actor_stats ORDER BY actor_id"
)


def sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {
            t.name: db.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0] for t in tables()
        }


@needs_postgres
@pytest.mark.timeout(300)  # a handful of CLI processes on a shared two-core machine
async def test_db_copy_moves_every_row_and_verifies_counts(
    tmp_path: Path, node_factory: NodeFactory
) -> None:
    """A SQLite node with users, posts, a like and a boost (a row that points at another
    row of its own table) is copied; the counts match and the node reads the same."""
    # Given a node on SQLite, made with the CLI
    data_dir = tmp_path / "node"
    domain = f"127.0.0.1:{free_port()}"
    env = cli_env(data_dir, domain)
    assert run_cli(env, "init", "--admin", "admin", "--password", "a-long-password").returncode == 0
    assert run_cli(env, "user", "add", "bob", "--password", "a-long-password").returncode == 0
    settings = Settings(
        data_dir=data_dir,
        domain=domain,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'cercle.db'}",
        dev=True,
    )
    node = open_node(settings)
    try:
        async with node.reads() as db:
            _, admin = await require_user_actor(db, "admin")
            _, bob = await require_user_actor(db, "bob")
        original = await create_post(node, admin, "first")
        for words in ("second", "third"):
            await create_post(node, admin, words)
        await like(node, bob, original)
        boost = await reblog(node, bob, original)
        await create_post(node, bob, "bob's own words")
    finally:
        await node.close()
    before = sqlite_counts(data_dir / "cercle.db")
    timeline_before = run_cli(env, "timeline", "--as", "bob", "--json").stdout

    # When it is copied into an empty PostgreSQL database
    target = await create_test_database()
    node_factory.databases.append(target)
    result = run_cli(env, "db", "copy", "--to", plain_url(target))

    # Then every table's count is reported and equal, progress went to stderr
    assert result.returncode == 0, result.stderr
    reported = {}
    for line in result.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 4:
            assert parts[3] == "ok"
            reported[parts[0]] = (int(parts[1]), int(parts[2]))
    assert reported == {name: (n, n) for name, n in before.items()}
    assert before["posts"] == 5 and before["likes"] == 1
    assert f"posts: {before['posts']}/{before['posts']}" in result.stderr

    # And the node reads the same on PostgreSQL, the boost still pointing at its post
    pg_env = {**env, "CERCLE_DATABASE_URL": plain_url(target)}
    timeline_after = run_cli(pg_env, "timeline", "--as", "bob", "--json")
    assert timeline_after.returncode == 0, timeline_after.stderr
    assert [json.loads(x) for x in timeline_after.stdout.splitlines()] == [
        json.loads(x) for x in timeline_before.splitlines()
    ]
    engine = make_engine(target)
    try:
        async with engine.connect() as conn:
            pointed = await conn.scalar(select(Post.reblog_of_id).where(Post.id == boost.id))
            stats = [tuple(r) for r in await conn.execute(text(STATS_QUERY))]
    finally:
        await engine.dispose()
    assert pointed == original.id
    # the counters kept by triggers are copied, not counted a second time on arrival
    with sqlite3.connect(data_dir / "cercle.db") as db:
        assert stats == [tuple(r) for r in db.execute(STATS_QUERY)]
    assert stats

    # And a second copy into the now full database is refused, changing nothing
    again = run_cli(env, "db", "copy", "--to", plain_url(target))
    assert again.returncode == 1
    assert "target database is not empty" in again.stderr.strip().splitlines()[-1]


def test_db_copy_refuses_a_target_that_is_not_postgresql(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "n", f"127.0.0.1:{free_port()}")
    assert run_cli(env, "init", "--admin", "admin", "--password", "a-long-password").returncode == 0
    result = run_cli(env, "db", "copy", "--to", f"sqlite:///{tmp_path / 'other.db'}")
    assert result.returncode == 1
    assert result.stderr.startswith("cercle: error: --to must be a postgresql:// URL")
    assert not (tmp_path / "other.db").exists()
