"""Reading the admins' decisions where other parts of the node need them: the inbox
(a suspended actor is refused), the public timelines (silenced and suspended accounts
are left out) and the account renderer. Kept free of the rest of the package so those
callers import nothing heavier than this."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from node.db.models import AccountModeration, Actor
from node.db.one_hop import one_hop

SUSPENDED_REFUSAL = "this account is suspended on this server"


@dataclass(frozen=True, slots=True)
class Standing:
    silenced: bool = False
    suspended: bool = False
    sensitized: bool = False


def hidden_from_public() -> Any:
    """Ids of the accounts whose posts public timelines leave out (silenced or
    suspended), as a subquery for ``Post.actor_id.not_in(...)``."""
    return select(AccountModeration.actor_id).where(
        or_(AccountModeration.silenced_at.is_not(None), AccountModeration.suspended_at.is_not(None))
    )


async def standings(
    db: AsyncSession | AsyncConnection, actor_ids: Iterable[int]
) -> dict[int, Standing]:
    """The standing of each account that has one; accounts not listed have none."""
    ids = list(set(actor_ids))
    if not ids:
        return {}
    table = AccountModeration
    rows = await db.execute(
        select(table.actor_id, table.silenced_at, table.suspended_at, table.sensitized_at).where(
            table.actor_id.in_(ids)
        )
    )
    return {
        actor_id: Standing(
            silenced=silenced is not None,
            suspended=suspended is not None,
            sensitized=sensitized is not None,
        )
        for actor_id, silenced, suspended, sensitized in rows
    }


async def is_suspended(db: AsyncSession, actor_id: int) -> bool:
    found = await db.scalar(
        select(AccountModeration.suspended_at).where(AccountModeration.actor_id == actor_id)
    )
    return found is not None


def moved_to(actor: Any) -> str | None:
    """The ``movedTo`` of an actor's document (ours or the peer's), if it moved."""
    value = (actor.raw or {}).get("movedTo")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


async def add_moderation_fields(
    renderer: Any, actors: list[Any], rendered: list[dict[str, Any]]
) -> None:
    """Mastodon's optional Account fields: ``suspended``, ``limited`` (silenced) and
    ``moved`` (the new account, when this node knows it)."""
    found = await standings(renderer.db, [a.id for a in actors])
    targets = {a.id: uri for a in actors if (uri := moved_to(a))}
    known: dict[str, Any] = {}
    if targets and isinstance(renderer.db, AsyncSession):
        rows = await renderer.db.scalars(select(Actor).where(Actor.uri.in_(set(targets.values()))))
        known = {a.uri: a for a in rows}
        if known:
            ids = [a.id for a in known.values()]
            await one_hop(renderer.db, lambda reads: renderer.read_stats(reads, ids))
    for actor, body in zip(actors, rendered, strict=True):
        standing = found.get(actor.id)
        if standing is not None and standing.suspended:
            body["suspended"] = True
        if standing is not None and standing.silenced:
            body["limited"] = True
        target = known.get(targets.get(actor.id, ""))
        if target is not None:
            body["moved"] = renderer.render_accounts([target])[0]
