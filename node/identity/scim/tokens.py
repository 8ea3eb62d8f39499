"""Bearer tokens for the directory's SCIM client: made by the admin (``cercle scim token
create``), shown once, stored as SHA-256 hashes, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import ScimToken
from node.db.types import utcnow
from node.errors import Invalid, NotFound
from node.identity.audit import record_audit

#: ``last_used_at`` is written at most this often per token, not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)
#: Tokens start with this, so a leaked one is recognisable (secret scanners, logs).
PREFIX = "cscim_"
MAX_NAME = 255


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    row: ScimToken
    #: the only moment the plain token exists
    token: str


async def create_token(db: AsyncSession, name: str | None) -> NewToken:
    label = (name or "").strip() or "directory"
    if len(label) > MAX_NAME:
        raise Invalid(f"a token name is at most {MAX_NAME} characters")
    token = PREFIX + secrets.token_urlsafe(32)
    row = ScimToken(name=label, token_hash=hash_token(token), created_at=utcnow())
    db.add(row)
    await db.flush()
    record_audit(db, "scim.token.created", target=label, detail={"id": str(row.id)})
    return NewToken(row=row, token=token)


async def list_tokens(db: AsyncSession) -> list[ScimToken]:
    return list(await db.scalars(select(ScimToken).order_by(ScimToken.id)))


async def revoke_token(db: AsyncSession, key: str) -> ScimToken:
    """Revoke by id or by name (a name shared by several live tokens is refused)."""
    rows: list[ScimToken] = []
    if key.isdigit():
        row = await db.get(ScimToken, int(key))
        rows = [row] if row is not None else []
    if not rows:
        rows = list(
            await db.scalars(
                select(ScimToken).where(ScimToken.name == key, ScimToken.revoked_at.is_(None))
            )
        )
    if not rows:
        raise NotFound(f"no SCIM token {key!r}")
    if len(rows) > 1:
        raise Invalid(f"several tokens are named {key!r}: revoke by id")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record_audit(db, "scim.token.revoked", target=row.name, detail={"id": str(row.id)})
    return row


async def authenticate(db: AsyncSession, token: str | None) -> ScimToken | None:
    """The live token row for a presented bearer token, else None."""
    if not token:
        return None
    digest = hash_token(token)
    row = await db.scalar(select(ScimToken).where(ScimToken.token_hash == digest))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.token_hash, digest):
        return None
    return row


async def mark_used(db: AsyncSession, token: ScimToken) -> None:
    """Record when the directory last called, for ``cercle scim token list``."""
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        await db.execute(update(ScimToken).where(ScimToken.id == token.id).values(last_used_at=now))
