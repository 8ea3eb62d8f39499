"""Database engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from node.db import json_text


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; NORMAL is durable across
    # application crashes (only an OS crash can lose the last transactions).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _begin_immediate).
    dbapi_connection.isolation_level = None


def _begin_immediate(conn: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY
    # when another writer got in between; taking the write lock up front makes writers
    # queue on busy_timeout instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(database_url: str, *, writer: bool = False, **kwargs: Any) -> AsyncEngine:
    """``writer=True`` on SQLite gives the single write connection of the process.

    SQLite has one writer at a time; funnelling this process's writes through one
    connection with BEGIN IMMEDIATE removes lock-upgrade failures, while reads use their
    own pool and run beside it thanks to WAL.
    """
    kwargs.setdefault("json_serializer", json_text.dumps)
    if database_url.startswith("sqlite"):
        if writer:
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 120)
        engine = create_async_engine(database_url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if writer:
            event.listen(engine.sync_engine, "connect", _sqlite_autocommit_driver)
            event.listen(engine.sync_engine, "begin", _begin_immediate)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # Last in, first out: the few connections a steady load needs stay the ones in use,
    # with their prepared statements and type codecs (asyncpg keeps them per connection);
    # a FIFO pool rotates through all of them, each preparing everything again.
    kwargs.setdefault("pool_use_lifo", True)
    engine = create_async_engine(database_url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine)
    return engine


#: A pooled PostgreSQL connection returned longer ago than this is checked before it is
#: handed out again; one in use moments ago is trusted.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check connections that sat idle, not every checkout.

    SQLAlchemy's ``pool_pre_ping`` checks each checkout, and on asyncpg a check outside a
    transaction is three statements (BEGIN, an empty query, ROLLBACK): under load, with a
    transaction per request or per inbox batch, that was most of the statements the
    server ran besides the work itself. A connection that died while idle (server
    restart, a proxy's idle timeout) is still caught before use; one that dies within
    seconds of its last use fails its transaction once and is replaced, as one dying just
    after a check would.
    """
    sync_engine = engine.sync_engine

    def returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        at = record.info.get("returned_at")
        if at is not None and time.monotonic() - at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool drops it and hands out a fresh connection
            raise DisconnectionError(f"pooled connection lost: {exc}") from exc

    event.listen(sync_engine, "connect", returned)
    event.listen(sync_engine, "checkin", returned)
    event.listen(sync_engine, "checkout", checkout)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
