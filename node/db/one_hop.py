"""Running a request's reads as one function, in one hand-off to the database driver.

Through SQLAlchemy's asyncio layer, every statement on SQLite is three or four hand-offs
to aiosqlite's thread and back (cursor, execute, fetch, close) — with the ORM, 0.3 to
0.5 ms of CPU before SQLite does any work, against ≈ 10 µs for the same statement on the
``sqlite3`` module. A timeline page needs a dozen small statements, each depending on the
one before (the page's posts, then their authors, mentions, the viewer's favourites...),
so batching independent statements (``node.batch_io``) is not enough: here the whole
sequence is a plain function ``fn(reads)`` that ``one_hop`` runs on aiosqlite's thread,
next to its ``sqlite3`` connection. On other databases it runs through the session
(``AsyncSession.run_sync``), one statement at a time, with the same results.

Statements are ordinary SQLAlchemy Core ``select()``s, built once at import time (their
compiled SQL is cached per statement and dialect); ``reads.all(stmt, params)`` returns
plain tuples converted by the selected columns' own types — JSON decoded, UTC datetimes,
booleans — as the ORM would hand them over. A list parameter (``bindparam(...,
expanding=True)``) becomes an ``IN`` list; an empty one matches nothing (do not use it
with ``NOT IN``).

Inside ``fn`` nothing but ``reads`` may touch the database, and ORM objects passed in
must have their attributes loaded (a lazy load cannot run on the driver's thread).
The session's pending changes are flushed first, as the ORM's autoflush would, so ``fn``
sees the transaction's writes.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import JSON, Boolean, Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from node.batch_io import is_aiosqlite
from node.db.types import UTCDateTime

T = TypeVar("T")
Row = tuple[Any, ...]
_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
_NO_PARAMS: Mapping[str, Any] = {}


class Reads(Protocol):
    def all(self, stmt: Select[Any], params: Mapping[str, Any] = _NO_PARAMS) -> list[Row]:
        """Every row of ``stmt``, each a tuple of typed values."""
        ...


async def one_hop(db: AsyncSession | AsyncConnection, fn: Callable[[Reads], T]) -> T:
    """``fn(reads)`` in ``db``'s transaction: on aiosqlite in one hand-off to its thread,
    elsewhere through the session or connection. A plain ``AsyncConnection`` (``async with
    node.read_engine.connect()``) costs ≈ 0.25 ms less CPU than opening and closing an
    ORM session, for requests that need nothing else from one."""
    if isinstance(db, AsyncSession):
        if db.new or db.dirty or db.deleted:
            await db.flush()
        connection = await db.connection()
    else:
        connection = db
    if is_aiosqlite(connection.engine):
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        sync = connection.sync_connection
        observed = sync is not None and bool(
            sync.dispatch.before_cursor_execute or sync.dispatch.after_cursor_execute
        )
        reads = SqliteReads(driver._conn, connection.dialect, sync if observed else None)
        result: T = await driver._execute(fn, reads)
        return result
    if isinstance(db, AsyncSession):
        return await db.run_sync(lambda session: fn(SessionReads(session)))
    return await db.run_sync(lambda sync_connection: fn(SessionReads(sync_connection)))


class SessionReads:
    """Each statement through the (sync face of the) session or connection."""

    def __init__(self, executor: Session | Connection) -> None:
        self.executor = executor

    def all(self, stmt: Select[Any], params: Mapping[str, Any] = _NO_PARAMS) -> list[Row]:
        return [tuple(row) for row in self.executor.execute(stmt, dict(params))]


@dataclass(frozen=True)
class _Compiled:
    """A statement's SQL for ``sqlite3``, its parameters in order (name, whether a list,
    the value bound in the statement itself, bind processor) and its rows' converter."""

    sql: str
    params: tuple[tuple[str, bool, Any, Callable[[Any], Any] | None], ...]
    convert: Callable[[list[Row]], list[Row]] | None


@functools.lru_cache(maxsize=256)
def _compile(stmt: Select[Any], dialect: Dialect) -> _Compiled:
    compiled = stmt.compile(dialect=dialect)
    params = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        value = None if bind.callable is not None else bind.value
        params.append((name, bool(bind.expanding), value, process))
    types = [column.type for column in stmt.selected_columns]
    return _Compiled(compiled.string, tuple(params), _row_converter(types, dialect))


