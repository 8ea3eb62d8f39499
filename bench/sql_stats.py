"""Counting the SQL statements a server process runs, by statement text.

Attached from outside to the node's engines (no change to node/), it answers the first
question of any database-bound profile: how many statements does one activity cost, and
which. Times are measured around the cursor call inside SQLAlchemy, so under concurrency
they include the wait for aiosqlite's thread; read them as relative, not absolute.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_SPACES = re.compile(r"\s+")
_SAVEPOINT = re.compile(r"sa_savepoint_\d+")


class SqlStats:
    """Statement counts and cumulative seconds, keyed by engine label and statement."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.transactions: Counter[str] = Counter()

    def attach(self, engine: AsyncEngine, label: str) -> None:
        def before(_conn: Any, _cursor: Any, _stmt: str, *_args: Any) -> None:
            _conn.info.setdefault("bench_started", []).append(time.perf_counter())

        def after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            started = conn.info["bench_started"].pop()
            text = _SAVEPOINT.sub("sa_savepoint_N", _SPACES.sub(" ", statement).strip())
            key = f"[{label}] {text[:150]}"
            self.counts[key] += 1
            self.seconds[key] += time.perf_counter() - started

        def commit(_conn: Any) -> None:
            self.transactions[f"[{label}] COMMIT"] += 1

        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", before)
        event.listen(sync, "after_cursor_execute", after)
        event.listen(sync, "commit", commit)

    def report(self, per: int) -> str:
        """The statements, most frequent first, with their count per activity."""
        lines = [f"SQL statements per activity (totals divided by {per} activities):"]
        merged = self.counts + self.transactions
        for key, count in merged.most_common():
            mean_ms = 1000 * self.seconds[key] / count if key in self.seconds else 0.0
            lines.append(f"  {count / per:6.2f}  {mean_ms:7.2f} ms  {key}")
        total = sum(self.counts.values())
        lines.append(f"  {total / per:6.2f}  statements in all")
        return "\n".join(lines)
