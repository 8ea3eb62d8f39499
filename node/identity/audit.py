"""The append-only audit log: who did what to whom, and when.

Services call :func:`record_audit` inside the transaction that makes the change, so an
entry exists exactly when the change committed. Who is acting is not passed through every
service signature: the edge (a request handler, the CLI, the SCIM endpoint) sets it once
with :func:`acting_as`, and entries made below read it. Database triggers refuse UPDATE
and DELETE on the table (migration 0004).
"""

from __future__ import annotations

import contextvars
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import AuditEntry
from node.db.types import utcnow

if TYPE_CHECKING:
    from node.context import Node

#: Actions, for readers and for ``cercle audit`` filters. New ones may be added freely.
ACTIONS = (
    "signin.password",
    "signin.oidc",
    "signin.refused",
    "token.granted",
    "token.revoked",
    "user.created",
    "user.provisioned",
    "user.updated",
    "user.suspended",
    "user.reactivated",
    "user.deleted",
    "scim.token.created",
    "scim.token.revoked",
    "scim.group.changed",
    "partnership.proposed",
    "partnership.accepted",
    "partnership.refused",
    "partnership.ended",
    "federation.mode",
    "domain.blocked",
    "domain.unblocked",
    "retention.policy",
    "retention.hold",
    "retention.run",
    "export.user",
    "export.all",
    "import.user",
)

_ACTOR: contextvars.ContextVar[str] = contextvars.ContextVar("cercle_audit_actor", default="system")
_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cercle_audit_address", default=None
)


@contextmanager
def acting_as(actor: str, address: str | None = None) -> Iterator[None]:
    """Attribute the audit entries made inside the block to ``actor`` (from ``address``)."""
    token = _ACTOR.set(actor)
    token_address = _ADDRESS.set(address)
    try:
        yield
    finally:
        _ACTOR.reset(token)
        _ADDRESS.reset(token_address)


def cli_actor() -> str:
    """The operator at the console: ``cli:<login>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def current_actor() -> str:
    return _ACTOR.get()


def record_audit(
    db: AsyncSession,
    action: str,
    *,
    target: str = "",
    detail: dict[str, Any] | None = None,
    actor: str | None = None,
) -> AuditEntry:
    """Add an entry to ``db``'s transaction: it commits or rolls back with the change."""
    entry = AuditEntry(
        at=utcnow(),
        actor=(actor or _ACTOR.get())[:255],
        action=action[:64],
        target=target[:2048],
        detail=detail or {},
        address=_ADDRESS.get(),
    )
    db.add(entry)
    return entry


async def audit_entries(
    db: AsyncSession,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries oldest first (the order a log is read in)."""
    query = select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    if action is not None:
        query = query.where(AuditEntry.action.startswith(action))
    if limit is not None:
        query = query.limit(limit)
    return list(await db.scalars(query))


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
        "address": entry.address,
    }


async def audit_now(node: Node, action: str, **fields: Any) -> None:
    """Record an event that changes nothing else (a sign-in) in its own transaction."""
    from node.context import transaction  # node.context imports this module's users

    async with transaction(node) as db:
        record_audit(db, action, **fields)
