"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(db: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: fan-out and idempotent writes must not fail on
    a row that is already there."""
    if not rows:
        return
    if db.bind.dialect.name == "postgresql":
        # Imported here: a SQLite node need not load the PostgreSQL dialect (≈ 2.4 MB).
        from sqlalchemy.dialects import postgresql

        await db.execute(postgresql.insert(table).on_conflict_do_nothing(), list(rows))
        return
    await db.execute(sqlite.insert(table).on_conflict_do_nothing(), list(rows))
