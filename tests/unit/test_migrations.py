"""The schema the models describe is the schema the migrations build."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from node.db.engine import make_engine
from node.db.migrate import HEAD_REVISION, alembic_head, current_revision, upgrade
from node.db.models import Base


def test_head_constant_matches_alembic():
    assert alembic_head() == HEAD_REVISION


async def test_migrations_match_models(tmp_path: Path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", writer=True)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == HEAD_REVISION
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
        assert diff == []
    finally:
        await engine.dispose()
