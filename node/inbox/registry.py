"""Activity type → handler, filled by the handler modules' ``@handles`` decorators."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import Activity
from node.context import Node
from node.db.models import Actor


class InboxRefusal(Exception):
    """Refuse the activity with an HTTP status; raised inside the transaction, it also
    rolls back anything the handler wrote."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class InboxContext:
    """What a handler gets: the verified activity, its (remote) actor, and the open
    transaction in which all its side effects must happen."""

    node: Node
    db: AsyncSession
    activity: Activity
    actor: Actor
    prepared: Any = None
    #: set by handlers that queued deliveries, so the gate wakes the workers
    queued: bool = False
    notes: list[str] = field(default_factory=list)


Apply = Callable[[InboxContext], Awaitable[None]]
Prepare = Callable[[Node, Activity, Actor], Awaitable[Any]]


@dataclass(frozen=True)
class Handler:
    apply: Apply
    prepare: Prepare | None = None


_HANDLERS: dict[str, Handler] = {}


def handles(activity_type: str, *, prepare: Prepare | None = None) -> Callable[[Apply], Apply]:
    """Register ``apply`` for ``activity_type``; ``prepare`` does network I/O (fetching a
    boosted post, say) before the write transaction opens, never inside it."""

    def register(fn: Apply) -> Apply:
        if activity_type in _HANDLERS:
            raise RuntimeError(f"two handlers for {activity_type}")
        _HANDLERS[activity_type] = Handler(apply=fn, prepare=prepare)
        return fn

    return register


def handler_for(activity_type: str) -> Handler | None:
    _load()
    return _HANDLERS.get(activity_type)


def supported_types() -> frozenset[str]:
    _load()
    return frozenset(_HANDLERS)


def _load() -> None:
    # Importing the package runs every module's @handles.
    import node.inbox.handlers  # noqa: F401
