"""Ids of processes that share a database never collide (node/db/ids.py).

The scale-out benchmark's two web processes used to make ids from the same millisecond
with a random 12-bit start and consecutive sequences: an inbox batch of 64 took 64 ids in
a row, two batches overlapped, and PostgreSQL refused the second (``pk_notifications``).
Here each "process" is an ``IdMaker`` (the state a process holds) with its slot, or a
real forked process.
"""

from __future__ import annotations

import multiprocessing
import os
from datetime import UTC, datetime, timedelta

import pytest

from node.db import ids
from node.db.ids import IdMaker, id_floor, id_slot, id_time

MS = 1_800_000_000_000  # a millisecond in 2027


def test_two_processes_taking_batches_in_the_same_millisecond_do_not_collide() -> None:
    # Given two processes, each making batches of 64 ids in the same milliseconds
    first, second = IdMaker(slot=0), IdMaker(slot=1)
    made: list[set[int]] = [set(), set()]
    for step in range(50):
        for index, maker in enumerate((first, second)):
            made[index].update(maker.new(now_ms=MS + step // 10) for _ in range(64))
    # Then every id is distinct, within a process and between them
    assert len(made[0]) == len(made[1]) == 50 * 64
    assert not made[0] & made[1]
    assert {id_slot(i) for i in made[0]} == {0}
    assert {id_slot(i) for i in made[1]} == {1}


def test_ids_placed_by_publication_time_do_not_collide_between_processes() -> None:
    # Given many remote posts published in the same second, stored by two processes
    published = datetime(2026, 11, 28, 4, 0, 0, tzinfo=UTC)
    first, second = IdMaker(slot=5), IdMaker(slot=6)
    a = [first.new(published) for _ in range(1_024)]
    b = [second.new(published) for _ in range(1_024)]
    # Then all 2,048 ids differ, and each sorts at that second
    assert len(set(a) | set(b)) == 2_048
    assert all(
        id_floor(published) <= i < id_floor(published + timedelta(milliseconds=1)) for i in a
    )
    assert id_time(a[0]) == published


def test_ids_of_one_process_strictly_increase_and_sort_by_time() -> None:
    maker = IdMaker(slot=3)
    # More than the 1,024 of one millisecond: the sequence borrows from the next one
    burst = [maker.new(now_ms=MS) for _ in range(3_000)]
    assert burst == sorted(set(burst))
    later = maker.new(now_ms=MS + 10)
    assert later > burst[-1]
    assert id_time(later) == datetime.fromtimestamp((MS + 10) / 1000, tz=UTC)
    assert id_floor(datetime.fromtimestamp(MS / 1000, tz=UTC)) <= burst[0]
    # A clock that steps back does not make ids go back
    assert maker.new(now_ms=MS - 1_000) > later


def test_a_new_slot_keeps_ids_increasing_and_carries_the_slot() -> None:
    maker = IdMaker(slot=7)
    before = maker.new(now_ms=MS)
    maker.set_slot(9)
    after = maker.new(now_ms=MS)
    assert after > before
    assert id_slot(after) == 9
    with pytest.raises(ValueError, match="between 0 and 63"):
        maker.set_slot(64)


def _child_ids(slot: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    ids.set_process_slot(slot)
    queue.put((os.getpid(), ids.process_slot(), [ids.new_id() for _ in range(2_000)]))


def test_forked_processes_with_their_claimed_slots_make_disjoint_ids() -> None:
    """Real processes: forked from one parent (the same id state copied into both), each
    given the slot the database would hand it, making ids at the same moment."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    children = [context.Process(target=_child_ids, args=(slot, queue)) for slot in (10, 11)]
    for child in children:
        child.start()
    results = [queue.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=30)
    (_, slot_a, a), (_, slot_b, b) = results
    assert {slot_a, slot_b} == {10, 11}
    assert len(set(a)) == len(set(b)) == 2_000
    assert not set(a) & set(b)


def _child_default_slot(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put((os.getpid(), ids.process_slot()))


def test_a_forked_child_does_not_inherit_its_parents_slot() -> None:
    ids.set_process_slot(ids.pid_slot(os.getpid() + 1))  # anything but the child's own
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_default_slot, args=(queue,))
    child.start()
    pid, slot = queue.get(timeout=30)
    child.join(timeout=30)
    assert slot == ids.pid_slot(pid)
    ids.set_process_slot(ids.pid_slot())
