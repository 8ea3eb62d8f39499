"""Copy every table of a node from one database to another, and prove it by counting.

Used by ``cercle db copy`` (SQLite → PostgreSQL), by ``cercle backup`` on PostgreSQL
(PostgreSQL → a SQLite file inside the archive) and by ``cercle restore`` onto
PostgreSQL. Rows go through the models' own column types, so values arrive exactly as the
application wrote them whichever way the copy goes. No ids are renumbered: every primary
key is an application-made id.

The target must be an empty database at the same schema revision as the source. All rows
are written in one transaction: a copy that fails leaves the target as empty as it was.
Foreign keys that point at rows not copied yet (a reply to a post stored later, a table
that refers to itself) are written empty first and filled in once their table is done.

Tables that the database's own triggers write (``actor_stats``, counters kept by triggers
on posts and follows) would be counted twice: copied, then bumped again as the rows they
count arrive. They are found by reading the target's trigger bodies, copied last, and
emptied of what the triggers wrote just before.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table, and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from node.db.migrate import current_revision
from node.db.models import Base

#: rows per INSERT statement batch: big enough to amortise round trips, small enough
#: that progress moves every fraction of a second
CHUNK = 2_000

#: (table, rows done, rows in the table)
Progress = Callable[[str, int, int], None]


class CopyError(Exception):
    """The copy cannot start or did not verify; the message says what to do."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(Base.metadata.sorted_tables)


def sqlite_path(database_url: str) -> Path | None:
    if not database_url.startswith("sqlite"):
        return None
    return Path(database_url.split("///", 1)[1])


def sqlite_snapshot(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (WAL) with SQLite's online backup API:
    one step under one read transaction, while the node keeps writing."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


async def count_rows(conn: AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in tables():
        counts[table.name] = int(await conn.scalar(select(func.count()).select_from(table)) or 0)
    return counts


async def _snapshot_connection(engine: AsyncEngine) -> AsyncConnection:
    """A connection whose reads all see one instant (REPEATABLE READ on PostgreSQL; a
    SQLite source is a snapshot file already)."""
    conn = await engine.connect()
    if engine.dialect.name == "postgresql":
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        await conn.begin()
    return conn


_WRITES = re.compile(r"\b(?:INSERT\s+INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


async def trigger_written_tables(conn: AsyncConnection) -> set[str]:
    """Tables that some trigger of this database inserts into or updates."""
    if conn.dialect.name == "sqlite":
        bodies = await conn.scalars(text("SELECT sql FROM sqlite_master WHERE type = 'trigger'"))
        texts = [b.split("BEGIN", 1)[-1] for b in bodies if b]
    else:
        bodies = await conn.scalars(
            text(
                "SELECT p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE NOT t.tgisinternal"
            )
        )
        texts = [b for b in bodies if b]
    names = {t.name for t in tables()}
    return {m.group(1) for body in texts for m in _WRITES.finditer(body)} & names


def _deferred_columns(table: Table, done: set[str]) -> list[Column[Any]]:
    """Nullable foreign-key columns pointing at a table not fully copied yet."""
    deferred: list[Column[Any]] = []
    for fk in table.foreign_keys:
        target = fk.column.table.name
        if (target == table.name or target not in done) and fk.parent.nullable:
            deferred.append(fk.parent)
    return deferred


async def _copy_table(
    src: AsyncConnection,
    dst: AsyncConnection,
    table: Table,
    total: int,
    done_tables: set[str],
    progress: Progress,
) -> int:
    deferred = _deferred_columns(table, done_tables)
    deferred_names = [c.name for c in deferred]
    pk = list(table.primary_key.columns)
    fixups: list[dict[str, Any]] = []
    copied = 0
    progress(table.name, 0, total)
    result = await src.stream(select(table))
    async for part in result.partitions(CHUNK):
        rows = [dict(row._mapping) for row in part]
        if deferred_names:
            for row in rows:
                later = {name: row[name] for name in deferred_names if row[name] is not None}
                if later:
                    fixups.append({**{f"pk_{c.name}": row[c.name] for c in pk}, **later})
                    for name in later:
                        row[name] = None
        await dst.execute(insert(table), rows)
        copied += len(rows)
        progress(table.name, copied, total)
    for name in deferred_names:
        wanted = [f for f in fixups if name in f]
        if wanted:
            statement = (
                update(table)
                .where(and_(*(c == bindparam(f"pk_{c.name}") for c in pk)))
                .values({name: bindparam(name)})
            )
            for start in range(0, len(wanted), CHUNK):
                batch = [
                    {**{k: v for k, v in f.items() if k.startswith("pk_")}, name: f[name]}
                    for f in wanted[start : start + CHUNK]
                ]
                await dst.execute(statement, batch)
    return copied


async def copy_database(
    source: AsyncEngine, target: AsyncEngine, *, progress: Progress
) -> list[TableCount]:
    """Copy all rows; returns per-table counts (source snapshot vs. target after commit).

    The caller has brought the target to the current schema; raises :class:`CopyError`
    when revisions differ, the target holds rows, or a count does not match."""
    source_revision = await current_revision(source)
    target_revision = await current_revision(target)
    if source_revision is None:
        raise CopyError("the source database holds no Cercle schema")
    if source_revision != target_revision:
        raise CopyError(
            f"schema revisions differ (source {source_revision}, target {target_revision}): "
            "run `cercle migrate` on the source first"
        )
    async with target.connect() as probe:
        existing = {name: n for name, n in (await count_rows(probe)).items() if n}
    if existing:
        sample = ", ".join(f"{name} ({n} rows)" for name, n in list(existing.items())[:3])
        raise CopyError(f"the target database is not empty: {sample}")

    src = await _snapshot_connection(source)
    try:
        source_counts = await count_rows(src)
        async with target.begin() as dst:
            derived = await trigger_written_tables(dst)
            done: set[str] = set()
            order = [t for t in tables() if t.name not in derived]
            order += [t for t in tables() if t.name in derived]
            for table in order:
                if table.name in derived:
                    await dst.execute(delete(table))  # what the triggers wrote meanwhile
                await _copy_table(src, dst, table, source_counts[table.name], done, progress)
                done.add(table.name)
    finally:
        await src.close()
    async with target.connect() as check:
        target_counts = await count_rows(check)
    counts = [TableCount(t, source_counts[t], target_counts.get(t, 0)) for t in source_counts]
    wrong = [c for c in counts if not c.ok]
    if wrong:
        detail = ", ".join(f"{c.table} {c.source}→{c.target}" for c in wrong[:5])
        raise CopyError(f"row counts differ after the copy: {detail}")
    return counts
