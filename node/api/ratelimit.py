"""Per-client request limits (Mastodon's defaults: 300 requests per 5 minutes per
account, per address when anonymous), answered with 429 and Retry-After.

The limit is counted per account, as Mastodon does, so that several apps of one person
share one budget: the middleware counts before the handler has read the token, so it
names the account of a token seen before (``remember``), and a token's very first
request counts under the token itself.

Counted in process memory, per node: a fixed window is cheap and precise enough to stop
a runaway client; several processes each apply the limit on their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiohttp import web

WINDOW_SECONDS = 300


@dataclass
class RateLimiter:
    limit: int = 300
    window: float = WINDOW_SECONDS
    _counts: dict[str, tuple[float, int]] = field(default_factory=dict)
    #: token key → account key, filled as tokens are resolved (node/api/auth.py)
    _accounts: dict[str, str] = field(default_factory=dict)

    def remember(self, token_key: str, account_id: int) -> None:
        """``token_key`` is ``account_id``'s: what it counted so far moves to the account."""
        if token_key in self._accounts:
            return
        if len(self._accounts) > 100_000:
            self._accounts.clear()  # rebuilt as tokens are seen again
        account_key = f"account:{account_id}"
        self._accounts[token_key] = account_key
        moved = self._counts.pop(token_key, None)
        if moved is not None:
            start, count = moved
            account_start, account_count = self._counts.get(account_key, (start, 0))
            self._counts[account_key] = (min(start, account_start), account_count + count)

    def key_for(self, token_key: str) -> str:
        return self._accounts.get(token_key, token_key)

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


#: The node's limiter, set by node/api/setup.py (the auth layer tells it whose token is whose).
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)
