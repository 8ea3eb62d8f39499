"""``make bench``: every benchmark in turn, then one table of figures and their limits.

Each benchmark is bounded (seconds to about a minute) and stops by itself. They run one
after another, never together: the machine has two cores and each benchmark decides what
runs on which. ``python -m bench crypto memory`` runs only the ones named (crypto, memory,
sql, ingest, home, fanout, scale, group).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from bench import (
    crypto_rates,
    fanout,
    group_fanout,
    home_timeline,
    idle_memory,
    inbox_ingest,
    scale_pg,
    sql_roundtrip,
)
from bench.common import Figure, format_table, machine_line

BENCHMARKS: dict[str, tuple[str, Callable[[], list[Figure]]]] = {
    "crypto": ("RSA-2048 sign/verify rates", crypto_rates.run),
    "memory": ("idle memory and start-up of cercle serve", idle_memory.run),
    "sql": ("one SQL statement through each database layer", sql_roundtrip.run),
    "ingest": ("inbox ingest: real node, bare pipeline, null handler", inbox_ingest.run),
    "home": ("home timeline over 1,000,000 posts (builds its data set once)", home_timeline.run),
    "fanout": ("delivery fan-out to loopback receivers vs. the RSA sign rate", fanout.run),
    "scale": ("ingest and fan-out with 1 and 2 processes on PostgreSQL", scale_pg.run),
    "group": ("a post to a group of 2,000 members on 200 nodes", group_fanout.run),
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    print(machine_line(), flush=True)
    figures: list[Figure] = []
    for name in names:
        title, run = BENCHMARKS[name]
        started = time.perf_counter()
        print(f"running {name}: {title} ...", flush=True)
        figures += run()
        print(f"  done in {time.perf_counter() - started:.1f}s", flush=True)
    print()
    print(format_table(figures))
    print()
    print(machine_line())
    # A missed target is a finding to report, not a crash: exit 0 whenever the runs worked.
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
