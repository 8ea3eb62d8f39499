"""``cercle backup FILE`` and ``cercle restore FILE``: a whole node in one archive.

The archive is a gzip'd tar holding, in this order:

- ``manifest.json``: format, domain, schema revision, row count of every table, the
  fingerprint of every local actor's keys, the media files and their sizes;
- ``database.sqlite``: the database as one SQLite file, whichever database the node runs
  on. On SQLite it is taken with SQLite's online backup API; on PostgreSQL the rows are
  copied out of one REPEATABLE READ snapshot (node/ops/table_copy.py). Either way it is
  one instant of a running node, and the same archive restores onto either database;
- ``media/…``: the uploaded files; ``cercle.toml`` when the data directory has one.

Actors' private keys live in the database, so they travel with it; the manifest's
fingerprints let restore prove they came back intact. Media files are written before the
rows that refer to them and never changed in place, so files copied after the database
snapshot include every file it refers to.

An archive is written under a temporary name and renamed when complete, so a crash never
leaves a half archive under the name asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select

from node.db.engine import make_engine
from node.db.migrate import current_revision, upgrade
from node.db.models import Actor
from node.ops.table_copy import (
    CopyError,
    copy_database,
    count_rows,
    sqlite_path,
    sqlite_snapshot,
)
from node.settings import Settings

FORMAT = "cercle-backup/1"
DATABASE_MEMBER = "database.sqlite"
MANIFEST_MEMBER = "manifest.json"
CONFIG_FILE = "cercle.toml"

#: (step, done, total)
Progress = Callable[[str, int, int], None]


class BackupError(Exception):
    """Backup or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class BackupSummary:
    domain: str
    tables: int
    rows: int
    media_files: int
    keys: int
    size: int


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def key_fingerprint(public_pem: str, private_pem: str | None) -> str:
    """Covers both halves: a restored private key must be the very same, not a new one."""
    digest = hashlib.sha256(public_pem.encode())
    digest.update((private_pem or "").encode())
    return digest.hexdigest()


async def _keys(database_url: str) -> dict[str, str]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(Actor.uri, Actor.public_key_pem, Actor.private_key_pem).where(
                    Actor.private_key_pem.is_not(None)
                )
            )
            return {uri: key_fingerprint(pub or "", priv) for uri, pub, priv in rows.all()}
    finally:
        await engine.dispose()


def _media_files(media_dir: Path) -> list[Path]:
    if not media_dir.is_dir():
        return []
    return sorted(p for p in media_dir.rglob("*") if p.is_file() and not p.is_symlink())


async def _database_snapshot(settings: Settings, target: Path, progress: Progress) -> None:
    """The node's database, as of one instant, into the SQLite file ``target``."""
    path = sqlite_path(settings.database_url)
    if path is not None:
        if not path.exists():
            raise BackupError(f"no database at {path}: nothing to back up")
        progress("database (SQLite online backup)", 0, 1)
        sqlite_snapshot(path, target)
        progress("database (SQLite online backup)", 1, 1)
        return
    source = make_engine(settings.database_url)
    snapshot = make_engine(_sqlite_url(target))
    try:
        revision = await current_revision(source)
        if revision is None:
            raise BackupError("the PostgreSQL database holds no Cercle schema")
        await upgrade(snapshot, revision)
        await copy_database(source, snapshot, progress=progress)
    finally:
        await snapshot.dispose()
        await source.dispose()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


async def _inventory(database_url: str) -> tuple[str | None, dict[str, int], dict[str, str]]:
    """(schema revision, rows per table, key fingerprints) of a database."""
    engine = make_engine(database_url)
    try:
        revision = await current_revision(engine)
        async with engine.connect() as conn:
            counts = await count_rows(conn)
    finally:
        await engine.dispose()
    return revision, counts, await _keys(database_url)


def backup(settings: Settings, archive: Path, *, progress: Progress) -> BackupSummary:
    """Blocking on purpose: a CLI command, where file work needs no event loop."""
    if archive.exists():
        raise BackupError(f"{archive} exists already: choose a new file name")
    if not archive.parent.is_dir():
        raise BackupError(f"no directory {archive.parent} to write {archive.name} in")
    with tempfile.TemporaryDirectory(prefix="cercle-backup-") as work:
        db_file = Path(work) / DATABASE_MEMBER
        asyncio.run(_database_snapshot(settings, db_file, progress))
        revision, counts, keys = asyncio.run(_inventory(_sqlite_url(db_file)))
        media_dir = settings.data_dir / "media"
        media = _media_files(media_dir)
        config = settings.data_dir / CONFIG_FILE
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "domain": settings.domain,
            "created_at": datetime.now(UTC).isoformat(),
            "schema_revision": revision,
            "source_database": "sqlite" if settings.is_sqlite else "postgresql",
            "tables": counts,
            "keys": keys,
            "media": {p.relative_to(media_dir).as_posix(): p.stat().st_size for p in media},
            "config": config.is_file(),
        }
        partial = archive.with_name(archive.name + ".partial")
        try:
            with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
                _add_bytes(tar, MANIFEST_MEMBER, json.dumps(manifest, indent=1).encode())
                tar.add(db_file, DATABASE_MEMBER)
                if config.is_file():
                    tar.add(config, CONFIG_FILE)
                for index, path in enumerate(media, start=1):
                    tar.add(path, f"media/{path.relative_to(media_dir).as_posix()}")
                    progress("media files", index, len(media))
            os.replace(partial, archive)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupSummary(
        domain=settings.domain,
        tables=len(counts),
        rows=sum(counts.values()),
        media_files=len(media),
        keys=len(keys),
        size=archive.stat().st_size,
    )


