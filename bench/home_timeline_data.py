"""The home-timeline benchmark's data set: a real node holding a million posts.

A node is created the way ``cercle init`` creates one (``initialise()``: migrations, the
organisation and application actors, the admin) plus the benchmark's user, ``bench``.
Then, with the ``sqlite3`` module in one big transaction on the node's own schema, it gets
what a year of traffic would have left behind:

* 1,000 actors: 200 local users and 800 remote ones on 40 other servers (each with the
  actor document a peer serves, kept in ``raw`` as the node keeps it);
* follows: ``bench`` follows 200 accounts (a quarter of them local), every other local
  user 2 to 20, every remote account is followed by at least one local user (a node stores
  remote posts only for those), and remote accounts follow local users;
* 1,000,000 posts over 365 days, by all 1,000 authors (activity skewed, log-normal): 6 %
  boosts, 12 % replies, 12 % with mentions, 15 % with hashtags, some media, polls,
  content warnings, unlisted / followers-only / direct / organisation posts, and 0.5 %
  deleted (kept soft-deleted, as the node does). Remote posts keep their Note in ``raw``;
* the ``timeline_entries`` fan-out on write would have made: each post goes to its
  author's (when local), its local followers', its mentioned local users' homes, an
  organisation post to every local user's — ``bench``'s home gets ≈ 200,000 entries,
  the table ≈ 3.2 million;
* the counters the services keep (replies, boosts, favourites), the mention and hashtag
  index rows, and ``bench``'s own favourites, bookmarks and pins.

No ``ANALYZE`` is run: a node never runs it, so the query planner sees what it sees in
production. The result is cached under ``bench/results/home_timeline/<key>/`` (git-ignored)
where the key hashes the parameters below and the generator's version. Building takes
about four minutes, so a cached data set follows the schema the way a deployed node does:
migrations added since it was built are applied to it (``cercle migrate``'s upgrade). The
migrations applied are recorded (file hash, and whether each changed the schema), because
the chain has reserved slots that are filled in place: a revision applied while it was an
empty slot is re-applied once filled; only a change to a migration that had changed the
schema forces a rebuild.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.common import REPO_ROOT
from bench.home_timeline_rows import BENCH_USER, DOMAIN, SHAPE, Shape, fill
from node.accounts import create_user
from node.bootstrap import initialise
from node.context import open_node, transaction
from node.db.engine import make_engine
from node.db.migrate import alembic_config, current_revision, upgrade
from node.db.models import Actor
from node.settings import Settings
from tests.harness import PASSWORD

#: Bump when ``bench.home_timeline_rows`` changes what it writes: the cache is rebuilt.
DATASET_VERSION = 2
RESULTS_DIR = REPO_ROOT / "bench" / "results" / "home_timeline"


def dataset_key(shape: Shape = SHAPE) -> str:
    """Parameters + generator version: equal keys, equal rows (the schema is brought up
    to date separately, by ``ensure_schema``)."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"v": DATASET_VERSION, **asdict(shape)}, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def migration_chain() -> list[tuple[str, str]]:
    """``(revision, sha256 of its file)``, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    chain = reversed(list(script.walk_revisions()))
    return [(r.revision, hashlib.sha256(Path(r.path).read_bytes()).hexdigest()) for r in chain]


Schema = dict[str, tuple[str, str, tuple[str, ...]]]


def _schema(db_path: Path) -> Schema:
    """Every table, index, trigger and view: name → (type, SQL, the columns of a table)."""
    if not db_path.exists():
        return {}
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        return {
            name: (
                kind,
                sql or "",
                tuple(c[1] for c in conn.execute(f'PRAGMA table_info("{name}")'))
                if kind == "table"
                else (),
            )
            for kind, name, sql in rows
        }


def schema_change(before: Schema, after: Schema) -> dict[str, Any]:
    """What one migration did to the schema, and whether ``undo_steps`` can take it back:
    objects and columns it added can be dropped; anything else it changed cannot."""
    added = [[after[name][0], name] for name in after.keys() - before.keys()]
    columns: list[list[str]] = []
    reversible = not (before.keys() - after.keys())
    for name in before.keys() & after.keys():
        (kind, sql, cols), (_, new_sql, new_cols) = before[name], after[name]
        if sql == new_sql:
            continue
        if kind == "table" and new_cols[: len(cols)] == cols:
            columns += [[name, c] for c in new_cols[len(cols) :]]
        else:
            reversible = False
    return {
        "schema_changed": bool(added or columns) or not reversible,
        "added": sorted(added),
        "added_columns": columns,
        "reversible": reversible,
    }


def replay_from(applied: list[dict[str, Any]], chain: list[tuple[str, str]]) -> int:
    """The index in ``chain`` from which migrations must be (re-)applied to a data set
    that ``applied`` records: the first one added or changed since; ``len(chain)`` when it
    is up to date."""
    for index, (revision, sha) in enumerate(chain):
        if index >= len(applied):
            return index
        if applied[index]["revision"] != revision or applied[index]["sha"] != sha:
            return index
    return len(chain)


_DROP_ORDER = {"trigger": 0, "view": 1, "index": 2, "table": 3}


def undo_steps(db_path: Path, steps: list[dict[str, Any]]) -> bool:
    """Take back what ``steps`` (applied migrations, oldest first) did to the schema,
    newest first; False when one of them changed what cannot be taken back."""
    if not all(step.get("reversible", not step["schema_changed"]) for step in steps):
        return False
    with sqlite3.connect(db_path, isolation_level=None) as conn:
        try:
            conn.execute("BEGIN")
            for step in reversed(steps):
                for kind, name in sorted(step.get("added", []), key=lambda a: _DROP_ORDER[a[0]]):
                    if not name.startswith("sqlite_autoindex"):
                        conn.execute(f'DROP {kind.upper()} IF EXISTS "{name}"')
                for table, column in step.get("added_columns", []):
                    columns = {c[1] for c in conn.execute(f'PRAGMA table_info("{table}")')}
                    if column in columns:
                        conn.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
            conn.execute("COMMIT")
        except sqlite3.Error:
            conn.execute("ROLLBACK")
            return False
    return True


async def _upgrade_steps(
    data_dir: Path,
    chain: list[tuple[str, str]],
    start: int,
    record: Callable[[dict[str, Any]], None] = lambda step: None,
) -> list[Any]:
    """Apply ``chain[start:]`` one revision at a time (the one before ``start`` is
    stamped first), noting what each did to the schema; ``record`` hears of each step
    as soon as it is applied (should a later one fail, the record stays true)."""
    from alembic import command

    db_path = data_dir / "cercle.db"
    engine = make_engine(dataset_settings(data_dir).database_url)
    steps = []
    try:
        if start > 0 and await current_revision(engine) != chain[start - 1][0]:
            previous = chain[start - 1][0]

            def stamp(connection: Any) -> None:
                command.stamp(alembic_config(connection), previous, purge=True)

            async with engine.begin() as conn:
                await conn.run_sync(stamp)
        for revision, sha in chain[start:]:
            before = _schema(db_path)
            await upgrade(engine, revision)
            change = schema_change(before, _schema(db_path))
            steps.append({"revision": revision, "sha": sha, **change})
            record(steps[-1])
    finally:
        await engine.dispose()
    return steps


def ensure_schema(data_dir: Path, log: Callable[[str], None] = print) -> bool:
    """Bring a cached data set to the newest schema, as ``cercle migrate`` would; False
    when it cannot be (it must be rebuilt). A migration changed in place since it was
    applied (a reserved slot being filled, or edited again) is taken back first."""
    stats_file = data_dir / "dataset.json"
    stats = json.loads(stats_file.read_text())
    chain = migration_chain()
    applied = list(stats.get("migrations", []))
    start = replay_from(applied, chain)
    if start == len(chain) and len(applied) == len(chain):
        return True
    if not undo_steps(data_dir / "cercle.db", applied[start:]):
        return False
    # Recorded as it goes: should a migration fail, the next run starts from there.
    stats["migrations"] = applied[:start]
    stats_file.write_text(json.dumps(stats, indent=1) + "\n")

    def record(step: dict[str, Any]) -> None:
        stats["migrations"].append(step)
        stats_file.write_text(json.dumps(stats, indent=1) + "\n")

    if start < len(chain):
        log(f"applying migrations {chain[start][0]}..{chain[-1][0]} to the cached data set")
        asyncio.run(_upgrade_steps(data_dir, chain, start, record))
    return True


def dataset_settings(data_dir: Path) -> Settings:
    """The node's settings, for building and for serving (a rate limit no benchmark hits:
    500 requests with one token would otherwise be refused after 300)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=data_dir,
        domain=DOMAIN,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'cercle.db'}",
        dev=True,
        org_name="Bench Org",
        api_rate_limit=1_000_000,
    )


