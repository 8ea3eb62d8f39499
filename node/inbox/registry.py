"""Activity type → handler, filled by the handler modules' ``@handles`` decorators."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import Activity
from node.batch_io import BatchIO
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
    #: the local user whose personal inbox the activity came to (None: a shared inbox)
    recipient: str | None = None
    #: set by handlers that queued deliveries, so the gate wakes the workers
    queued: bool = False
    notes: list[str] = field(default_factory=list)


Apply = Callable[[InboxContext], Awaitable[None]]
Prepare = Callable[[Node, Activity, Actor], Awaitable[Any]]
#: Whether ``prepare`` may do network I/O for this activity.
Fetches = Callable[[Activity], bool]
#: Whether this activity, once prepared, can go through ``apply_many``.
Batchable = Callable[[Activity, Actor, Any], bool]
#: Applies many activities in one go (see ``handles``).
ApplyMany = Callable[[list[InboxContext], BatchIO], Awaitable[None]]


def _always(_activity: Activity) -> bool:
    return True


@dataclass(frozen=True)
class Handler:
    apply: Apply
    prepare: Prepare | None = None
    fetches: Fetches = _always
    batchable: Batchable | None = None
    apply_many: ApplyMany | None = None

    def can_batch(self, activity: Activity, actor: Actor, prepared: Any) -> bool:
        return self.batchable is not None and self.batchable(activity, actor, prepared)


_HANDLERS: dict[str, Handler] = {}


def handles(
    activity_type: str,
    *,
    prepare: Prepare | None = None,
    fetches: Fetches = _always,
    batchable: Batchable | None = None,
    apply_many: ApplyMany | None = None,
) -> Callable[[Apply], Apply]:
    """Register ``apply`` for ``activity_type``.

    ``prepare`` does network I/O (fetching a boosted post, say) before the write
    transaction opens, never inside it; ``fetches`` tells, for one activity, whether it
    may (when it may not, a replayed activity is recognised only in the transaction,
    which saves a read per activity in the common case).

    ``apply_many`` applies, in one go, consecutive activities of a group-commit batch for
    which ``batchable`` is true: same stored rows, notifications and live events as
    ``apply`` on each in turn, with a few statements for all of them, sent through the
    ``BatchIO`` it is given (node/batch_io.py); ``ctx.db`` then only collects live
    events and must run no statement (it may be a session without a connection). It
    gets the contexts of activities not received before (their ``received_activities``
    rows are among the io's pending writes) and reports like ``apply`` through each
    context's ``notes`` and ``queued``; if it raises, its writes are rolled back and
    each activity goes through ``apply``.
    """

    def register(fn: Apply) -> Apply:
        if activity_type in _HANDLERS:
            raise RuntimeError(f"two handlers for {activity_type}")
        _HANDLERS[activity_type] = Handler(
            apply=fn,
            prepare=prepare,
            fetches=fetches,
            batchable=batchable,
            apply_many=apply_many,
        )
        return fn

    return register


def handler_for(activity_type: str) -> Handler | None:
    _load()
    return _HANDLERS.get(activity_type)


def supported_types() -> frozenset[str]:
    _load()
    return frozenset(_HANDLERS)


def _load() -> None:
    # Importing the package runs every module's @handles (once: asked per request).
    if not _HANDLERS:
        import node.inbox.handlers  # noqa: F401
