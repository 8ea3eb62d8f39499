"""What the web pages need from storage that no other service offers: the key that signs
their session cookies, the signed-in user behind a cookie, and the authors of a page of posts.

Sessions live in signed cookies rather than a table: the key is one NodeSetting row, made on
first use, so it survives restarts and every process of the node shares it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from node.context import Node, transaction
from node.db.models import Actor, NodeSetting, User

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


async def session_user(node: Node, user_id: int) -> tuple[User, Actor] | None:
    """The user a valid cookie names, or None when the account is gone or disabled: a
    disabled account is signed out on its next page, not when its cookie expires."""
    async with node.reads() as db:
        row = (
            await db.execute(
                select(User, Actor).join(Actor, Actor.id == User.actor_id).where(User.id == user_id)
            )
        ).first()
    if row is None or row[0].disabled:
        return None
    return row[0], row[1]


async def actors_by_id(db: AsyncSession, ids: Iterable[int]) -> dict[int, Actor]:
    """Several actors in one query (the authors of a timeline page)."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await db.scalars(select(Actor).where(Actor.id.in_(wanted)))
    return {actor.id: actor for actor in rows}
