"""The per-domain circuit breaker's state transitions."""

from __future__ import annotations

from federation.breaker import CLOSED, BreakerState, is_half_open, is_open, record, start_trial


def _fail(state: BreakerState, times: int, now: float, **kwargs: float) -> BreakerState:
    for _ in range(times):
        state = record(state, False, now, **kwargs)
    return state


def test_stays_closed_below_threshold() -> None:
    state = _fail(CLOSED, 4, now=100.0)
    assert state == BreakerState(4, None)
    assert not is_open(state, 100.0)


def test_opens_at_threshold_for_the_cool_down() -> None:
    state = _fail(CLOSED, 5, now=100.0, cool_down=60.0)
    assert is_open(state, 100.0)
    assert is_open(state, 159.9)
    assert not is_open(state, 160.0)


def test_success_closes_and_forgets_failures() -> None:
    state = _fail(CLOSED, 4, now=100.0)
    assert record(state, True, 101.0) == CLOSED


def test_half_open_trial_failure_reopens_at_once() -> None:
    """After the cool-down one failure is enough to pause the domain again."""
    state = _fail(CLOSED, 5, now=0.0, cool_down=60.0)
    assert is_half_open(state, 60.0)
    state = record(state, False, 61.0, cool_down=60.0)
    assert is_open(state, 61.0)
    assert state.open_until == 121.0


def test_half_open_trial_success_closes() -> None:
    state = _fail(CLOSED, 5, now=0.0, cool_down=60.0)
    assert record(state, True, 70.0) == CLOSED


def test_start_trial_lets_only_one_through() -> None:
    """The worker taking the trial stores start_trial's state; others then see it open."""
    state = _fail(CLOSED, 5, now=0.0, cool_down=60.0)
    assert not is_open(state, 60.0)
    trial = start_trial(state, 60.0, window=30.0)
    assert is_open(trial, 60.0)
    assert is_open(trial, 89.0)
    assert not is_open(trial, 90.0)  # the trial never reported: another may try


def test_start_trial_leaves_other_states_alone() -> None:
    closed = BreakerState(2, None)
    assert start_trial(closed, 10.0) is closed
    opened = _fail(CLOSED, 5, now=0.0, cool_down=60.0)
    assert start_trial(opened, 30.0) is opened
