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

On PostgreSQL, ``PgBatchIO`` sends them straight to the pooled asyncpg connection: an
``IN :list`` becomes ``= ANY($n)`` with one array parameter, so each query has one text
whatever the batch's size and asyncpg prepares it once per connection (an expanded IN
list is a new statement for PostgreSQL to parse and plan at every new length), and rows
go in one ``INSERT … SELECT FROM unnest(arrays)`` per table: one text for any number of
rows, one execution instead of one per row; consecutive INSERTs into several tables go
as one statement (data-modifying ``WITH``), one round trip.
The group committer's common case runs in ``pg_transaction``: no session, no SAVEPOINT.

``SessionBatchIO`` runs them through an ``AsyncSession`` one by one: any other database,
and a batch mixed with activities applied alone (inside the session's transaction).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import JSON, Table, bindparam, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.types import TypeEngine
from sqlalchemy.util import greenlet_spawn

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
    pooled = await engine.raw_connection()
    driver = pooled.driver_connection
    io = SqliteBatchIO(lambda: _ready(driver), engine.dialect, begin="BEGIN IMMEDIATE")
    ended = False
    try:
        try:
            yield io
            await io.commit()
        except BaseException:
            await io.rollback()
            raise
        ended = True
    finally:
        await _give_back(pooled, ended)


def is_asyncpg(bind: Any) -> bool:
    return bind.dialect.name == "postgresql" and bind.dialect.driver == "asyncpg"


@asynccontextmanager
async def pg_transaction(engine: AsyncEngine) -> AsyncIterator[PgBatchIO]:
    """A transaction of its own on a pooled asyncpg connection of ``engine``, without a
    session; the pending writes are sent and committed at the end of the block, all
    rolled back if it raises. A connection that could not be rolled back (lost, or a
    statement cut off mid-way) is dropped from the pool rather than handed out again:
    SQLAlchemy never saw its errors, so it would not know."""
    pooled = await engine.raw_connection()
    driver = pooled.driver_connection
    ended = broken = False
    try:
        transaction = driver.transaction()
        await transaction.start()
        io = PgBatchIO(driver, engine.dialect)
        try:
            yield io
            await io.flush()
        except BaseException:
            try:
                await transaction.rollback()
            except Exception:
                broken = True
            raise
        await transaction.commit()
        ended = True
    finally:
        if broken or driver.is_closed():
            await greenlet_spawn(pooled.invalidate)
        await _give_back(pooled, ended, in_greenlet=True)


async def _give_back(pooled: Any, ended: bool, *, in_greenlet: bool = False) -> None:
    """Return the connection to the pool. The pool would roll it back first — one more
    round trip to the driver's thread — but a transaction this module ended by its own
    COMMIT leaves nothing to roll back, so it is returned as SQLAlchemy returns a
    connection whose transaction it committed itself (``_close_special``, falling back
    to the ordinary return should a SQLAlchemy upgrade rename it)."""
    close_special = getattr(pooled, "_close_special", None) if ended else None
    if close_special is not None:
        if in_greenlet:
            # A pool that is full closes the connection instead (PostgreSQL's overflow
            # connections), which the asyncpg adapter can only do inside a greenlet.
            await greenlet_spawn(close_special, transaction_reset=True)
        else:
            close_special(transaction_reset=True)
    else:
        await greenlet_spawn(pooled.close)


class SessionBatchIO:
    """Each statement through the session: correct everywhere, one round trip each."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self._pending: list[Write] = []

    def write(self, writes: Sequence[Write]) -> None:
        self._pending.extend(writes)

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        module = _insert_module(self.db.bind.dialect.name)
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


class PgBatchIO:
    """Statements on one asyncpg connection, in the transaction ``pg_transaction`` holds.

    Writes are sent with the next round trip, as on SQLite; asyncpg prepares each
    distinct text once per connection (its statement cache), so the few texts a batch
    uses are parsed and planned once, not per batch."""

    def __init__(self, driver: Any, dialect: Dialect) -> None:
        self._driver = driver
        self.dialect = dialect
        self._pending: list[Write] = []

    def write(self, writes: Sequence[Write]) -> None:
        self._pending.extend(writes)

    async def flush(self) -> None:
        """The pending writes in order; consecutive INSERTs into distinct tables go as
        one statement (``_pg_inserts``), so a batch's rows cost one round trip."""
        pending, self._pending = self._pending, []
        inserts: list[Insert] = []
        for item in pending:
            if isinstance(item, Insert):
                if not item.rows:
                    continue
                if any(other.table is item.table for other in inserts):
                    await self._insert(inserts)
                    inserts = []
                inserts.append(item)
                continue
            await self._insert(inserts)
            inserts = []
            if item.param_sets:
                sql, names = _pg_placeholders(item.sql)
                await self._driver.executemany(
                    sql, [tuple(params[n] for n in names) for params in item.param_sets]
                )
        await self._insert(inserts)

    async def _insert(self, inserts: list[Insert]) -> None:
        if inserts:
            sql, values = _pg_inserts(inserts, self.dialect)
            await self._driver.execute(sql, *values)

    async def fetch(self, queries: Sequence[Query]) -> list[list[Row]]:
        await self.flush()
        results = []
        for query in queries:
            sql, values = _pg_render(query, self.dialect)
            results.append([tuple(row) for row in await self._driver.fetch(sql, *values)])
        return results


_IN_LIST = re.compile(r"\b(NOT\s+)?IN\s+:(\w+)", re.IGNORECASE)


def _pg_name(names: list[str], name: str) -> str:
    if name not in names:
        names.append(name)
    return f"${names.index(name) + 1}"


@functools.lru_cache(maxsize=64)
def _pg_placeholders(sql: str) -> tuple[str, tuple[str, ...]]:
    """``:name`` → ``$n``, and the names in parameter order."""
    names: list[str] = []
    return _PLACEHOLDER.sub(lambda m: _pg_name(names, m.group(1)), sql), tuple(names)


def _pg_render(query: Query, dialect: Dialect) -> tuple[str, list[Any]]:
    """``:name`` → ``$n``; ``IN :list`` → ``= ANY($n)`` (``NOT IN`` → ``<> ALL``) with
    the list as one array (PostgreSQL takes its element type from the column compared;
    an empty list matches nothing, or everything after NOT, as ``IN ()`` would)."""
    names: list[str] = []

    def in_list(match: re.Match[str]) -> str:
        negated, name = match.groups()
        if isinstance(query.params[name], _COLLECTIONS):
            return f"{'<> ALL' if negated else '= ANY'}({_pg_name(names, name)})"
        return match.group(0)

    sql = _IN_LIST.sub(in_list, query.sql)
    sql = _PLACEHOLDER.sub(lambda m: _pg_name(names, m.group(1)), sql)
    values = []
    for name in names:
        value = query.params[name]
        if isinstance(value, _COLLECTIONS):
            value = list(value)
        elif name in query.types:
            process = query.types[name].dialect_impl(dialect).bind_processor(dialect)
            value = process(value) if process is not None else value
        values.append(value)
    return sql, values


def _pg_inserts(inserts: Sequence[Insert], dialect: Dialect) -> tuple[str, list[Any]]:
    """One statement for ``inserts`` (each into its own table): the first ones as
    data-modifying ``WITH`` parts of the last. PostgreSQL runs every part; foreign keys
    and ``AFTER`` triggers are checked at the end of the statement, as for separate
    INSERTs in one transaction, and a failing part fails the whole statement."""
    sql = _pg_inserts_sql(tuple((item.table, item.ignore_conflicts) for item in inserts), dialect)
    values: list[Any] = []
    for item in inserts:
        values += _pg_columns(
            item, _pg_insert_sql(item.table, dialect, item.ignore_conflicts, 0)[1]
        )
    return sql, values


def _pg_columns(
    item: Insert, plan: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]
) -> list[list[Any]]:
    """Each column's values for ``item.rows`` (one array parameter each), converted by
    the column's bind processor for asyncpg as Core converts them."""
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
    return columns


