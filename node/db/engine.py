"""Database engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


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
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(database_url, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
