"""Importing follows and circles into an account, from a Cercle archive (the zip that
``export.write_user_archive`` makes) or from one CSV file in Mastodon's formats:
``following_accounts.csv`` (a header starting ``Account address``) or a lists/circles
export (``title,account address`` lines, no header).

Each account is resolved (WebFinger for remote ones) and followed; a circle is found by
title among the user's circles or made. An account that cannot be resolved is reported
and skipped: one dead server must not stop the rest of the import.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from node.accounts import require_user_actor
from node.circles import add_members, circles_of, create_circle
from node.context import Node, transaction
from node.db.models import Actor
from node.errors import CercleError, Invalid
from node.follows import follow
from node.identity.audit import record_audit
from node.remote_actors import resolve_account

MAX_FILE = 20_000_000
MAX_ROWS = 20_000


@dataclass
class ImportReport:
    followed: int = 0
    circle_members: int = 0
    circles_created: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportData:
    follows: list[str]
    #: (circle title, account address or "" for an empty circle)
    circles: list[tuple[str, str]]


def _rows(text: str) -> list[list[str]]:
    rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    if len(rows) > MAX_ROWS:
        raise Invalid(f"at most {MAX_ROWS} lines can be imported at once")
    return rows


def parse_follows(text: str) -> list[str]:
    rows = _rows(text)
    if rows and rows[0] and rows[0][0].strip().lower() == "account address":
        rows = rows[1:]
    return [row[0].strip() for row in rows if row and row[0].strip()]


def parse_circles(text: str) -> list[tuple[str, str]]:
    circles: list[tuple[str, str]] = []
    for row in _rows(text):
        if len(row) < 2 or not row[0].strip():
            raise Invalid(f"a circles line needs a title and an account address: {row!r}")
        circles.append((row[0].strip(), row[1].strip()))
    return circles


def read_import(path: Path) -> ImportData:
    """What a file asks to import; Invalid with a clear message for anything else."""
    if not path.is_file():
        raise Invalid(f"no file {path}")
    if path.stat().st_size > MAX_FILE:
        raise Invalid(f"{path} is larger than {MAX_FILE // 1_000_000} MB")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if not names & {"following_accounts.csv", "circles.csv"}:
                raise Invalid(f"{path} is not a Cercle archive (no following_accounts.csv)")

            def text(name: str) -> str:
                return archive.read(name).decode("utf-8-sig") if name in names else ""

            return ImportData(
                follows=parse_follows(text("following_accounts.csv")),
                circles=parse_circles(text("circles.csv")),
            )
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"{path} is neither a zip archive nor a UTF-8 CSV file") from exc
    first = content.lstrip().split("\n", 1)[0].lower()
    if first.startswith("account address"):
        return ImportData(follows=parse_follows(content), circles=[])
    return ImportData(follows=[], circles=parse_circles(content))


async def import_into(node: Node, username: str, data: ImportData) -> ImportReport:
    """Follow and fill circles as ``username``; needs the node's HTTP client."""
    report = ImportReport()
    async with node.reads() as db:
        _, me = await require_user_actor(db, username)
    resolved: dict[str, Actor | None] = {}

    async def resolve(address: str) -> Actor | None:
        if address not in resolved:
            try:
                resolved[address] = await resolve_account(node, address)
            except CercleError as exc:
                report.failures.append(f"{address}: {exc.message}")
                resolved[address] = None
        return resolved[address]

    for address in data.follows:
        target = await resolve(address)
        if target is None or target.id == me.id:
            continue
        try:
            await follow(node, me, target)
            report.followed += 1
        except CercleError as exc:
            report.failures.append(f"{address}: {exc.message}")

    for title, address in data.circles:
        target = await resolve(address) if address else None
        async with transaction(node) as db:
            existing = {c.title: c for c in await circles_of(db, me)}
            circle = existing.get(title)
            if circle is None:
                circle = await create_circle(db, me, title)
                report.circles_created += 1
            if target is not None and target.id != me.id:
                try:
                    await add_members(db, circle, [target])
                    report.circle_members += 1
                except CercleError as exc:
                    report.failures.append(f"{address}: {exc.message}")
    async with transaction(node) as db:
        record_audit(
            db,
            "import.user",
            target=me.username,
            detail={
                "followed": report.followed,
                "circle_members": report.circle_members,
                "failures": len(report.failures),
            },
        )
    return report