def _row_converter(types: list[Any], dialect: Dialect) -> Callable[[list[Row]], list[Row]] | None:
    """A function turning the driver's rows into typed rows, written for these columns
    (None when no column needs converting): one list comprehension whose element spells
    out each column's conversion, instead of a loop over the columns for every row — a
    page converts a few thousand values.

    Each column gets its type's own result processor, except on SQLite for the three a
    page runs hundreds of times, written out with the same results: booleans
    (``bool``, as SQLAlchemy's ``int_to_boolean``), ``UTCDateTime`` (``fromisoformat``,
    then UTC, as ``DateTime`` then ``UTCDateTime.process_result_value``) and JSON
    (``json.loads``; ``[]`` without parsing; numbers as they come, as SQLAlchemy's SQLite
    JSON type does); NULL stays None without a call."""
    namespace: dict[str, Any] = {}
    parts = []
    for index, type_ in enumerate(types):
        value = f"r[{index}]"
        fast = None
        if dialect.name == "sqlite":
            if isinstance(type_, UTCDateTime):
                fast = "utc_datetime"
            elif isinstance(type_, JSON):
                fast = "json_value"
            elif isinstance(type_.dialect_impl(dialect), Boolean):
                fast = "bool"
        if fast is not None:
            parts.append(f"(None if {value} is None else {fast}({value}))")
            continue
        process = type_.dialect_impl(dialect).result_processor(dialect, None)
        if process is None:
            parts.append(value)
        else:
            namespace[f"p{index}"] = process
            parts.append(f"p{index}({value})")
    if not namespace and all(p.startswith("r[") for p in parts):
        return None
    namespace.update(utc_datetime=_sqlite_utc_datetime, json_value=_sqlite_json)
    source = f"lambda rows: [({', '.join(parts)},) for r in rows]"
    # Only column indices and the names above go into the source.
    converter: Callable[[list[Row]], list[Row]] = eval(source, namespace)
    return converter


def _sqlite_utc_datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _sqlite_json(value: Any) -> Any:
    if value == "[]":
        return []
    if isinstance(value, (int, float)):
        return value
    return json.loads(value)


class SqliteReads:
    """Statements straight on the ``sqlite3`` connection, from aiosqlite's thread."""

    def __init__(
        self, conn: sqlite3.Connection, dialect: Dialect, observed: Connection | None = None
    ) -> None:
        self.conn = conn
        self.dialect = dialect
        #: set when listeners watch the engine's statements (tests counting them, the
        #: benchmarks' SQL statistics): they are told of these statements too.
        self.observed = observed

    def all(self, stmt: Select[Any], params: Mapping[str, Any] = _NO_PARAMS) -> list[Row]:
        compiled = _compile(stmt, self.dialect)
        values: list[Any] = []
        sizes: dict[str, int] = {}
        for name, expanding, bound, process in compiled.params:
            value = params[name] if name in params else bound
            if expanding:
                items = list(value)
                sizes[name] = len(items)
                values.extend(items if process is None else [process(v) for v in items])
            else:
                values.append(value if process is None else process(value))
        sql = compiled.sql
        if sizes:
            sql = _POSTCOMPILE.sub(lambda m: ", ".join("?" * sizes[m.group(1)]) or "NULL", sql)
        observed = self.observed
        if observed is not None:
            for listener in observed.dispatch.before_cursor_execute:
                listener(observed, None, sql, values, None, False)
        rows = self.conn.execute(sql, values).fetchall()
        if observed is not None:
            for listener in observed.dispatch.after_cursor_execute:
                listener(observed, None, sql, values, None, False)
        convert = compiled.convert
        return rows if convert is None else convert(rows)


def columns_of(entity: Any, leave_out: Sequence[str] = ()) -> tuple[Any, ...]:
    """The mapped columns of a model, in table order, less ``leave_out``."""
    return tuple(
        getattr(entity, column.key)
        for column in entity.__table__.columns
        if column.key not in leave_out
    )
