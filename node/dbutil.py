"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_ignore(db: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING: fan-out and idempotent writes must not fail on
    a row that is already there."""
    if not rows:
        return
    dialect = db.bind.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    await db.execute(module.insert(table).on_conflict_do_nothing(), list(rows))
