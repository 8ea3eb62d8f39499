"""Time-sortable 64-bit ids, like Mastodon's snowflakes.

Upper 48 bits: milliseconds since the Unix epoch; lower 16 bits: a sequence. Within one
process ids are strictly increasing; the sequence starts at a random point each
millisecond so that several processes writing at once rarely collide (the unique
constraint catches the rest). ``max_id``/``since_id`` paging is then an index range scan.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from datetime import UTC, datetime

_lock = threading.Lock()
_last = [0]
_counter = [secrets.randbelow(1 << 16)]


def new_id(at: datetime | None = None) -> int:
    """A fresh id; ``at`` places remote objects by their publication time.

    Peers often give ``published`` to the second, so many remote posts share a
    millisecond: their low bits come from a per-process counter (65,536 distinct ids per
    millisecond) rather than from chance, which would collide by the birthday bound.
    """
    if at is not None:
        with _lock:
            _counter[0] = (_counter[0] + 1) & 0xFFFF
            sequence = _counter[0]
        return (int(at.timestamp() * 1000) << 16) | sequence
    # Not a secret, only a spread between processes: the module PRNG (reseeded after a
    # fork) costs no system call, unlike ``secrets`` (one per notification of the inbox).
    candidate = (int(time.time() * 1000) << 16) | random.getrandbits(12)
    with _lock:
        if candidate <= _last[0]:
            candidate = _last[0] + 1
        _last[0] = candidate
    return candidate


def id_floor(at: datetime) -> int:
    """The smallest id that can have been made at ``at``: used for time-based paging."""
    return int(at.timestamp() * 1000) << 16


def id_time(value: int) -> datetime:
    return datetime.fromtimestamp((value >> 16) / 1000, tz=UTC)
