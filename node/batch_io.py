"""Running a batch's statements back to back, in as few driver round trips as possible.

The inbox applies a whole group-commit batch with a handful of statements
(``node.remote_posts_bulk``). Through SQLAlchemy's asyncio layer every statement on
SQLite is three or four hand-offs to aiosqlite's thread and back (cursor, execute,
fetch, close), each a GIL transfer and a loop wake-up costing ≈ 36 µs of CPU on one
core — more than SQLite's own work for a small statement. ``SqliteBatchIO`` therefore
sends statements as one function run by that thread: one hand-off for a whole group.
It relies on aiosqlite's ``Connection._execute`` (private, and fed directly by
SQLAlchemy's own aiosqlite adapter too); should an upgrade remove it, the inbox's batches
fail over to applying activities one by one, slower but correct.

The statements are plain SQL, written once for every database:

* ``Query``: a SELECT with ``:name`` placeholders; a list value becomes an ``IN`` list;
* ``Insert``: rows for a table, each completed with the columns' Python-side defaults
  and converted by the columns' own types (JSON, UTC datetimes, booleans), exactly as a
  Core ``insert()`` stores them;
* ``Statement``: any other statement, run once per parameter set.

Writes are sent with the next round trip (a ``fetch``, or ``flush``): a failing write
surfaces there, and the caller rolls the transaction back either way.

``SessionBatchIO`` runs them through an ``AsyncSession`` one by one: PostgreSQL (whose
driver has no thread to hop to) and any other database.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.types import TypeEngine

Row = tuple[Any, ...]

_PLACEHOLDER = re.compile(r":(\w+)")
_COLLECTIONS = (list, tuple, set, frozenset)


@dataclass(frozen=True)
class Query:
    """A SELECT with ``:name`` placeholders (none inside SQL string literals); ``types``
    gives the SQL type of the parameters that need converting (a datetime compared with
    a stored one)."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)
    types: Mapping[str, TypeEngine[Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Insert:
    """``rows`` into ``table``; ``ignore_conflicts`` skips rows already there."""

    table: Table
    rows: Sequence[Mapping[str, Any]]
    ignore_conflicts: bool = False


@dataclass(frozen=True)
class Statement:
    """Any other statement, run once per parameter set (scalar parameters only)."""

    sql: str
    param_sets: Sequence[Mapping[str, Any]]


Write = Insert | Statement


class BatchIO(Protocol):
    async def fetch(self, queries: Sequence[Query]) -> list[list[Row]]:
        """The pending writes, then each query: its rows, in order."""
        ...

    def write(self, writes: Sequence[Write]) -> None:
        """Queue ``writes`` for the next round trip."""
        ...

    async def flush(self) -> None:
        """Send the pending writes, if any."""
        ...


def with_defaults(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` plus the Python-side default of every column it leaves out, as Core's
    ``insert()`` fills them (``id`` from ``new_id``, ``created_at`` from ``utcnow``...)."""
    full = dict(row)
    for column in table.columns:
        default = column.default
        if column.key in full or default is None:
            continue
        if default.is_scalar:
            full[column.key] = default.arg  # type: ignore[attr-defined]
        elif default.is_callable:
            full[column.key] = default.arg(None)  # type: ignore[attr-defined]
    return full


def batch_io(db: AsyncSession) -> BatchIO:
    """The fastest way to run statements in ``db``'s transaction."""
    if is_aiosqlite(db.bind):
        return SqliteBatchIO(lambda: _session_driver(db), db.bind.dialect)
    return SessionBatchIO(db)


def is_aiosqlite(bind: Any) -> bool:
    return bind.dialect.name == "sqlite" and bind.dialect.driver == "aiosqlite"


@asynccontextmanager
async def sqlite_transaction(engine: AsyncEngine) -> AsyncIterator[SqliteBatchIO]:
    """A write transaction of its own on ``engine`` (aiosqlite), without a session:
    ``BEGIN IMMEDIATE`` goes with the first round trip, ``COMMIT`` with the last one.
    Rolled back if the block raises."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        io = SqliteBatchIO(lambda: _ready(driver), engine.dialect, begin="BEGIN IMMEDIATE")
        try:
            yield io
            await io.commit()
        except BaseException:
            await io.rollback()
            raise


class SessionBatchIO:
    """Each statement through the session: correct everywhere, one round trip each."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self._pending: list[Write] = []

    def write(self, writes: Sequence[Write]) -> None:
        self._pending.extend(writes)

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        module = postgresql if self.db.bind.dialect.name == "postgresql" else sqlite_dialect
        for item in pending:
            if isinstance(item, Statement):
                if item.param_sets:
                    await self.db.execute(text(item.sql), list(item.param_sets))
            elif item.rows:
                stmt = module.insert(item.table)
                if item.ignore_conflicts:
                    stmt = stmt.on_conflict_do_nothing()
                await self.db.execute(stmt, [with_defaults(item.table, r) for r in item.rows])

    async def fetch(self, queries: Sequence[Query]) -> list[list[Row]]:
        await self.flush()
        results = []
        for query in queries:
            binds = [
                bindparam(name, type_=query.types[name])
                if name in query.types
                else bindparam(name, expanding=isinstance(value, _COLLECTIONS))
                for name, value in query.params.items()
            ]
            params = {
                name: list(value) if isinstance(value, _COLLECTIONS) else value
                for name, value in query.params.items()
            }
            rows = await self.db.execute(text(query.sql).bindparams(*binds), params)
            results.append([tuple(row) for row in rows])
        return results


Step = tuple[str, list[Row]]


class SqliteBatchIO:
    """Pending writes and queries in one function run by aiosqlite's connection thread.

    Uses aiosqlite's ``Connection._execute`` — the queue SQLAlchemy's own aiosqlite
    adapter feeds directly too — so that many statements cost one hand-off.
    """

    def __init__(
        self, driver: Callable[[], Awaitable[Any]], dialect: Dialect, *, begin: str | None = None
    ) -> None:
        self._driver = driver
        self.dialect = dialect
        self._begin = begin
        self._began = False
        self._pending: list[Step] = []

    def write(self, writes: Sequence[Write]) -> None:
        for item in writes:
            if isinstance(item, Statement):
                for params in item.param_sets:
                    sql, values = self._render(item.sql, params, {})
                    self._pending.append((sql, [tuple(values)]))
            elif item.rows:
                self._pending.append(self._insert(item))

    async def flush(self) -> None:
        if self._pending or (self._begin and not self._began):
            await self._hop([])

    async def fetch(self, queries: Sequence[Query]) -> list[list[Row]]:
        rendered = [self._render(q.sql, q.params, q.types) for q in queries]
        return await self._hop(rendered)

    async def commit(self) -> None:
        """Send the pending writes and commit (a transaction this object began)."""
        if self._began or self._pending:
            await self._hop([], "COMMIT")

    async def rollback(self) -> None:
        """Drop the pending writes and roll back (a transaction this object began)."""
        self._pending = []
        if self._began:
            await self._hop([], "ROLLBACK")

    async def _hop(
        self, queries: list[tuple[str, list[Any]]], end: str | None = None
    ) -> list[list[Row]]:
        """One hand-off: BEGIN if due, the pending writes, ``queries``, then ``end``."""
        begin = self._begin if self._begin and not self._began else None
        steps, self._pending = self._pending, []
        self._began = self._began or begin is not None

        def run(conn: sqlite3.Connection) -> list[list[Row]]:
            if begin is not None:
                conn.execute(begin)
            for sql, rows in steps:
                conn.executemany(sql, rows)
            results = [conn.execute(sql, params).fetchall() for sql, params in queries]
            if end is not None and conn.in_transaction:
                conn.execute(end)
            return results

        driver = await self._driver()
        results: list[list[Row]] = await driver._execute(run, driver._conn)
        if end is not None:
            self._began = False
        return results

    def _render(
        self, sql: str, params: Mapping[str, Any], types: Mapping[str, TypeEngine[Any]]
    ) -> tuple[str, list[Any]]:
        """``:name`` placeholders → ``?``; collections → ``(?, ?, …)``."""
        values: list[Any] = []

        def placeholder(match: re.Match[str]) -> str:
            name = match.group(1)
            value = params[name]
            if isinstance(value, _COLLECTIONS):
                items = list(value)
                values.extend(items)
                return "(" + ", ".join("?" * len(items)) + ")" if items else "(NULL)"
            type_ = types.get(name)
            if type_ is not None:
                process = type_.dialect_impl(self.dialect).bind_processor(self.dialect)
                value = process(value) if process is not None else value
            values.append(value)
            return "?"

        return _PLACEHOLDER.sub(placeholder, sql), values

    def _insert(self, item: Insert) -> Step:
        """Column by column (list comprehensions, not a branch per cell): this runs for
        every row the inbox stores."""
        sql, plan = _sqlite_insert(item.table, self.dialect, item.ignore_conflicts)
        rows = item.rows
        columns: list[list[Any]] = []
        for key, process, default in plan:
            if default is None:
                values = [row.get(key) for row in rows]
            elif default.is_scalar:
                values = [row.get(key, default.arg) for row in rows]
            else:
                values = [row[key] if key in row else default.arg(None) for row in rows]
            columns.append(values if process is None else [process(v) for v in values])
        return sql, list(zip(*columns, strict=True))


async def _session_driver(db: AsyncSession) -> Any:
    connection = await db.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _ready(driver: Any) -> Any:
    return driver


@functools.lru_cache(maxsize=64)
def _sqlite_insert(
    table: Table, dialect: Dialect, ignore_conflicts: bool
) -> tuple[str, tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]]:
    """The INSERT of every column of ``table``, and for each column in order: its key,
    its bind processor (what Core applies to a value before the driver sees it) and its
    Python-side default."""
    columns = list(table.columns)
    preparer = dialect.identifier_preparer
    sql = (
        f"INSERT INTO {preparer.format_table(table)} "
        f"({', '.join(preparer.format_column(c) for c in columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})"
        + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    plan = tuple(
        (c.key, c.type.dialect_impl(dialect).bind_processor(dialect), c.default) for c in columns
    )
    return sql, plan
