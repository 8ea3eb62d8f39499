"""Live events across processes on PostgreSQL: ``NOTIFY`` out, ``LISTEN`` in.

When web and workers run apart (or several ``cercle serve`` share a database), an event
queued by one process must reach the streaming clients connected to another. Each process
keeps its in-process :class:`~node.events.EventBus`; this relay sends every event it
publishes on one ``NOTIFY`` channel and publishes what the other processes sent. A
process skips its own notifications (it has already published them locally).

Events are sent after the transaction that queued them committed, so a listener never
hears of a row it cannot read. NOTIFY is best effort like the in-process bus: a process
that loses its connection reconnects and misses what was said meanwhile; streaming
clients catch up by reading their timelines, as they do after any reconnect.

The same connection holds the process's id slot (node/db/ids.py): a session advisory lock
on one of ``ids.SLOTS`` keys, so no two live processes of a database make ids with the
same low bits. It is claimed again after a reconnect (the lock went with the old
session; the previous slot is preferred). Should every slot be held, the process keeps
its pid-derived slot and says so in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from node.db import ids
from node.events import Event, EventBus

if TYPE_CHECKING:
    import asyncpg  # imported when a relay starts: SQLite nodes never load it (≈ 2.5 MB)

log = logging.getLogger(__name__)

CHANNEL = "cercle_events"
#: PostgreSQL refuses payloads of 8,000 bytes or more; stay well under it.
MAX_PAYLOAD = 7_000
RECONNECT_SECONDS = 1.0
#: first key of the id-slot advisory locks (the second is the slot): "cercle ids"
SLOT_LOCK_KEY = 0x43_49_44_53


async def claim_id_slot(connection: asyncpg.Connection, preferred: int) -> int | None:
    """Hold a slot no other session of this database holds (session advisory lock) and
    return it; ``preferred`` first, then the next ones. None if all are held."""
    for step in range(ids.SLOTS):
        slot = (preferred + step) % ids.SLOTS
        if await connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", SLOT_LOCK_KEY, slot):
            return slot
    return None


def asyncpg_dsn(database_url: str) -> str:
    """The plain ``postgresql://`` DSN asyncpg takes, from the node's SQLAlchemy URL."""
    scheme, _, rest = database_url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else database_url


def encode(origin: str, events: Iterable[Event]) -> list[str]:
    """Payloads of at most ``MAX_PAYLOAD`` bytes, each ``{"o": origin, "e": [[k, s, id]…]}``.

    Each event is serialised once and the payloads are joined from those pieces: an
    inbox batch queues several events per stored post, and serialising each twice (once
    to measure it, once in its payload) showed in the web process's profile."""
    head = '{"o":' + json.dumps(origin) + ',"e":['
    payloads: list[str] = []
    batch: list[str] = []
    size = len(head) + 2
    for event in events:
        item = json.dumps([event.kind, event.stream, event.object_id], separators=(",", ":"))
        if batch and size + len(item) + 1 > MAX_PAYLOAD:
            payloads.append(head + ",".join(batch) + "]}")
            batch, size = [], len(head) + 2
        batch.append(item)
        size += len(item) + 1
    if batch:
        payloads.append(head + ",".join(batch) + "]}")
    return payloads


def decode(payload: str) -> tuple[str, list[Event]]:
    """(origin, events); raises ValueError on a payload that is not ours."""
    data = json.loads(payload)
    if not isinstance(data, dict) or not isinstance(data.get("e"), list):
        raise ValueError("not a cercle event payload")
    events = [Event(str(k), str(s), int(i)) for k, s, i in data["e"]]
    return str(data.get("o", "")), events


class PgEventRelay:
    """One LISTEN connection per process; it also sends (one statement at a time)."""

    def __init__(self, dsn: str, bus: EventBus) -> None:
        self.dsn = dsn
        self.bus = bus
        self.origin = uuid.uuid4().hex
        #: how this process's own payloads begin (see ``encode``): skipped unparsed
        self._own = '{"o":' + json.dumps(self.origin) + ","
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=10_000)
        self._connection: asyncpg.Connection | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect and listen before returning, so no event sent after start is missed."""
        await self._connect()
        self.bus.forward = self.send
        self._task = asyncio.create_task(self._run(), name="pg-event-relay")

    async def close(self) -> None:
        if self.bus.forward == self.send:
            self.bus.forward = None
        if self._task is not None:
            # Flush what was queued before stopping: a shutdown should not drop events.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drain(), timeout=2)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    def send(self, events: list[Event]) -> None:
        for payload in encode(self.origin, events):
            if self._outbox.full():
                self._outbox.get_nowait()  # like the bus: the oldest is dropped first
                self._outbox.task_done()
            self._outbox.put_nowait(payload)

    async def _drain(self) -> None:
        await self._outbox.join()

    async def _connect(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.dsn)
        slot = await claim_id_slot(connection, ids.process_slot())
        if slot is None:
            log.warning(
                "all %d id slots are held by other processes: keeping slot %d (ids may collide)",
                ids.SLOTS,
                ids.process_slot(),
            )
        else:
            ids.set_process_slot(slot)
        await connection.add_listener(CHANNEL, self._received)
        connection.add_termination_listener(lambda _c: self._connected.clear())
        self._connection = connection
        self._connected.set()

    def _received(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload.startswith(self._own):  # already published here
            return
        try:
            origin, events = decode(payload)
        except (ValueError, TypeError) as exc:
            log.warning("ignored a malformed event notification: %s", exc)
            return
        if origin == self.origin:
            return
        for event in events:
            self.bus.publish(event)  # local only: never forwarded again

    async def _run(self) -> None:
        import asyncpg

        while True:
            try:
                payload: str | None = await asyncio.wait_for(self._outbox.get(), timeout=5)
            except TimeoutError:
                payload = None  # idle: still make sure a lost listener comes back
            while True:
                try:
                    if not self._connected.is_set() or self._connection is None:
                        await self._connect()
                    assert self._connection is not None
                    if payload is not None:
                        await self._connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
                        self._outbox.task_done()
                    break
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("event relay lost PostgreSQL (%s); reconnecting", exc)
                    self._connected.clear()
                    await asyncio.sleep(RECONNECT_SECONDS)


async def start_relay(database_url: str, bus: EventBus) -> PgEventRelay | None:
    """The relay for a node on PostgreSQL; None on SQLite, where one process serves all."""
    if not database_url.startswith("postgres"):
        return None
    relay = PgEventRelay(asyncpg_dsn(database_url), bus)
    await relay.start()
    return relay
