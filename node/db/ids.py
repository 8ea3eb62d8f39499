"""Time-sortable 64-bit ids, like Mastodon's snowflakes.

Upper 48 bits: milliseconds since the Unix epoch; lower 16 bits: a 10-bit sequence and,
lowest, a 6-bit process slot. ``max_id``/``since_id`` paging is then an index range scan.

Why a slot: several processes (web processes, workers, commands) write to one PostgreSQL
database, and an inbox batch takes many ids in a row. With a random start per millisecond
two processes collided often (``UniqueViolationError`` on ``pk_notifications`` in the
scale-out benchmark), and the group committer then re-applied the whole batch one
activity at a time. Ids that differ in their slot can never be equal, so two live
processes with distinct slots cannot collide, whatever their clocks and counters do.

A process starts with a slot taken from its pid (enough for SQLite's single process and
the odd command beside it); on PostgreSQL the event relay (node/events_pg.py) claims a
slot no other live process holds, by a session advisory lock, and sets it here.

Within one process ids are strictly increasing; past 1,024 ids in a millisecond they
borrow from the next millisecond. Ids placed by a publication time (``at``) take their
sequence from a per-process counter, since many remote posts share a second.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

SLOT_BITS = 6
SEQUENCE_BITS = 10
#: distinct process slots: live processes sharing a database beyond this share slots
SLOTS = 1 << SLOT_BITS
_SLOT_MASK = SLOTS - 1
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1
_TIME_SHIFT = SLOT_BITS + SEQUENCE_BITS  # 16, as ids have always been laid out


def pid_slot(pid: int | None = None) -> int:
    """The slot a process takes before (or without) one assigned by the database."""
    return (os.getpid() if pid is None else pid) & _SLOT_MASK


class IdMaker:
    """The id state of one process: its slot, the last live id, the ``at`` counter."""

    def __init__(self, slot: int) -> None:
        self._lock = threading.Lock()
        self.slot = slot & _SLOT_MASK
        self._last = 0
        self._counter = 0

    def set_slot(self, slot: int) -> None:
        if not 0 <= slot < SLOTS:
            raise ValueError(f"an id slot is between 0 and {SLOTS - 1}, not {slot}")
        with self._lock:
            self.slot = slot

    def new(self, at: datetime | None = None, *, now_ms: int | None = None) -> int:
        """A fresh id; ``at`` places remote objects by their publication time.

        Peers often give ``published`` to the second, so many remote posts share a
        millisecond: their sequence comes from a counter (1,024 distinct ids per
        millisecond and process) rather than from chance, which would collide by the
        birthday bound.
        """
        if at is not None:
            with self._lock:
                self._counter = (self._counter + 1) & _SEQUENCE_MASK
                low = (self._counter << SLOT_BITS) | self.slot
            return (int(at.timestamp() * 1000) << _TIME_SHIFT) | low
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        with self._lock:
            slot = self.slot
            candidate = (ms << _TIME_SHIFT) | slot
            if candidate <= self._last:
                # Next sequence after the last id, with this process's slot in the low
                # bits (the slot may have changed since the last id).
                candidate = (((self._last >> SLOT_BITS) + 1) << SLOT_BITS) | slot
            self._last = candidate
        return candidate


_maker = IdMaker(pid_slot())


def _after_fork() -> None:
    """A forked child is another process: it must not share its parent's slot or
    sequence state."""
    global _maker
    _maker = IdMaker(pid_slot())


os.register_at_fork(after_in_child=_after_fork)


def new_id(at: datetime | None = None) -> int:
    """A fresh id of this process (see :meth:`IdMaker.new`)."""
    return _maker.new(at)


def set_process_slot(slot: int) -> None:
    """This process's slot, claimed from the database (node/events_pg.py)."""
    _maker.set_slot(slot)


def process_slot() -> int:
    return _maker.slot


def id_slot(value: int) -> int:
    """The slot of the process that made ``value`` (ids made after the slot existed)."""
    return value & _SLOT_MASK


def id_floor(at: datetime) -> int:
    """The smallest id that can have been made at ``at``: used for time-based paging."""
    return int(at.timestamp() * 1000) << _TIME_SHIFT


def id_time(value: int) -> datetime:
    return datetime.fromtimestamp((value >> _TIME_SHIFT) / 1000, tz=UTC)
