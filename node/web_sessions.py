"""What the web pages need from storage that no other service offers: the key that signs
their session cookies, the signed-in user behind a cookie, and the authors of a page of posts.

A session is a signed cookie (the key is one NodeSetting row, made on first use, so it
survives restarts and every process of the node shares it) *and* a ``web_sessions`` row
named by the cookie's nonce: the signature proves the cookie is ours, the row that the
session is still open, so a person can list where they are signed in and end any one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from node.context import Node, transaction
from node.db.models import Actor, NodeSetting, User, WebSessionRecord
from node.identity.sessions import sessions_revoked_at

WEB_SESSION_KEY = "web_session_key"


async def web_session_key(node: Node) -> bytes:
    """The HMAC key of web session cookies and CSRF tokens (32 random bytes)."""
    async with node.reads() as db:
        value = await db.scalar(select(NodeSetting.value).where(NodeSetting.key == WEB_SESSION_KEY))
    if value is None:
        try:
            async with transaction(node) as db:
                db.add(NodeSetting(key=WEB_SESSION_KEY, value=secrets.token_hex(32)))
        except IntegrityError:
            pass  # another request made it first: read theirs
        async with node.reads() as db:
            value = await db.scalar(
                select(NodeSetting.value).where(NodeSetting.key == WEB_SESSION_KEY)
            )
    assert value is not None
    return bytes.fromhex(value)


async def session_user(
    node: Node, user_id: int, issued: int | None = None, nonce: str | None = None
) -> tuple[User, Actor] | None:
    """The user a valid cookie names, or None when the account is gone or disabled: a
    disabled account is signed out on its next page, not when its cookie expires. A
    cookie ``issued`` before the account's sessions were revoked (a suspension by the
    directory) stays dead even once the account is enabled again."""
    async with node.reads() as db:
        row = (
            await db.execute(
                select(User, Actor).join(Actor, Actor.id == User.actor_id).where(User.id == user_id)
            )
        ).first()
        cutoff = await sessions_revoked_at(db, user_id) if row is not None else None
        open_ = row is not None and (
            nonce is None
            or await db.scalar(
                select(WebSessionRecord.id).where(
                    WebSessionRecord.nonce == nonce, WebSessionRecord.user_id == user_id
                )
            )
            is not None
        )
    if row is None or row[0].disabled or not open_:
        return None
    if cutoff is not None and issued is not None and issued <= cutoff.timestamp():
        return None
    return row[0], row[1]


async def actors_by_id(db: AsyncSession, ids: Iterable[int]) -> dict[int, Actor]:
    """Several actors in one query (the authors of a timeline page)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await db.scalars(select(Actor).where(Actor.id.in_(wanted)))
    return {actor.id: actor for actor in rows}


@dataclass(frozen=True)
class OpenSession:
    id: int
    user_agent: str
    created_at: datetime
    current: bool


async def open_session(node: Node, user_id: int, nonce: str, user_agent: str) -> None:
    """Record a new signed-in browser (at sign-in, before its cookie is sent)."""
    async with transaction(node) as db:
        db.add(WebSessionRecord(nonce=nonce, user_id=user_id, user_agent=user_agent[:255]))


async def sessions_of(node: Node, user_id: int, current_nonce: str) -> list[OpenSession]:
    async with node.reads() as db:
        rows = await db.scalars(
            select(WebSessionRecord)
            .where(WebSessionRecord.user_id == user_id)
            .order_by(WebSessionRecord.id.desc())
        )
        return [
            OpenSession(r.id, r.user_agent, r.created_at, r.nonce == current_nonce) for r in rows
        ]


async def end_session(
    node: Node, user_id: int, *, nonce: str | None = None, id: int | None = None
) -> bool:
    """Sign one browser out (by its cookie's nonce, or by the id a settings form names)."""
    where = [WebSessionRecord.user_id == user_id]
    where.append(
        WebSessionRecord.nonce == nonce if nonce is not None else WebSessionRecord.id == id
    )
    async with transaction(node) as db:
        result = await db.execute(delete(WebSessionRecord).where(*where))
    return bool(result.rowcount)


async def end_other_sessions(db: AsyncSession, user_id: int, keep_nonce: str | None = None) -> None:
    """In an open transaction: every session of the account but ``keep_nonce``'s."""
    where = [WebSessionRecord.user_id == user_id]
    if keep_nonce is not None:
        where.append(WebSessionRecord.nonce != keep_nonce)
    await db.execute(delete(WebSessionRecord).where(*where))
