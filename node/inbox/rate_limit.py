"""Inbox abuse limits: how much one remote server, and one remote account, may make us do.

Checked in the gate right after the signature verifies (so a forger cannot spend a real
peer's budget by putting its key id in a header) and before anything is parsed or stored.
Three fixed one-minute windows, counted in process memory (cheap: three dict look-ups):

* per account (the signer): every activity;
* per domain (the signer's ``host[:port]``): every activity;
* per domain, *interactions*: Follows and replies (Creates whose object has ``inReplyTo``),
  the two activities that make a node do work for its own users — a follower-count bomb
  (thousands of fresh actors following one employee) and a reply flood are both capped here.

An activity over a limit gets 429 with ``Retry-After``; Mastodon, GoToSocial and Cercle's own
delivery queue retry later, so a legitimate burst is slowed, not lost. Defaults are well
above what a busy peer sends an enterprise node and can be changed in ``cercle.toml``::

    [inbox_limits]
    per_account = 6000        # activities per minute from one remote account
    per_domain = 12000        # activities per minute from one remote server
    interactions_per_domain = 300   # Follows + replies per minute from one remote server

Several processes each apply the limits on their own (as for the client API's limiter).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from federation.vocab import Activity
from node.api.ratelimit import RateLimiter

if TYPE_CHECKING:
    from node.context import Node

WINDOW_SECONDS = 60.0
DEFAULTS = {"per_account": 6000, "per_domain": 12000, "interactions_per_domain": 300}


@dataclass(frozen=True)
class Refusal:
    """Why an activity was refused, and when the sender may try again (whole seconds)."""

    reason: str
    retry_after: int


def _interaction(activity: Activity) -> bool:
    if activity.type == "Follow":
        return True
    obj = activity.object
    return activity.type == "Create" and isinstance(obj, dict) and bool(obj.get("inReplyTo"))


class InboxLimits:
    """The three inbox windows of one node."""

    def __init__(
        self,
        *,
        per_account: int = DEFAULTS["per_account"],
        per_domain: int = DEFAULTS["per_domain"],
        interactions_per_domain: int = DEFAULTS["interactions_per_domain"],
        window: float = WINDOW_SECONDS,
    ) -> None:
        self.accounts = RateLimiter(limit=per_account, window=window)
        self.domains = RateLimiter(limit=per_domain, window=window)
        self.interactions = RateLimiter(limit=interactions_per_domain, window=window)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> InboxLimits:
        """From the ``[inbox_limits]`` table (missing keys keep their defaults)."""
        values = {**DEFAULTS, **{k: int(v) for k, v in (config or {}).items() if k in DEFAULTS}}
        window = float((config or {}).get("window", WINDOW_SECONDS))
        return cls(**values, window=window)

    def check(
        self, signer_uri: str, domain: str, activity: Activity, now: float | None = None
    ) -> Refusal | None:
        """Count one activity; None when it may proceed, else the refusal to answer 429."""
        allowed, _, reset = self.accounts.hit(signer_uri, now)
        if not allowed:
            return Refusal(f"too many activities from {signer_uri}", _seconds(reset))
        allowed, _, reset = self.domains.hit(domain, now)
        if not allowed:
            return Refusal(f"too many activities from {domain}", _seconds(reset))
        if _interaction(activity):
            allowed, _, reset = self.interactions.hit(domain, now)
            if not allowed:
                return Refusal(f"too many follows and replies from {domain}", _seconds(reset))
        return None


def _seconds(reset: float) -> int:
    return max(1, int(reset + 0.999))


def limits_of(node: Node) -> InboxLimits:
    """The node's limits, built from its settings the first time the inbox needs them."""
    limits = node.inbox_limits
    if limits is None:
        limits = node.inbox_limits = InboxLimits.from_config(
            node.settings.extra.get("inbox_limits")
        )
    return limits


def too_many(refusal: Refusal) -> web.Response:
    return web.json_response(
        {"error": refusal.reason},
        status=429,
        headers={"Retry-After": str(refusal.retry_after)},
    )
