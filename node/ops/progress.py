"""Progress lines for long CLI work, on stderr so stdout stays for results.

On a terminal one line per step is rewritten in place; in a log (systemd, CI) a line is
printed about every tenth of a step and when it ends, so logs stay short. Empty steps
(a table without rows) print nothing.
"""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressPrinter:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last: dict[str, int] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if self.tty:
            if total == 0:
                return
            end = "\n" if done >= total else ""
            self.stream.write(f"\r  {step}: {done:,}/{total:,}{end}")
            self.stream.flush()
            return
        if done == 0:
            return  # an empty or just-started step: its end line says enough
        tenth = max(1, total // 10)
        bucket = done // tenth
        if done >= total or bucket != self._last.get(step):
            self._last[step] = bucket
            self.stream.write(f"  {step}: {done:,}/{total:,}\n")
            self.stream.flush()

    def say(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
