"""Cutting an account's sessions and tokens at once (a suspension by the directory).

Web sessions are signed cookies with no table behind them, so they are cut by a
per-account moment: cookies issued before it are refused (``node.web_sessions``).
OAuth access and refresh tokens are revoked in the database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import OAuthToken, UserIdentity, WebSessionRecord
from node.db.types import utcnow


async def identity_row(db: AsyncSession, user_id: int) -> UserIdentity:
    """The account's identity row, made on first use."""
    row = await db.get(UserIdentity, user_id)
    if row is None:
        row = UserIdentity(user_id=user_id, updated_at=utcnow())
        db.add(row)
        await db.flush()
    return row


async def sessions_revoked_at(db: AsyncSession, user_id: int) -> datetime | None:
    return await db.scalar(
        select(UserIdentity.sessions_revoked_at).where(UserIdentity.user_id == user_id)
    )


async def revoke_sessions_and_tokens(db: AsyncSession, user_id: int) -> int:
    """Sign the account out everywhere; returns how many tokens were revoked."""
    now = utcnow()
    row = await identity_row(db, user_id)
    row.sessions_revoked_at = now
    row.updated_at = now
    await db.execute(delete(WebSessionRecord).where(WebSessionRecord.user_id == user_id))
    result = await db.execute(
        update(OAuthToken)
        .where(OAuthToken.user_id == user_id, OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
