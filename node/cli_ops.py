"""Operator commands: ``cercle db copy``, ``cercle backup``, ``cercle restore``.

Each prints its progress on stderr, its result on stdout, and ends with one line on
stderr and exit status 1 when it cannot do its work (the data it read is never changed).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from node.cli import CommandError, _require_database, _settings
from node.db.engine import make_engine
from node.db.migrate import HEAD_REVISION, current_revision, upgrade
from node.ops.backup import BackupError, backup, restore
from node.ops.progress import ProgressPrinter
from node.ops.table_copy import CopyError, copy_database, sqlite_path, sqlite_snapshot
from node.settings import load_settings, normalise_database_url


def cmd_db_copy(args: argparse.Namespace) -> int:
    """SQLite → PostgreSQL: the target is migrated to the source's revision, then filled."""
    settings = _settings()
    _require_database(settings)
    if not settings.is_sqlite:
        raise CommandError("the node already runs on PostgreSQL: db copy starts from SQLite")
    target_url = normalise_database_url(args.to)
    if not target_url.startswith("postgresql+asyncpg://"):
        raise CommandError(f"--to must be a postgresql:// URL, not {args.to!r}")
    printer = ProgressPrinter()

    async def run(snapshot: Path) -> Any:
        source = make_engine(f"sqlite+aiosqlite:///{snapshot}")
        target = make_engine(target_url)
        try:
            revision = await current_revision(source)
            if revision != HEAD_REVISION:
                raise CommandError("the SQLite schema is not current: run `cercle migrate` first")
            printer.say(f"migrating the target to schema {revision}")
            await upgrade(target, revision)
            printer.say("copying a snapshot of the SQLite database into PostgreSQL")
            return await copy_database(source, target, progress=printer)
        except (CopyError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            await target.dispose()
            await source.dispose()

    live = sqlite_path(settings.database_url)
    assert live is not None
    with tempfile.TemporaryDirectory(prefix="cercle-copy-") as work:
        # One instant of the database even if the node is still writing (stop it first
        # anyway: what it writes after the snapshot is not copied).
        snapshot = Path(work) / "snapshot.db"
        sqlite_snapshot(live, snapshot)
        counts = asyncio.run(run(snapshot))
    for count in counts:
        print(f"{count.table}\t{count.source}\t{count.target}\tok")
    total = sum(c.target for c in counts)
    print(f"copied {total} rows in {len(counts)} tables; every count verified")
    print(f"now set CERCLE_DATABASE_URL={args.to} and start the node")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings()
    _require_database(settings)
    printer = ProgressPrinter()
    try:
        summary = backup(settings, Path(args.file), progress=printer)
    except (BackupError, CopyError) as exc:
        raise CommandError(str(exc)) from exc
    print(
        f"backed up {summary.domain}: {summary.rows} rows in {summary.tables} tables, "
        f"{summary.keys} actor keys, {summary.media_files} media files "
        f"→ {args.file} ({summary.size:,} bytes)"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    settings = load_settings()  # the data directory may not exist yet: no _require_database
    settings.validate()
    printer = ProgressPrinter()
    try:
        summary = restore(settings, Path(args.file), progress=printer)
    except (BackupError, CopyError) as exc:
        raise CommandError(str(exc)) from exc
    print(
        f"restored {summary.domain} into {settings.data_dir}: {summary.rows} rows, "
        f"{summary.keys} actor keys (verified), {summary.media_files} media files"
    )

    async def revision() -> str | None:
        engine = make_engine(settings.database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    if asyncio.run(revision()) != HEAD_REVISION:
        print("the archive's schema is older than this version: run `cercle migrate`")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("db", help="database operations")
    dsub = p.add_subparsers(dest="db_command", required=True)
    copy = dsub.add_parser("copy", help="copy this node's SQLite data into PostgreSQL")
    copy.add_argument("--to", required=True, metavar="postgresql://USER:PASSWORD@HOST/DB")
    copy.set_defaults(func=cmd_db_copy)

    p = sub.add_parser("backup", help="archive database, keys and media of a running node")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="restore an archive into an empty data directory")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_restore)
