"""The delivery retry policy, as a pure function of one outcome and the delivery's history.

``decide`` classifies what an inbox answered and says whether the delivery is done, should be
retried after a delay, or is dead. Keeping it pure lets the queue, the tests and the admin docs
share one definition.

============================  ======  =============================================================
outcome                       action  delay / why
============================  ======  =============================================================
2xx                           done
404, 410                      dead    the inbox or its actor is gone
429, 503                      retry   ``Retry-After`` honoured (at least 1 s, at most 6 h),
                                      else backoff
401                           retry   backoff; the peer may be rotating keys or expect
                                      the other signature scheme (double-knocking)
408                           retry   backoff; a timeout is transient (as in Mastodon)
other 4xx                     dead    the peer rejects this activity; resending won't help
5xx, 1xx, 3xx                 retry   backoff
no answer (network, timeout)  retry   backoff
refused URL (``permanent``)   dead    the SSRF guard refuses the inbox
any retry                     dead    when ``age + delay`` would pass ``max_age`` (3 days)
============================  ======  =============================================================

Backoff: step ``n`` (``attempts`` made so far) waits ``min(30 s · 2^(n-1), 6 h)`` with "equal
jitter" — a uniform draw between half and all of it — so peers coming back after an outage are
not hit by every queued delivery in the same second. The cap is reached at the 11th attempt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from federation.transport import DeliveryOutcome

BASE_DELAY = 30.0
MAX_STEP = 6 * 3600.0
MAX_AGE = 3 * 24 * 3600.0
MIN_RETRY_AFTER = 1.0
MAX_RETRY_AFTER = MAX_STEP


@dataclass(frozen=True)
class RetryDecision:
    """What to do with a delivery after one attempt; ``delay`` is set only for ``retry``."""

    action: Literal["done", "retry", "dead"]
    delay: float | None
    reason: str


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1-based), with jitter."""
    exponent = min(max(attempts, 1) - 1, 30)
    step = min(BASE_DELAY * 2**exponent, MAX_STEP)
    draw = (rng or random).random()
    return step / 2 + draw * step / 2


def _retry(delay: float, reason: str, *, age: float, max_age: float) -> RetryDecision:
    if age + delay > max_age:
        return RetryDecision("dead", None, f"gave up after {age / 3600:.1f} h: {reason}")
    return RetryDecision("retry", delay, reason)


def decide(
    outcome: DeliveryOutcome,
    *,
    attempts: int,
    age: float,
    max_age: float = MAX_AGE,
    rng: random.Random | None = None,
) -> RetryDecision:
    """Classify one delivery outcome. ``attempts`` counts attempts made, this one included;
    ``age`` is the seconds since the delivery was first queued."""
    status = outcome.status
    detail = outcome.error or (f"HTTP {status}" if status is not None else "no answer")
    if status is not None and 200 <= status < 300:
        return RetryDecision("done", None, f"HTTP {status}")
    if outcome.permanent:
        return RetryDecision("dead", None, detail)
    if status is None:
        return _retry(backoff(attempts, rng), detail, age=age, max_age=max_age)
    if status in (404, 410):
        return RetryDecision("dead", None, detail)
    if status in (429, 503):
        if outcome.retry_after is not None:
            delay = min(max(outcome.retry_after, MIN_RETRY_AFTER), MAX_RETRY_AFTER)
        else:
            delay = backoff(attempts, rng)
        return _retry(delay, detail, age=age, max_age=max_age)
    if status in (401, 408):
        return _retry(backoff(attempts, rng), detail, age=age, max_age=max_age)
    if 400 <= status < 500:
        return RetryDecision("dead", None, detail)
    return _retry(backoff(attempts, rng), detail, age=age, max_age=max_age)
