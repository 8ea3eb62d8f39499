"""Getting the object an activity is about: embedded, or fetched before the transaction."""

from __future__ import annotations

from typing import Any

from federation.errors import FetchError, ValidationError
from federation.vocab import Activity, APObject, parse_object
from node.context import Node
from node.db.models import Actor
from node.inbox.registry import InboxRefusal


async def embedded_or_fetched(node: Node, activity: Activity, actor: Actor) -> APObject | None:
    """The activity's object, parsed; fetched (signed) when only its id was sent."""
    obj: Any = activity.object
    embedded = isinstance(obj, dict)
    if isinstance(obj, str):
        try:
            obj = await node.require_fetcher().get_json(obj)
        except FetchError:
            return None
    if not isinstance(obj, dict):
        return None
    try:
        return parse_object(obj)
    except ValidationError as exc:
        if embedded:
            # The peer sent us something malformed: say so rather than accept it silently.
            raise InboxRefusal(422, exc.reason) from exc
        return None


def authored_by(obj: APObject, actor: Actor) -> bool:
    """An actor may only create or change objects attributed to itself."""
    return obj.attributed_to == actor.uri


def object_not_embedded(activity: Activity) -> bool:
    """``embedded_or_fetched`` fetches only an object sent by id."""
    return not isinstance(activity.object, dict)