def ensure_dataset(log: Callable[[str], None] = print, shape: Shape = SHAPE) -> Path:
    """The data directory of a node holding the data set: cached, or built now."""
    final = RESULTS_DIR / dataset_key(shape)
    if (final / "dataset.json").exists():
        if ensure_schema(final, log):
            return final
        log("a migration the cached data set was built with has changed: rebuilding it")
    # One data set at a time: those of older schemas (3 GB each) are never read again.
    if RESULTS_DIR.exists():
        for stale in RESULTS_DIR.iterdir():
            shutil.rmtree(stale, ignore_errors=True)
    work = final.with_name(final.name + ".building")
    log(f"building the data set in {work} (once per schema; about four minutes) ...")
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    # Revision by revision first (``initialise`` then finds the schema up to date), to
    # record which ones changed it.
    applied = asyncio.run(_upgrade_steps(work, migration_chain(), 0))
    asyncio.run(_initialise(work))
    stats = fill(work / "cercle.db", shape, log)
    stats["migrations"] = applied
    stats["build_seconds"] = round(time.perf_counter() - started, 1)
    (work / "dataset.json").write_text(json.dumps(stats, indent=1) + "\n")
    work.rename(final)
    log(f"data set built in {stats['build_seconds']:.0f}s: {final}")
    return final


def dataset_stats(data_dir: Path) -> dict[str, Any]:
    return dict(json.loads((data_dir / "dataset.json").read_text()))


async def _initialise(data_dir: Path) -> None:
    """``cercle init`` plus the benchmark user, through the node's own code."""
    node = open_node(dataset_settings(data_dir))
    try:
        await initialise(node, admin="admin", password=PASSWORD, org_name="Bench Org")
        async with transaction(node) as db:
            if await db.scalar(select(Actor.id).where(Actor.username == BENCH_USER)) is None:
                await create_user(node, db, username=BENCH_USER, password=PASSWORD)
    finally:
        await node.close()
