"""The reference servers the real inbox is compared to, each in its own pinned process.

``--mode bare`` is the least any honest inbox must do per activity, written as directly as
Python allows: parse the draft-cavage ``Signature`` header, rebuild the signing string,
check Date and Digest, verify RSA with a key cached in memory, parse the JSON, check that
the signer is the actor, and insert one row into SQLite (WAL, ``synchronous=NORMAL``) by
group commit — requests wait for their row's commit, and one commit serves every row that
queued meanwhile. The 202 is sent only after the commit, as the node does.

``--mode null`` answers 202 after reading the body: the ceiling of aiohttp itself on one
core, so a reader sees how much of the budget is HTTP alone.

Prints ``ready <port>`` once listening; serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.common import pin_self
from bench.serving import serve_until_signal
from tests.harness import bind_loopback

PARAM_RE = re.compile(r'(\w+)="([^"]*)"')
MAX_SKEW = timedelta(hours=1)
PKCS1 = padding.PKCS1v15()
SHA256 = hashes.SHA256()

DB = web.AppKey("db", "GroupCommit")
KEYS = web.AppKey("keys", dict[str, rsa.RSAPublicKey])


class GroupCommit:
    """One writer task; each commit carries every row that arrived while the last ran."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS activities "
            "(uri TEXT PRIMARY KEY, actor TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL)"
        )
        self.pending: list[tuple[tuple[str, str, str, str], asyncio.Future[None]]] = []
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def insert(self, row: tuple[str, str, str, str]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((row, future))
        self.wakeup.set()
        await future

    async def run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            batch, self.pending = self.pending, []
            if not batch:
                continue
            # Idempotency by activity id comes with the primary key.
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(
                "INSERT OR IGNORE INTO activities VALUES (?, ?, ?, ?)", [r for r, _ in batch]
            )
            self.conn.execute("COMMIT")
            for _, future in batch:
                future.set_result(None)
            await asyncio.sleep(0)  # let the answered requests go before the next batch

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM activities").fetchone()[0])


def refuse(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def bare_inbox(request: web.Request) -> web.Response:
    body = await request.read()
    if "activity+json" not in request.headers.get("Content-Type", ""):
        return refuse(415, "expected application/activity+json")
    params = dict(PARAM_RE.findall(request.headers.get("Signature", "")))
    key = request.app[KEYS].get(params.get("keyId", ""))
    if key is None:
        return refuse(401, "unknown key")
    lines = []
    for name in params.get("headers", "date").split():
        if name == "(request-target)":
            lines.append(f"(request-target): post {request.path_qs}")
        else:
            value = request.headers.get(name)
            if value is None:
                return refuse(401, f"missing signed header {name}")
            lines.append(f"{name}: {value}")
    date = parsedate_to_datetime(request.headers["Date"])
    if abs(datetime.now(UTC) - date) > MAX_SKEW:
        return refuse(401, "date out of range")
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    if request.headers.get("Digest") != digest:
        return refuse(401, "digest mismatch")
    try:
        key.verify(base64.b64decode(params["signature"]), "\n".join(lines).encode(), PKCS1, SHA256)
    except (InvalidSignature, KeyError, ValueError):
        return refuse(401, "signature does not verify")
    activity = json.loads(body)
    if activity.get("actor") != params["keyId"].split("#", 1)[0]:
        return refuse(401, "signer is not the actor")
    await request.app[DB].insert(
        (activity["id"], activity["actor"], activity["type"], body.decode("utf-8"))
    )
    return web.Response(status=202)


async def null_inbox(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=202)


def build_app(mode: str, db_path: Path, key_id: str, key_pem: bytes) -> web.Application:
    app = web.Application()
    if mode == "null":
        app.router.add_post("/inbox", null_inbox)
        return app
    public = serialization.load_pem_public_key(key_pem)
    assert isinstance(public, rsa.RSAPublicKey)
    app[KEYS] = {key_id: public}

    async def group_commit(app: web.Application) -> AsyncIterator[None]:
        writer = GroupCommit(db_path)
        writer.task = asyncio.create_task(writer.run())
        app[DB] = writer
        yield
        writer.task.cancel()
        print(f"stored {writer.count()}", flush=True)
        writer.conn.close()

    app.cleanup_ctx.append(group_commit)
    app.router.add_post("/inbox", bare_inbox)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("bare", "null"), required=True)
    parser.add_argument("--db", type=Path, default=Path("bare.db"))
    parser.add_argument("--key-id", default="")
    parser.add_argument("--key-pem", type=Path, default=None)
    parser.add_argument("--cpu", type=int, default=None)
    args = parser.parse_args()
    pinned = args.cpu is not None and pin_self(args.cpu)
    key_pem = args.key_pem.read_bytes() if args.key_pem else b""
    sock = bind_loopback(0)
    app = build_app(args.mode, args.db, args.key_id, key_pem)
    asyncio.run(serve_until_signal(app, sock, f"ready {sock.getsockname()[1]} pinned={pinned}"))


if __name__ == "__main__":
    main()