@functools.lru_cache(maxsize=64)
def _pg_inserts_sql(tables: tuple[tuple[Table, bool], ...], dialect: Dialect) -> str:
    parts = []
    offset = 0
    for table, ignore_conflicts in tables:
        parts.append(_pg_insert_sql(table, dialect, ignore_conflicts, offset)[0])
        offset += len(table.columns)
    if len(parts) == 1:
        return parts[0]
    ctes = ", ".join(f"w{i} AS ({part})" for i, part in enumerate(parts[:-1]))
    return f"WITH {ctes} {parts[-1]}"


@functools.lru_cache(maxsize=256)
def _pg_insert_sql(
    table: Table, dialect: Dialect, ignore_conflicts: bool, offset: int
) -> tuple[str, tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]]:
    """``INSERT INTO table (columns) SELECT … FROM unnest($1::type[], …)`` (parameters
    numbered from ``offset + 1``), and for each column in order: its key, its bind
    processor and its Python-side default.

    One text whatever the number of rows: each connection prepares it once, where a
    multi-row ``VALUES`` is a new statement for every row count (parsed and planned
    again, its plan as large as the rows). JSON travels as text arrays and is cast back
    (the driver's JSON codec works on single values)."""
    columns = list(table.columns)
    preparer = dialect.identifier_preparer
    arrays, selected = [], []
    for index, column in enumerate(columns, start=1):
        sql_type = column.type.dialect_impl(dialect)
        name = sql_type.compile(dialect=dialect)
        if isinstance(sql_type, JSON):
            arrays.append(f"${offset + index}::text[]")
            selected.append(f"v{index}::{name}")
        else:
            arrays.append(f"${offset + index}::{name}[]")
            selected.append(f"v{index}")
    sql = (
        f"INSERT INTO {preparer.format_table(table)} "
        f"({', '.join(preparer.format_column(c) for c in columns)}) "
        f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) "
        f"AS u({', '.join(f'v{i}' for i in range(1, len(columns) + 1))})"
        + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    plan = tuple(
        (c.key, c.type.dialect_impl(dialect).bind_processor(dialect), c.default) for c in columns
    )
    return sql, plan


