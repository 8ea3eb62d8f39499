"""Turning a profile of the node into the few lines a reader acts on.

py-spy (``summarise_py_spy``) samples every thread without slowing the node much, but on a
single pinned core it counts a thread waiting for the GIL as busy, so per-library shares
lean towards the aiosqlite threads. cProfile (``summarise_cprofile``) sees only the event
loop's thread and slows it down, but counts every call: "how many Python calls does one
activity cost, and in which library" is the question it answers best.

The raw format is one collapsed stack per line, root first, frames separated by ``;``,
then a space and the sample count; a frame reads ``function (path:line)``. Three views:
where samples end (self time, grouped by library: is it SQL, HTTP, crypto, our code?),
the functions with the most self time, and the functions of this repository with the most
inclusive time (a frame counted once per stack, so recursion does not inflate it).
"""

from __future__ import annotations

import pstats
import re
from collections import Counter
from pathlib import Path

FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")

OUR_PACKAGES = ("node/", "federation/", "webui/")
# Checked in order: the first fragment found in the frame's file names its group.
GROUPS = (
    ("aiosqlite", "sqlite (aiosqlite thread + driver)"),
    ("sqlite3", "sqlite (aiosqlite thread + driver)"),
    ("sqlalchemy", "SQLAlchemy ORM/Core"),
    ("cryptography", "cryptography"),
    ("federation/signatures/", "federation/signatures"),
    ("federation/", "federation (other)"),
    ("node/", "node"),
    ("nh3", "nh3 (HTML sanitiser)"),
    ("aiohttp", "aiohttp"),
    ("multidict", "aiohttp"),
    ("yarl", "aiohttp"),
    ("asyncio", "asyncio"),
    ("json", "json"),
)


def parse_frame(frame: str) -> tuple[str, str]:
    """(function, file) of one collapsed frame; unknown shapes keep the text whole."""
    match = FRAME_RE.match(frame.strip())
    if match is None:
        return frame.strip(), ""
    return match["func"], match["file"]


def group_of(path: str) -> str:
    for fragment, name in GROUPS:
        if fragment in path:
            return name
    return "other"


def is_ours(path: str, root: Path) -> bool:
    """A file of this repository; py-spy names those relative to ``sys.path`` entries."""
    if "site-packages" in path:
        return False
    text = path.replace(str(root) + "/", "")
    return text.startswith(OUR_PACKAGES)


def short(path: str, root: Path) -> str:
    """Repository files relative to the repo, library files from ``site-packages/`` on."""
    text = path.replace(str(root) + "/", "")
    marker = "site-packages/"
    if marker in text:
        text = text.split(marker, 1)[1]
    return text


def summarise_py_spy(raw: Path, root: Path, top: int = 15) -> str:
    """A plain-text summary of a py-spy raw recording."""
    by_group: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive_ours: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [parse_frame(f) for f in stack.split(";") if f]
        if not frames:
            continue
        leaf_func, leaf_file = frames[-1]
        by_group[group_of(leaf_file)] += count
        self_time[f"{leaf_func} ({short(leaf_file, root)})"] += count
        seen = set()
        for func, path in frames:
            if is_ours(path, root):
                name = f"{func} ({short(path, root)})"
                if name not in seen:
                    seen.add(name)
                    inclusive_ours[name] += count
    if total == 0:
        return "py-spy recorded no samples"

    def pct(count: int) -> str:
        return f"{100 * count / total:5.1f}%"

    lines = [f"py-spy: {total} non-idle samples of the node during the measured run", ""]
    lines.append("self time by library (where the samples end):")
    lines += [f"  {pct(c)}  {name}" for name, c in by_group.most_common()]
    lines += ["", f"top {top} functions by self time:"]
    lines += [f"  {pct(c)}  {name}" for name, c in self_time.most_common(top)]
    lines += ["", f"top {top} functions of this repository by inclusive time:"]
    lines += [f"  {pct(c)}  {name}" for name, c in inclusive_ours.most_common(top)]
    return "\n".join(lines)


def summarise_cprofile(stats_file: Path, activities: int, top: int = 15) -> str:
    """Own time and call counts per library, per activity, from a cProfile dump."""
    stats = pstats.Stats(str(stats_file))
    own: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    raw: dict = stats.stats  # type: ignore[attr-defined]
    for (path, line, func), (_, ncalls, tottime, _, _) in raw.items():
        group = "builtins" if path == "~" else group_of(path)
        own[group] += tottime
        calls[group] += ncalls
        label = func if path == "~" else f"{func} ({path.rsplit('/', 2)[-2:][-1]}:{line})"
        functions[label] += tottime
    total = sum(own.values()) or 1.0
    per = max(activities, 1)
    lines = [
        f"cProfile of the event-loop thread: {sum(calls.values()) / per:,.0f} Python calls and "
        f"{1000 * total / per:.2f} ms (profiled, so slower than real) per activity",
        "",
        "own time and calls by library, per activity:",
    ]
    for group, seconds in own.most_common():
        lines.append(f"  {100 * seconds / total:5.1f}%  {calls[group] / per:8,.0f} calls  {group}")
    lines += ["", f"top {top} functions by own time:"]
    lines += [
        f"  {100 * seconds / total:5.1f}%  {name}" for name, seconds in functions.most_common(top)
    ]
    return "\n".join(lines)
