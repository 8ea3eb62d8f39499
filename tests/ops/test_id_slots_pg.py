"""On PostgreSQL every live process of a node holds an id slot no other holds
(node/events_pg.py claims it, node/db/ids.py puts it in the low bits of every id)."""

from __future__ import annotations

import asyncpg

from node.db import ids
from node.events import EventBus
from node.events_pg import SLOT_LOCK_KEY, PgEventRelay, asyncpg_dsn, claim_id_slot
from tests.harness import create_test_database, drop_test_database
from tests.ops.cli_process import needs_postgres


@needs_postgres
async def test_sessions_claim_distinct_slots_and_a_closed_one_frees_its_slot() -> None:
    url = await create_test_database()
    dsn = asyncpg_dsn(url)
    connections: list[asyncpg.Connection] = []
    try:
        # Given three processes (sessions) that all prefer slot 4
        for _ in range(3):
            connections.append(await asyncpg.connect(dsn))
        slots = [await claim_id_slot(c, 4) for c in connections]
        # Then each holds its own
        assert slots == [4, 5, 6]
        # And when one ends, the next process gets its slot back
        await connections.pop(0).close()
        connections.append(await asyncpg.connect(dsn))
        assert await claim_id_slot(connections[-1], 4) == 4
        # And when every slot is held (here by one session: few connections on a shared
        # server), the claim says so instead of sharing one
        await connections[0].execute(
            "SELECT pg_try_advisory_lock($1, s) FROM generate_series(0, $2) AS s",
            SLOT_LOCK_KEY,
            ids.SLOTS - 1,
        )
        connections.append(await asyncpg.connect(dsn))
        assert await claim_id_slot(connections[-1], 0) is None
    finally:
        for connection in connections:
            await connection.close()
        await drop_test_database(url)


@needs_postgres
async def test_a_relay_holds_the_slot_its_process_makes_ids_with() -> None:
    url = await create_test_database()
    dsn = asyncpg_dsn(url)
    other = await asyncpg.connect(dsn)
    relay = PgEventRelay(dsn, EventBus())
    try:
        # Given another process already holding this process's preferred slot
        assert await claim_id_slot(other, ids.process_slot()) == ids.process_slot()
        taken = ids.process_slot()
        # When this process's relay starts
        await relay.start()
        # Then it made its ids with another slot, which its session holds
        assert ids.process_slot() != taken
        assert ids.id_slot(ids.new_id()) == ids.process_slot()
        held = await other.fetch(
            "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1"
            " AND granted AND pid <> pg_backend_pid()"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            SLOT_LOCK_KEY,
        )
        assert [row["objid"] for row in held] == [ids.process_slot()]
    finally:
        await relay.close()
        await other.close()
        await drop_test_database(url)
