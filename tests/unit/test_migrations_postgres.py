"""On PostgreSQL the suite's nodes start from a copy of one migrated template database
(tests/harness.py), so this test keeps the migrations themselves running from empty there."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from node.db.engine import make_engine
from node.db.migrate import HEAD_REVISION, current_revision, upgrade
from node.db.models import Base
from tests.harness import POSTGRES_ADMIN_URL, create_test_database, drop_test_database

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="set CERCLE_TEST_POSTGRES to run the PostgreSQL tests"
)


async def test_migrations_from_empty_match_models_on_postgres() -> None:
    url = await create_test_database()
    engine = make_engine(url, writer=True)
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
        await drop_test_database(url)