# --- restore ----------------------------------------------------------------------------


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST_MEMBER)
        handle = tar.extractfile(member)
        manifest = json.loads(handle.read()) if handle is not None else None
    except (KeyError, json.JSONDecodeError) as exc:
        raise BackupError(f"not a Cercle backup (no readable {MANIFEST_MEMBER})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"not a Cercle backup of format {FORMAT}")
    return manifest


def _safe_media_name(name: str) -> PurePosixPath | None:
    """``media/<relative path>`` without absolute parts or ``..``; None otherwise."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        return None
    if path.parts[0] != "media":
        return None
    return PurePosixPath(*path.parts[1:])


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    handle = tar.extractfile(member)
    if handle is None:
        raise BackupError(f"archive member {member.name} is not a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    with handle, open(target, "wb") as out:
        shutil.copyfileobj(handle, out)


def _place_file(db_file: Path, target_path: Path) -> None:
    if target_path.exists():
        raise BackupError(f"a database exists at {target_path} already")
    target_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db_file, target_path)


def _data_dir_is_empty(data_dir: Path) -> bool:
    return not data_dir.exists() or not any(data_dir.iterdir())


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for member in tar:
        if member.isfile():
            yield member


def restore(settings: Settings, archive: Path, *, progress: Progress) -> BackupSummary:
    """Into an empty data directory (and, on PostgreSQL, an empty database)."""
    if not archive.is_file():
        raise BackupError(f"no archive at {archive}")
    if not _data_dir_is_empty(settings.data_dir):
        raise BackupError(
            f"{settings.data_dir} is not empty: restore into a new, empty data directory"
        )
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"cannot read {archive}: {exc}") from exc
    with tar:
        manifest = _read_manifest(tar)
        if manifest["domain"] != settings.domain:
            raise BackupError(
                f"this archive holds the node {manifest['domain']}, but this node is "
                f"configured as {settings.domain}: set CERCLE_DOMAIN={manifest['domain']}"
            )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            _restore_into(settings, tar, manifest, progress)
        except BaseException:
            # Leave the directory as empty as it was found, so a retry can start over.
            for child in list(settings.data_dir.iterdir()):
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            raise
    return BackupSummary(
        domain=settings.domain,
        tables=len(manifest["tables"]),
        rows=sum(manifest["tables"].values()),
        media_files=len(manifest["media"]),
        keys=len(manifest["keys"]),
        size=archive.stat().st_size,
    )


def _restore_into(
    settings: Settings, tar: tarfile.TarFile, manifest: dict[str, Any], progress: Progress
) -> None:
    media_dir = settings.data_dir / "media"
    expected_media: dict[str, int] = manifest["media"]
    restored_media = 0
    with tempfile.TemporaryDirectory(prefix="cercle-restore-") as work:
        db_file = Path(work) / DATABASE_MEMBER
        seen_db = False
        for member in _members(tar):
            if member.name == DATABASE_MEMBER:
                progress("database file", 0, 1)
                _copy_member(tar, member, db_file)
                progress("database file", 1, 1)
                seen_db = True
            elif member.name == CONFIG_FILE:
                _copy_member(tar, member, settings.data_dir / CONFIG_FILE)
            elif (relative := _safe_media_name(member.name)) is not None:
                if relative.as_posix() not in expected_media:
                    raise BackupError(f"archive member {member.name} is not in its manifest")
                _copy_member(tar, member, media_dir.joinpath(*relative.parts))
                restored_media += 1
                progress("media files", restored_media, len(expected_media))
        if not seen_db:
            raise BackupError(f"the archive has no {DATABASE_MEMBER}")
        if restored_media != len(expected_media):
            raise BackupError(
                f"the archive holds {restored_media} media files, its manifest "
                f"{len(expected_media)}: it is truncated"
            )
        asyncio.run(_restore_database(settings, db_file, manifest, progress))
    keys = asyncio.run(_keys(settings.database_url))
    if keys != manifest["keys"]:
        raise BackupError("the restored actors' keys differ from the archive's manifest")


async def _restore_database(
    settings: Settings, db_file: Path, manifest: dict[str, Any], progress: Progress
) -> None:
    snapshot_url = _sqlite_url(db_file)
    _, counts, keys = await _inventory(snapshot_url)
    if counts != manifest["tables"] or keys != manifest["keys"]:
        raise BackupError("the archive's database does not match its manifest")
    target_path = sqlite_path(settings.database_url)
    if target_path is not None:
        # A SQLite node gets the snapshot file itself: nothing to convert.
        await asyncio.to_thread(_place_file, db_file, target_path)
        return
    source = make_engine(snapshot_url)
    target = make_engine(settings.database_url)
    try:
        await upgrade(target, manifest["schema_revision"])
        try:
            await copy_database(source, target, progress=progress)
        except CopyError as exc:
            raise BackupError(str(exc)) from exc
    finally:
        await target.dispose()
        await source.dispose()
