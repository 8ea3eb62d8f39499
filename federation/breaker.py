"""A per-domain circuit breaker, as pure state transitions.

When a peer is down, every queued delivery to it would otherwise burn a worker slot on a
timeout. After ``threshold`` consecutive failures the breaker *opens*: the queue leaves the
domain alone for ``cool_down`` seconds. Then it is *half-open*: one delivery goes through as a
trial; success closes the breaker, failure reopens it for another ``cool_down``.

The application stores a ``BreakerState`` per domain (in the database, so that every worker
sees it) and calls these functions; nothing here keeps state of its own. A worker that takes
the half-open trial stores ``start_trial(state, now)``, so the other workers keep waiting
until the trial has reported instead of all rushing through at once.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_THRESHOLD = 5
DEFAULT_COOL_DOWN = 600.0
DEFAULT_TRIAL_WINDOW = 60.0


@dataclass(frozen=True)
class BreakerState:
    """Consecutive failures and, once tripped, the time until which the domain is paused."""

    failures: int = 0
    open_until: float | None = None


CLOSED = BreakerState()


def record(
    state: BreakerState,
    success: bool,
    now: float,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    cool_down: float = DEFAULT_COOL_DOWN,
) -> BreakerState:
    """The state after one delivery to the domain succeeded or failed at time ``now``."""
    if success:
        return CLOSED
    failures = state.failures + 1
    if failures >= threshold:
        return BreakerState(failures, now + cool_down)
    return BreakerState(failures, state.open_until)


def is_open(state: BreakerState, now: float) -> bool:
    """Whether deliveries to the domain must wait. False once the cool-down is over
    (half-open), which lets a trial through."""
    return state.open_until is not None and now < state.open_until


def is_half_open(state: BreakerState, now: float) -> bool:
    """Tripped before, cool-down over, no result since: the next delivery is a trial."""
    return state.open_until is not None and now >= state.open_until


def start_trial(
    state: BreakerState, now: float, *, window: float = DEFAULT_TRIAL_WINDOW
) -> BreakerState:
    """Reserve the half-open trial: keep the breaker open for others for ``window`` seconds
    (long enough for one delivery to time out), until ``record`` reports the trial."""
    if not is_half_open(state, now):
        return state
    return BreakerState(state.failures, now + window)
