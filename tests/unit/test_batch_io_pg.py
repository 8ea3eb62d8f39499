"""What node/batch_io.py sends to PostgreSQL (``pg_transaction``) is what SQLAlchemy Core
would store: one ``INSERT … SELECT FROM unnest(arrays)`` per table, ``IN :list`` as
``= ANY($n)``, and a failing block leaves nothing behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from node.batch_io import Insert, Query, Statement, pg_transaction
from node.db.engine import make_engine
from tests.harness import POSTGRES_ADMIN_URL, create_test_database, drop_test_database

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="set CERCLE_TEST_POSTGRES to run the PostgreSQL tests"
)

METADATA = MetaData()
ITEMS = Table(
    "items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("to", String(50), nullable=False),  # a reserved word, as posts.to is
    Column("doc", JSON, nullable=True),
    Column("tags", JSON, nullable=False, default=list),
    Column("flag", Boolean, nullable=True),
    Column("ratio", Float, nullable=True),
    Column("at", DateTime(timezone=True), nullable=True),
)

CHILDREN = Table(
    "children",
    METADATA,
    Column("item_id", ForeignKey("items.id"), primary_key=True),
    Column("note", String(20), nullable=False),
)

NOW = datetime(2026, 11, 28, 4, 30, tzinfo=UTC)
DOCS: list[Any] = [
    [],
    {},
    ["https://www.w3.org/ns/activitystreams#Public"],
    {"content": '<p>é "quoted" \\ back</p>', "n": 1.5, "none": None, "ok": True},
    None,
    "a plain string",
    3,
]


def rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "to": f"n{i}",
            "doc": DOCS[i % len(DOCS)],
            "flag": [True, False, None][i % 3],
            "ratio": None if i % 4 == 0 else i / 7,
            "at": None if i % 5 == 0 else NOW + timedelta(seconds=i),
        }
        | ({"tags": ["t", str(i)]} if i % 2 else {})
        for i in range(count)
    ]


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    url = await create_test_database()
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        yield engine
    finally:
        await engine.dispose()
        await drop_test_database(url)


async def test_a_batch_stores_every_row_as_core_would(engine: AsyncEngine) -> None:
    # Given 61 rows written through a batch transaction
    written = rows(61)
    async with pg_transaction(engine) as io:
        io.write([Insert(ITEMS, written)])
        (counted,) = await io.fetch([Query("SELECT count(*) FROM items")])
    assert counted == [(61,)]
    # When the same rows go in through Core, one by one
    async with engine.connect() as conn:
        stored = [tuple(r) for r in await conn.execute(select(ITEMS).order_by(ITEMS.c.id))]
        await conn.execute(ITEMS.delete())
        for row in written:
            await conn.execute(insert(ITEMS).values(row))
        by_core = [tuple(r) for r in await conn.execute(select(ITEMS).order_by(ITEMS.c.id))]
        await conn.rollback()
    # Then both hold the same values (JSON null as Core stores it, defaults filled in)
    assert stored == by_core


async def test_lists_become_arrays_and_statements_run_per_parameter_set(
    engine: AsyncEngine,
) -> None:
    async with pg_transaction(engine) as io:
        io.write([Insert(ITEMS, rows(10))])
        io.write(
            [
                Statement(
                    'UPDATE items SET "to" = :name WHERE id = :id AND :id > 0',
                    [{"name": "first", "id": 1}, {"name": "second", "id": 2}],
                )
            ]
        )
        some, none, others, all_of_them, named, later = await io.fetch(
            [
                Query("SELECT id FROM items WHERE id IN :ids ORDER BY id", {"ids": [3, 1, 99]}),
                Query("SELECT id FROM items WHERE id IN :ids", {"ids": []}),
                Query("SELECT count(*) FROM items WHERE id NOT IN :ids", {"ids": [1, 2]}),
                Query("SELECT count(*) FROM items WHERE id not in :ids", {"ids": ()}),
                Query(
                    'SELECT "to" FROM items WHERE "to" IN :names ORDER BY id',
                    {"names": {"first", "second", "n3"}},
                ),
                Query(
                    "SELECT count(*) FROM items WHERE at > :when",
                    {"when": NOW + timedelta(seconds=6)},
                    {"when": DateTime(timezone=True)},
                ),
            ]
        )
    assert some == [(1,), (3,)]
    assert none == []
    assert others == [(8,)]
    assert all_of_them == [(10,)]
    assert named == [("first",), ("second",), ("n3",)]
    assert later == [(3,)]  # rows 7, 8 and 9


async def test_a_failing_block_rolls_everything_back(engine: AsyncEngine) -> None:
    with pytest.raises(RuntimeError):
        async with pg_transaction(engine) as io:
            io.write([Insert(ITEMS, rows(5))])
            await io.flush()
            raise RuntimeError("the handler failed")
    # And a duplicate key fails at the end of the block, also leaving nothing
    with pytest.raises(Exception, match="duplicate key"):
        async with pg_transaction(engine) as io:
            io.write([Insert(ITEMS, rows(3) + rows(1))])
    async with engine.connect() as conn:
        assert (await conn.execute(select(ITEMS.c.id))).all() == []


async def test_a_connection_lost_mid_batch_is_not_handed_out_again(engine: AsyncEngine) -> None:
    """The server ends the session under a batch (restart, admin kill): the batch fails,
    and the next one gets a working connection, not the dead one back from the pool."""
    with pytest.raises(Exception):  # noqa: B017 - asyncpg's, whichever it raises
        async with pg_transaction(engine) as io:
            (pid,) = (await io.fetch([Query("SELECT pg_backend_pid()")]))[0]
            async with engine.connect() as other:
                await other.exec_driver_sql(f"SELECT pg_terminate_backend({pid[0]})")
            await io.fetch([Query("SELECT 1")])
    async with pg_transaction(engine) as io:
        io.write([Insert(ITEMS, rows(2))])
        (counted,) = await io.fetch([Query("SELECT count(*) FROM items")])
    assert counted == [(2,)]


async def test_a_full_pool_closes_the_batch_connection_cleanly() -> None:
    """A batch's connection returned to a pool that has filled up meanwhile (PostgreSQL's
    overflow connections) is closed, not leaked with an error in the log."""
    url = await create_test_database()
    engine = make_engine(url, pool_size=1, max_overflow=1)
    try:
        async with pg_transaction(engine) as io:
            (pid,) = (await io.fetch([Query("SELECT pg_backend_pid()")]))[0]
            async with engine.connect() as other:  # the overflow one, back in the pool first
                await other.exec_driver_sql("SELECT 1")
        alive = 1
        for _ in range(50):  # the server process ends moments after the client closes
            async with engine.connect() as conn:
                found = await conn.exec_driver_sql(
                    f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid[0]}"
                )
                alive = found.scalar()
            if not alive:
                break
            await asyncio.sleep(0.1)
        assert alive == 0
    finally:
        await engine.dispose()
        await drop_test_database(url)


async def test_inserts_into_several_tables_go_as_one_statement(engine: AsyncEngine) -> None:
    """Rows and the rows that refer to them, written together: the foreign key holds
    (checked at the end of the one statement), and a repeated table starts another."""
    async with pg_transaction(engine) as io:
        io.write(
            [
                Insert(ITEMS, rows(3)),
                Insert(CHILDREN, [{"item_id": 0, "note": "a"}, {"item_id": 2, "note": "b"}]),
                Insert(CHILDREN, [{"item_id": 0, "note": "again"}], ignore_conflicts=True),
                Insert(ITEMS, []),
            ]
        )
        (children,) = await io.fetch([Query("SELECT item_id, note FROM children ORDER BY 1")])
    assert children == [(0, "a"), (2, "b")]
    # And a child without its parent fails the whole statement: nothing is stored
    with pytest.raises(Exception, match="foreign key"):
        async with pg_transaction(engine) as io:
            io.write([Insert(ITEMS, rows(5)[4:]), Insert(CHILDREN, [{"item_id": 9, "note": "x"}])])
    async with engine.connect() as conn:
        assert (await conn.execute(select(ITEMS.c.id).order_by(ITEMS.c.id))).all() == [
            (0,),
            (1,),
            (2,),
        ]
