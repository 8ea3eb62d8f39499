"""The CPU cost of one SQL statement through each layer the node stacks on SQLite.

The inbox profile shows a node bound by per-statement overhead rather than by SQLite, so
this measures the layers one by one on the same one-row primary-key lookup, pinned to one
core, in CPU microseconds per statement:

1. ``sqlite3`` directly — the physical limit;
2. ``aiosqlite`` — every call is a hop to the connection's thread and back through the
   event loop (execute, fetch and close: three hops, as SQLAlchemy's adapter makes them);
3. SQLAlchemy Core on the async engine — ``await conn.execute(select(...))``;
4. SQLAlchemy ORM on an ``AsyncSession`` — ``await session.scalar(select(Model)...)``,
   the way node/ issues most of its statements: once in a session already open (as
   inside a transaction), once with a fresh session per lookup (as node/ reads).

Run alone: ``.venv/bin/python -m bench.sql_roundtrip``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bench.common import SERVER_CPU, Figure, format_table, machine_line, pinned

ROUNDS = 2_000


class Base(DeclarativeBase):
    pass


class Item(Base):
    """A one-row table: the lookup costs SQLite almost nothing, the layers everything."""

    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


async def cpu_per_call(call: Callable[[], Awaitable[object]], rounds: int) -> float:
    """CPU microseconds per awaited call (all threads of the process), after a warm-up."""
    for _ in range(rounds // 10):
        await call()
    start = time.process_time()
    for _ in range(rounds):
        await call()
    return 1e6 * (time.process_time() - start) / rounds


def direct(path: Path, rounds: int) -> float:
    conn = sqlite3.connect(path)
    start = time.process_time()
    for _ in range(rounds * 10):
        conn.execute("SELECT id, name FROM items WHERE id = ?", (1,)).fetchall()
    spent = time.process_time() - start
    conn.close()
    return 1e6 * spent / (rounds * 10)


async def layered(path: Path, rounds: int) -> tuple[float, float, float, float]:
    async with aiosqlite.connect(path) as db:

        async def raw() -> None:
            cursor = await db.execute("SELECT id, name FROM items WHERE id = ?", (1,))
            await cursor.fetchall()
            await cursor.close()

        via_aiosqlite = await cpu_per_call(raw, rounds)

    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    query = select(Item.id, Item.name).where(Item.id == 1)
    async with engine.connect() as conn:

        async def core() -> None:
            (await conn.execute(query)).all()

        via_core = await cpu_per_call(core, rounds)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def orm() -> None:
        async with sessions() as session:
            await session.scalar(select(Item).where(Item.id == 1))

    via_orm = await cpu_per_call(orm, rounds)
    async with sessions() as session:

        async def orm_in_session() -> None:
            await session.scalar(select(Item).where(Item.id == 1))

        via_orm_open = await cpu_per_call(orm_in_session, rounds)
    await engine.dispose()
    return via_aiosqlite, via_core, via_orm, via_orm_open


def prepare(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))")
    conn.execute("INSERT INTO items VALUES (1, 'one')")
    conn.commit()
    conn.close()


def run(rounds: int = ROUNDS) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="cercle-bench-sql-") as tmp, pinned({SERVER_CPU}):
        path = Path(tmp) / "rt.db"
        prepare(path)
        floor = direct(path, rounds)
        via_aiosqlite, via_core, via_orm, via_orm_open = asyncio.run(layered(path, rounds))
    return [
        Figure(
            "SQL statement via aiosqlite",
            via_aiosqlite,
            "CPU-us/stmt",
            "sqlite3 directly",
            floor,
            note="three thread hops per statement (execute, fetch, close); on one core each "
            "is a GIL hand-off and a context switch",
        ),
        Figure(
            "SQL statement via SQLAlchemy Core (async)",
            via_core,
            "CPU-us/stmt",
            "sqlite3 directly",
            floor,
        ),
        Figure(
            "SQL statement via SQLAlchemy ORM, open session",
            via_orm_open,
            "CPU-us/stmt",
            "sqlite3 directly",
            floor,
            note="one more statement in a session already open, as inside a transaction",
        ),
        Figure(
            "SQL statement via SQLAlchemy ORM, new session",
            via_orm,
            "CPU-us/stmt",
            "sqlite3 directly",
            floor,
            note="a fresh AsyncSession per lookup, as node/ opens one per read",
        ),
    ]


def main() -> None:
    print(machine_line())
    print(format_table(run()))


if __name__ == "__main__":
    main()
