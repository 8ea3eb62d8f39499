"""Activities delivered by a server other than their actor's (the inbox gate's step 6).

An activity is normally accepted only from its own actor: the HTTP signer must be the
``actor``. A forwarded one is the exception (a reply to a circle or partners post, passed
on by the original author's node to the rest of the audience, node/inbox/forwarding.py):
it is accepted when it carries a FEP-8b32 integrity proof made with one of its actor's
own keys (``assertionMethod``), and then processed as that actor's own. The forwarder
must be welcome here too. Anything else keeps the 401 of an activity signed by the
wrong actor.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from federation.errors import FetchError
from federation.integrity import proof_verification_method, verify_proof
from federation.vocab import Activity
from node.context import Node
from node.db.models import Actor
from node.db.types import utcnow
from node.inbox.process import incoming_of
from node.inbox.registry import InboxRefusal
from node.integrity_keys import assertion_key
from node.remote_actors import get_or_fetch_actor, host_of

#: An actor fetched more recently than this is not fetched again for a failing proof.
REFETCH_AFTER = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ForwardedActivity(Activity):
    """An activity whose actor's proof verified, delivered by ``forwarded_by``: handlers
    that care who passed it on (node/inbox/forwarding.py) can tell it from one sent by
    its actor."""

    forwarded_by: str = ""


async def accept_forwarded(
    node: Node, data: Any, activity: Activity, signer: Actor
) -> tuple[ForwardedActivity, Actor]:
    """The activity marked as forwarded by ``signer``, and its actor proven by the proof
    in ``data`` (the body as received); InboxRefusal (401, or 403 for an unwelcome
    forwarder) otherwise."""
    wrong_signer = f"signed by {signer.uri}, not by the activity's actor {activity.actor}"
    method = proof_verification_method(data) if isinstance(data, dict) else None
    if method is None:
        raise InboxRefusal(401, f"{wrong_signer}, and it carries no integrity proof")
    reason = await node.policy.refusal_reason(
        node, host_of(signer.uri), incoming_of(node, activity)
    )
    if reason is not None:
        raise InboxRefusal(403, f"forwarded by {signer.uri}: {reason}")
    try:
        actor = await get_or_fetch_actor(node, activity.actor)
    except FetchError as exc:
        raise InboxRefusal(
            401, f"{wrong_signer}; its actor cannot be fetched: {exc.reason}"
        ) from exc
    if actor.local:
        raise InboxRefusal(401, f"{wrong_signer}: our own actors' activities come from us")
    if not _proven(data, actor, method) and not _just_fetched(actor):
        # The actor may have rotated its key since we cached it: look once more.
        try:
            actor = await get_or_fetch_actor(node, activity.actor, refresh=True)
        except FetchError as exc:
            raise InboxRefusal(
                401, f"{wrong_signer}; its actor cannot be fetched: {exc.reason}"
            ) from exc
    if not _proven(data, actor, method):
        raise InboxRefusal(
            401, f"{wrong_signer}, and its integrity proof does not verify with {method}"
        )
    values = {f.name: getattr(activity, f.name) for f in fields(Activity)}
    return ForwardedActivity(**values, forwarded_by=signer.uri), actor


def _just_fetched(actor: Actor) -> bool:
    """Fetched moments ago: fetching it again would only let a stream of bad proofs make
    us hammer the actor's server."""
    return actor.fetched_at is not None and utcnow() - actor.fetched_at < REFETCH_AFTER


def _proven(data: dict[str, Any], actor: Actor, method: str) -> bool:
    key = assertion_key(actor, method)
    return key is not None and verify_proof(data, key)