def _insert_module(dialect_name: str) -> Any:
    """The dialect whose ``insert()`` has ``on_conflict_do_nothing``, imported when first
    needed: the PostgreSQL dialect costs ≈ 2.4 MB and a SQLite node never uses it."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql
    from sqlalchemy.dialects import sqlite

    return sqlite


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
                self._pending.extend(self._insert(item))

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

    def _insert(self, item: Insert) -> list[Step]:
        """Column by column (list comprehensions, not a branch per cell): this runs for
        every row the inbox stores. The rows go in multi-row INSERTs (``_chunks``)."""
        columns_sql, plan = _sqlite_insert(item.table, self.dialect, item.ignore_conflicts)
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
        records = list(zip(*columns, strict=True))
        steps: list[Step] = []
        start = 0
        for size in _chunks(len(records), _MAX_VARIABLES // len(plan)):
            flat = [value for record in records[start : start + size] for value in record]
            steps.append((columns_sql.values(size), [tuple(flat)]))
            start += size
        return steps


async def _session_driver(db: AsyncSession) -> Any:
    connection = await db.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _ready(driver: Any) -> Any:
    return driver


#: Bound parameters one statement may carry (SQLite's default limit; 999 before 3.32).
_MAX_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


def _chunks(count: int, most: int) -> list[int]:
    """Row counts of the INSERTs that write ``count`` rows: powers of two, largest first
    (61 rows: 32, 16, 8, 4, 1), so that few distinct statements are ever prepared.

    One INSERT of many rows rather than ``executemany`` of a one-row INSERT: SQLite
    gives each statement that may fail half-way (``posts`` has a trigger and eight
    indexes) a statement journal, which it spills to a temporary file beyond 64 KiB,
    and one per row cost ≈ 16 writes per stored post.
    """
    sizes = []
    most = max(1, most)
    while count:
        size = min(most, 1 << (count.bit_length() - 1))
        sizes.append(size)
        count -= size
    return sizes


@dataclass(frozen=True)
class _InsertSql:
    """``INSERT INTO table (columns) VALUES`` with as many row groups as asked for."""

    head: str
    row: str
    tail: str

    @functools.lru_cache(maxsize=256)  # noqa: B019 - a few dozen tables, kept for the process
    def values(self, rows: int) -> str:
        return self.head + ", ".join([self.row] * rows) + self.tail


@functools.lru_cache(maxsize=64)
def _sqlite_insert(
    table: Table, dialect: Dialect, ignore_conflicts: bool
) -> tuple[_InsertSql, tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]]:
    """The INSERT of every column of ``table``, and for each column in order: its key,
    its bind processor (what Core applies to a value before the driver sees it: JSON
    columns go through the engine's serializer, node/db/json_text.py) and its Python-side
    default."""
    columns = list(table.columns)
    preparer = dialect.identifier_preparer
    sql = _InsertSql(
        f"INSERT INTO {preparer.format_table(table)} "
        f"({', '.join(preparer.format_column(c) for c in columns)}) VALUES ",
        f"({', '.join('?' * len(columns))})",
        " ON CONFLICT DO NOTHING" if ignore_conflicts else "",
    )
    plan = tuple(
        (c.key, c.type.dialect_impl(dialect).bind_processor(dialect), c.default) for c in columns
    )
    return sql, plan
