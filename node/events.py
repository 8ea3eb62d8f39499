"""Live events for streaming clients: what changed, on which stream.

Events carry ids, not rendered entities: a status renders differently for each viewer
(favourited, bookmarked…), so the streaming endpoint renders per subscriber. Services
queue events on the database session (``queue_event``); they are published only after
the transaction commits, so a client never hears of a row it cannot read yet.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

EVENTS_KEY = "cercle_events"
QUEUE_LIMIT = 1000


class Event(NamedTuple):
    """``kind``: update, delete, notification or status.update; ``stream``: user:ID,
    public, public:local, public:remote, hashtag:TAG, hashtag:local:TAG or list:ID.

    A named tuple, immutable like the frozen dataclass it was and several times cheaper
    to build: the inbox queues four or five per received post."""

    kind: str
    stream: str
    object_id: int


def queue_event(db: AsyncSession, kind: str, stream: str, object_id: int) -> None:
    db.info.setdefault(EVENTS_KEY, []).append(Event(kind, stream, object_id))


def take_events(db: AsyncSession) -> list[Event]:
    return db.info.pop(EVENTS_KEY, [])


class EventBus:
    """In-process fan-out to subscribers. A subscriber too slow to keep up loses its
    oldest events rather than growing memory without bound."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
        #: set on PostgreSQL to carry events to the node's other processes
        #: (node/events_pg.py); SQLite's single process needs nothing more
        self.forward: Callable[[list[Event]], None] | None = None

    def publish(self, event: Event) -> None:
        for queue in list(self._subscribers.get(event.stream, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(event)

    def publish_all(self, events: list[Event]) -> None:
        for event in events:
            self.publish(event)
        if events and self.forward is not None:
            self.forward(events)

    @asynccontextmanager
    async def subscribe(self, streams: list[str]) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_LIMIT)
        for stream in streams:
            self._subscribers[stream].add(queue)
        try:
            yield queue
        finally:
            for stream in streams:
                subscribers = self._subscribers.get(stream)
                if subscribers is not None:
                    subscribers.discard(queue)
                    if not subscribers:
                        del self._subscribers[stream]

    def subscriber_count(self, stream: str) -> int:
        return len(self._subscribers.get(stream, ()))
