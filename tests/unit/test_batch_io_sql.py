"""What node/batch_io.py sends to SQLite is what SQLAlchemy Core would: the same JSON
text for JSON columns (its encoder is built once instead of per value), and every row
of a batch, however the rows are cut into multi-row INSERTs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from node.batch_io import Insert, Query, _chunks, _sqlite_insert, sqlite_transaction

METADATA = MetaData()
ITEMS = Table(
    "items",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("doc", JSON, nullable=True),
    Column("tags", JSON, nullable=False, default=list),
)

VALUES: list[Any] = [
    [],
    {},
    ["https://www.w3.org/ns/activitystreams#Public"],
    {"content": '<p>é "quoted" \\ back</p>', "n": 1.5, "none": None, "ok": True},
    [{"type": "Mention", "href": "https://example.com/users/a", "name": "@a"}],
    None,
    "a plain string",
    3,
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_json_columns_get_the_text_core_gives_them(value: Any):
    """The bind processor of a JSON column returns what SQLAlchemy's own returns."""
    engine = create_async_engine("sqlite+aiosqlite://")
    dialect = engine.sync_engine.dialect
    _, plan = _sqlite_insert(ITEMS, dialect, False)
    ours = {key: process for key, process, _ in plan}["doc"]
    core = ITEMS.c.doc.type.dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and core is not None
    assert ours(value) == core(value) == json.dumps(value)


@pytest.mark.parametrize(
    ("count", "most", "sizes"),
    [(1, 100, [1]), (61, 100, [32, 16, 8, 4, 1]), (64, 100, [64]), (64, 20, [20, 20, 16, 8])],
)
def test_rows_are_cut_into_few_distinct_inserts(count: int, most: int, sizes: list[int]):
    assert _chunks(count, most) == sizes
    assert sum(sizes) == count


async def test_a_batch_stores_every_row_as_core_would(tmp_path: Path):
    """Given 61 rows written through a batch transaction and the same rows through Core,
    when both tables are read back, then they hold the same values."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'batch.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        rows = [
            {"id": i, "name": f"n{i}", "doc": VALUES[i % len(VALUES)]}
            | ({"tags": ["t", str(i)]} if i % 2 else {})
            for i in range(61)
        ]
        async with sqlite_transaction(engine) as io:
            io.write([Insert(ITEMS, rows)])
            (counted,) = await io.fetch([Query("SELECT count(*) FROM items")])
        assert counted == [(61,)]
        async with engine.connect() as conn:
            stored = [tuple(r) for r in await conn.execute(select(ITEMS).order_by(ITEMS.c.id))]
            await conn.execute(ITEMS.delete())
            for row in rows:  # one by one: an executemany takes its columns from row 0
                await conn.execute(insert(ITEMS).values(row))
            by_core = [tuple(r) for r in await conn.execute(select(ITEMS).order_by(ITEMS.c.id))]
            await conn.rollback()
        assert stored == by_core
    finally:
        await engine.dispose()
