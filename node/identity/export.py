"""Archives: a user's own (Mastodon's archive layout plus its CSV exports) and the
firm's content for a date range (for the administrator).

User archive (zip), as Mastodon lays out "Request your archive" plus its CSV exports:

- ``actor.json`` — the ActivityPub actor document
- ``outbox.json`` — an ``OrderedCollection`` of the user's ``Create`` and ``Announce``
  activities, oldest first
- ``following_accounts.csv`` — Mastodon's follows export
  (``Account address,Show boosts,Notify on new posts,Languages``)
- ``followers.csv`` — ``Account address``, one follower a line
- ``circles.csv`` — Mastodon's lists export format (``title,account address``, no header)

Firm archive (zip): ``actors.json`` (local people), ``users.csv``, ``outbox.json`` (every
local post published in the range, any audience) and ``audit.json`` (the audit log for
the range). Both are written as a stream, post batch by post batch.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import AS_CONTEXT
from node.accounts import require_user_actor
from node.ap.documents import actor_document, announce_activity, create_activity
from node.context import Node, transaction
from node.db.models import Actor, Circle, CircleMember, Follow, Post, User
from node.db.models.follows import ACCEPTED
from node.errors import Invalid
from node.identity.audit import audit_entries, entry_json, record_audit

BATCH = 500
FOLLOWS_HEADER = ["Account address", "Show boosts", "Notify on new posts", "Languages"]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


async def _posts(db: AsyncSession, query: Select[tuple[Post]]) -> AsyncIterator[list[Post]]:
    last = 0
    while True:
        batch = list(await db.scalars(query.where(Post.id > last).order_by(Post.id).limit(BATCH)))
        if not batch:
            return
        yield batch
        last = batch[-1].id


async def _activity(db: AsyncSession, post: Post, author: Actor) -> dict[str, Any]:
    if post.reblog_of_id is None:
        return create_activity(post, author)
    original = await db.scalar(select(Post.uri).where(Post.id == post.reblog_of_id))
    return announce_activity(post, author, original or "")


async def _write_outbox(
    db: AsyncSession,
    archive: zipfile.ZipFile,
    uri: str,
    query: Select[tuple[Post]],
    authors: dict[int, Actor],
) -> int:
    """Stream ``outbox.json``: the collection head, then one activity at a time."""
    total = int(await db.scalar(select(func.count()).select_from(query.subquery())) or 0)
    head = {"@context": AS_CONTEXT, "id": uri, "type": "OrderedCollection", "totalItems": total}
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ', "orderedItems": ['
    with archive.open("outbox.json", "w") as stream:
        stream.write(opening.encode())
        first = True
        async for batch in _posts(db, query):
            for post in batch:
                author = authors.get(post.actor_id) or await db.get(Actor, post.actor_id)
                assert author is not None
                authors[author.id] = author
                item = await _activity(db, post, author)
                item.pop("@context", None)
                stream.write(
                    (b"" if first else b",\n") + json.dumps(item, ensure_ascii=False).encode()
                )
                first = False
        stream.write(b"]}\n")
    return total


async def _handles(db: AsyncSession, query: Select[tuple[Actor]]) -> list[str]:
    return [a.handle for a in await db.scalars(query)]


async def write_user_archive(node: Node, username: str, target: IO[bytes]) -> int:
    """Write ``username``'s archive to ``target``; returns the number of activities."""
    async with node.reads() as db:
        _, me = await require_user_actor(db, username)
        following = await _handles(
            db,
            select(Actor)
            .join(Follow, Follow.followee_id == Actor.id)
            .where(Follow.follower_id == me.id, Follow.state == ACCEPTED)
            .order_by(Actor.domain, Actor.username),
        )
        followers = await _handles(
            db,
            select(Actor)
            .join(Follow, Follow.follower_id == Actor.id)
            .where(Follow.followee_id == me.id, Follow.state == ACCEPTED)
            .order_by(Actor.domain, Actor.username),
        )
        circle_rows = (
            await db.execute(
                select(Circle.title, Actor)
                .join(CircleMember, CircleMember.circle_id == Circle.id)
                .join(Actor, Actor.id == CircleMember.actor_id)
                .where(Circle.owner_id == me.id)
                .order_by(Circle.id, Actor.username)
            )
        ).all()
        empty_circles = list(
            await db.scalars(
                select(Circle.title).where(
                    Circle.owner_id == me.id,
                    Circle.id.not_in(select(CircleMember.circle_id)),
                )
            )
        )
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("actor.json", json.dumps(actor_document(me), ensure_ascii=False))
            total = await _write_outbox(
                db,
                archive,
                me.outbox,
                select(Post).where(Post.actor_id == me.id, Post.deleted_at.is_(None)),
                {me.id: me},
            )
            archive.writestr(
                "following_accounts.csv",
                _csv([FOLLOWS_HEADER, *[[h, "true", "false", ""] for h in following]]),
            )
            archive.writestr(
                "followers.csv", _csv([["Account address"], *[[h] for h in followers]])
            )
            archive.writestr(
                "circles.csv",
                _csv(
                    [[title, actor.handle] for title, actor in circle_rows]
                    + [[title, ""] for title in empty_circles]
                ),
            )
    async with transaction(node) as db:
        record_audit(db, "export.user", target=me.username, detail={"activities": total})
    return total


async def write_firm_archive(
    node: Node, since: datetime, until: datetime, target: IO[bytes]
) -> int:
    """Write the firm's content published in ``[since, until)``; returns the post count."""
    if until <= since:
        raise Invalid("--until must be after --since")
    async with node.reads() as db:
        people = list(
            await db.execute(
                select(User, Actor).join(Actor, Actor.id == User.actor_id).order_by(Actor.username)
            )
        )
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "actors.json",
                json.dumps([actor_document(a) for _, a in people], ensure_ascii=False),
            )
            archive.writestr(
                "users.csv",
                _csv(
                    [["username", "email", "admin", "disabled", "created_at"]]
                    + [
                        [
                            a.username,
                            u.email or "",
                            str(u.is_admin).lower(),
                            str(u.disabled).lower(),
                            u.created_at.isoformat(),
                        ]
                        for u, a in people
                    ]
                ),
            )
            total = await _write_outbox(
                db,
                archive,
                f"{node.settings.base_url}/export",
                select(Post).where(
                    Post.local.is_(True),
                    Post.deleted_at.is_(None),
                    Post.published >= since,
                    Post.published < until,
                ),
                {a.id: a for _, a in people},
            )
            entries = await audit_entries(db, since=since, until=until)
            archive.writestr(
                "audit.json", json.dumps([entry_json(e) for e in entries], ensure_ascii=False)
            )
    async with transaction(node) as db:
        record_audit(
            db,
            "export.all",
            detail={"since": since.isoformat(), "until": until.isoformat(), "posts": total},
        )
    return total
