"""The home-timeline benchmark's data set: a real node holding a million posts.

A node is created the way ``cercle init`` creates one (``initialise()``: migrations, the
organisation and application actors, the admin) plus the benchmark's user, ``bench``.
Then, with the ``sqlite3`` module in one big transaction on the node's own schema, it gets
what a year of traffic would have left behind:

* 1,000 actors: 200 local users and 800 remote ones on 40 other servers (each with the
  actor document a peer serves, kept in ``raw`` as the node keeps it);
* follows: ``bench`` follows 200 accounts (a quarter of them local), every other local
  user 2 to 20, every remote account is followed by at least one local user (a node stores
  remote posts only for those), and remote accounts follow local users;
* 1,000,000 posts over 365 days, by all 1,000 authors (activity skewed, log-normal): 6 %
  boosts, 12 % replies, 12 % with mentions, 15 % with hashtags, some media, polls,
  content warnings, unlisted / followers-only / direct / organisation posts, and 0.5 %
  deleted (kept soft-deleted, as the node does). Remote posts keep their Note in ``raw``;
* the ``timeline_entries`` fan-out on write would have made: each post goes to its
  author's (when local), its local followers', its mentioned local users' homes, an
  organisation post to every local user's — ``bench``'s home gets ≈ 200,000 entries,
  the table ≈ 3.2 million;
* the counters the services keep (replies, boosts, favourites), the mention and hashtag
  index rows, and ``bench``'s own favourites, bookmarks and pins.

No ``ANALYZE`` is run: a node never runs it, so the query planner sees what it sees in
production. The result is cached under ``bench/results/home_timeline/<key>/`` (git-ignored)
where the key hashes the migrations and the parameters below, so a changed schema
rebuilds and an unchanged one is reused. Building takes about four minutes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.common import REPO_ROOT
from bench.home_timeline_rows import BENCH_USER, DOMAIN, SHAPE, Shape, fill
from node.accounts import create_user
from node.bootstrap import initialise
from node.context import open_node, transaction
from node.db.migrate import MIGRATIONS_DIR
from node.db.models import Actor
from node.settings import Settings
from tests.harness import PASSWORD

#: Bump when ``bench.home_timeline_rows`` changes what it writes: the cache is rebuilt.
DATASET_VERSION = 2
RESULTS_DIR = REPO_ROOT / "bench" / "results" / "home_timeline"


def dataset_key(shape: Shape = SHAPE) -> str:
    """Migrations + parameters + generator version: equal keys, equal data sets."""
    digest = hashlib.sha256()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(json.dumps({"v": DATASET_VERSION, **asdict(shape)}, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def dataset_settings(data_dir: Path) -> Settings:
    """The node's settings, for building and for serving (a rate limit no benchmark hits:
    500 requests with one token would otherwise be refused after 300)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=data_dir,
        domain=DOMAIN,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'cercle.db'}",
        dev=True,
        org_name="Bench Org",
        api_rate_limit=1_000_000,
    )


def ensure_dataset(log: Callable[[str], None] = print, shape: Shape = SHAPE) -> Path:
    """The data directory of a node holding the data set: cached, or built now."""
    final = RESULTS_DIR / dataset_key(shape)
    if (final / "dataset.json").exists():
        return final
    # One data set at a time: those of older schemas (3 GB each) are never read again.
    if RESULTS_DIR.exists():
        for stale in RESULTS_DIR.iterdir():
            shutil.rmtree(stale, ignore_errors=True)
    work = final.with_name(final.name + ".building")
    log(f"building the data set in {work} (once per schema; about four minutes) ...")
    started = time.perf_counter()
    asyncio.run(_initialise(work))
    stats = fill(work / "cercle.db", shape, log)
    stats["build_seconds"] = round(time.perf_counter() - started, 1)
    (work / "dataset.json").write_text(json.dumps(stats, indent=1) + "\n")
    work.rename(final)
    log(f"data set built in {stats['build_seconds']:.0f}s: {final}")
    return final


def dataset_stats(data_dir: Path) -> dict[str, Any]:
    return dict(json.loads((data_dir / "dataset.json").read_text()))


async def _initialise(data_dir: Path) -> None:
    """``cercle init`` plus the benchmark user, through the node's own code."""
    node = open_node(dataset_settings(data_dir))
    try:
        await initialise(node, admin="admin", password=PASSWORD, org_name="Bench Org")
        async with transaction(node) as db:
            if await db.scalar(select(Actor.id).where(Actor.username == BENCH_USER)) is None:
                await create_user(node, db, username=BENCH_USER, password=PASSWORD)
    finally:
        await node.close()
