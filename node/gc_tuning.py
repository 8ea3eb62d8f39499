"""Garbage-collector settings for a serving process.

A node keeps about 100,000 long-lived objects from start-up (modules, SQLAlchemy's
mappers, aiohttp's router, pyld's contexts) and then allocates short-lived ones per
request that reference counting frees. With CPython's default thresholds the collector
still runs every 700 net allocations and now and then walks every long-lived object: in
the inbox benchmark that was ≈ 50 µs of CPU per activity (≈ 9 %) and found no garbage.

So, once per process, when the first node starts serving: the start-up objects are
moved out of the collector's sight (``gc.freeze``; a collection at that point finds
nothing, and would cost ≈ 80 ms of start-up), and the youngest generation is collected
every 10,000 net allocations instead of 700 (reference cycles still get collected,
slightly later).
"""

from __future__ import annotations

import gc

#: Net container allocations between two collections of the youngest generation.
YOUNG_THRESHOLD = 10_000


def tune_for_serving() -> None:
    """Idempotent per process: later nodes (the tests run several) change nothing."""
    if gc.get_freeze_count() > 0:
        return
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
