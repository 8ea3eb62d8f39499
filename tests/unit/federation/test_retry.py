"""The delivery retry policy: status classification, backoff, Retry-After and the age limit."""

from __future__ import annotations

import random

import pytest

from federation.retry import BASE_DELAY, MAX_AGE, MAX_STEP, backoff, decide
from federation.transport import DeliveryOutcome


def _outcome(
    status: int | None, retry_after: float | None = None, *, permanent: bool = False
) -> DeliveryOutcome:
    error = None if status is not None and 200 <= status < 300 else "boom"
    return DeliveryOutcome(status, retry_after, error, permanent=permanent)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (200, "done"),
        (202, "done"),
        (204, "done"),
        (404, "dead"),
        (410, "dead"),
        (400, "dead"),
        (403, "dead"),
        (422, "dead"),
        (401, "retry"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (302, "retry"),
        (None, "retry"),
    ],
)
def test_status_classification(status: int | None, action: str) -> None:
    decision = decide(_outcome(status), attempts=1, age=0.0, rng=random.Random(1))
    assert decision.action == action
    assert (decision.delay is not None) is (action == "retry")
    assert decision.reason


def test_permanent_failure_is_dead() -> None:
    decision = decide(_outcome(None, permanent=True), attempts=1, age=0.0)
    assert decision.action == "dead"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(status: int) -> None:
    decision = decide(_outcome(status, 120.0), attempts=1, age=0.0)
    assert decision == decision.__class__("retry", 120.0, "boom")


def test_retry_after_is_capped_and_floored() -> None:
    huge = decide(_outcome(429, 10 * 24 * 3600.0), attempts=1, age=0.0, max_age=30 * 24 * 3600)
    assert huge.delay == MAX_STEP
    zero = decide(_outcome(503, 0.0), attempts=1, age=0.0)
    assert zero.delay == 1.0


def test_retry_after_ignored_for_other_statuses() -> None:
    decision = decide(_outcome(500, 5.0), attempts=1, age=0.0, rng=random.Random(3))
    assert BASE_DELAY / 2 <= decision.delay <= BASE_DELAY


@pytest.mark.parametrize("attempts", [1, 2, 3, 5, 8, 11, 12, 50, 10_000])
def test_backoff_doubles_with_jitter_and_caps(attempts: int) -> None:
    step = min(BASE_DELAY * 2 ** (attempts - 1), MAX_STEP) if attempts < 100 else MAX_STEP
    for seed in range(20):
        delay = backoff(attempts, random.Random(seed))
        assert step / 2 <= delay <= step


def test_backoff_is_deterministic_with_a_seeded_rng() -> None:
    assert backoff(4, random.Random(7)) == backoff(4, random.Random(7))


def test_backoff_treats_zero_attempts_as_first() -> None:
    assert backoff(0, random.Random(1)) == backoff(1, random.Random(1))


def test_dead_once_the_next_try_would_pass_max_age() -> None:
    """Three days after queueing, a delivery that still fails is given up."""
    rng = random.Random(1)
    near_end = MAX_AGE - 60.0
    decision = decide(_outcome(500), attempts=12, age=near_end, rng=rng)
    assert decision.action == "dead"
    assert "gave up" in decision.reason
    assert decide(_outcome(500), attempts=1, age=0.0, rng=rng).action == "retry"


def test_retry_after_beyond_max_age_is_dead() -> None:
    decision = decide(_outcome(429, 3600.0), attempts=1, age=100.0, max_age=3000.0)
    assert decision.action == "dead"


def test_success_is_done_even_past_max_age() -> None:
    assert decide(_outcome(202), attempts=30, age=10 * MAX_AGE).action == "done"
