"""The key under which a received activity is remembered, so that a replay is applied
once (``received_activities``).

Usually the activity's id. But a post for a few people only (a circle post, Mastodon's
"limited" posts) reaches a server once per addressee, at each one's personal inbox, with
the same activity id and nothing in it saying whom it is for: the inbox it came to is the
only place that says so. Those deliveries are remembered per recipient, so the second
one adds its addressee instead of being dropped as a replay.
"""

from __future__ import annotations

from typing import Any

from federation.vocab import Activity, APObject, is_public


def openly_addressed(obj: APObject, followers_url: str | None) -> bool:
    """Addressed to the public or to the author's followers: the inbox it came to adds
    nothing to who may read it."""
    addressed = [*obj.to, *obj.cc]
    return any(is_public(a) or (followers_url and a == followers_url) for a in addressed)


def receipt_key(
    activity: Activity, prepared: Any, recipient: str | None, followers_url: str | None
) -> str:
    if (
        recipient
        and activity.type == "Create"
        and isinstance(prepared, APObject)
        and not openly_addressed(prepared, followers_url)
    ):
        return f"{activity.id}#inbox={recipient}"
    return activity.id
