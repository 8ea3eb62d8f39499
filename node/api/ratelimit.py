"""Per-client request limits (Mastodon's defaults: 300 requests per 5 minutes per token,
per address when anonymous), answered with 429 and Retry-After.

Counted in process memory, per node: a fixed window is cheap and precise enough to stop
a runaway client; several processes each apply the limit on their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

WINDOW_SECONDS = 300


@dataclass
class RateLimiter:
    limit: int = 300
    window: float = WINDOW_SECONDS
    _counts: dict[str, tuple[float, int]] = field(default_factory=dict)

    def hit(self, key: str, now: float | None = None) -> tuple[bool, int, float]:
        """Count a request: (allowed, remaining, seconds until the window resets)."""
        now = time.monotonic() if now is None else now
        start, count = self._counts.get(key, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        count += 1
        self._counts[key] = (start, count)
        if len(self._counts) > 100_000:
            self._evict(now)
        reset = start + self.window - now
        return count <= self.limit, max(0, self.limit - count), reset

    def _evict(self, now: float) -> None:
        for key, (start, _) in list(self._counts.items()):
            if now - start >= self.window:
                del self._counts[key]
