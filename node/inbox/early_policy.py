"""Refusing a blocked or unwelcome peer before its signature is checked.

Checking a signature may mean fetching the signer's actor and storing it. A blocked
domain, or a stranger in ``partners`` mode sending anything but a partnership request,
must leave no trace, so the policy is asked first on what the body claims. The claim is
not verified yet, which is safe only because this step can refuse and never admit: an
activity that passes it is checked again, on its verified actor, after the signature.
"""

from __future__ import annotations

from typing import Any

from node.context import Node
from node.policy import Incoming
from node.remote_actors import host_of


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


async def early_refusal(node: Node, data: Any) -> str | None:
    """Why the policy refuses what the parsed body ``data`` claims to be, or None
    (malformed activities are left to the gate's later steps, which say what is wrong)."""
    if not isinstance(data, dict):
        return None
    actor = _id_of(data.get("actor"))
    kind = data.get("type")
    if actor is None or not isinstance(kind, str):
        return None
    host = host_of(actor)
    if not host:
        return None
    incoming = Incoming(kind, _id_of(data.get("object")), node.urls.org())
    return await node.policy.refusal_reason(node, host, incoming)
