"""Federation policy: which peers we talk to (mode and domain blocks, DESIGN.md §4)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.db.models import DomainState, NodeSetting

MODES = ("open", "partners", "closed")
MODE_KEY = "federation_mode"


async def federation_mode(db: AsyncSession, default: str = "open") -> str:
    value = await db.scalar(select(NodeSetting.value).where(NodeSetting.key == MODE_KEY))
    return value or default


async def is_domain_blocked(db: AsyncSession, domain: str) -> bool:
    return bool(
        await db.scalar(select(DomainState.blocked).where(DomainState.domain == domain.lower()))
    )


async def refusal_reason(db: AsyncSession, domain: str, *, default_mode: str) -> str | None:
    """Why activities from ``domain`` are refused, or None when they are welcome."""
    if await is_domain_blocked(db, domain):
        return f"domain {domain} is blocked"
    if await federation_mode(db, default_mode) == "closed":
        return "this node does not federate"
    return None


async def set_domain_block(db: AsyncSession, domain: str, blocked: bool) -> None:
    row = await db.get(DomainState, domain.lower())
    if row is None:
        row = DomainState(domain=domain.lower(), failures=0)
        db.add(row)
    row.blocked = blocked
