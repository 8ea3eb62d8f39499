"""Streaming tickets: how a signed-in web page opens the streaming API without an OAuth token.

The web session lives in an HttpOnly cookie that page scripts cannot read, and letting the
streaming endpoint accept that cookie would open it to cross-site WebSocket hijacking (a
browser sends cookies on a WebSocket handshake from any origin). Instead the page asks its
own node, with a CSRF-checked same-origin request, for a ticket, and hands the ticket to the
WebSocket as its ``Sec-WebSocket-Protocol`` (or ``access_token``) value.

A ticket is ``cst1.<user id>.<expiry>.<nonce>.<HMAC-SHA256>``, signed with the key of the
web session cookies under its own label (a cookie signature can never pass for a ticket,
nor the reverse). It:

- only opens a connection: it is checked at the handshake, and a stream that is already
  open outlives it (as a stream outlives a revoked OAuth token in Mastodon);
- is short-lived (``TICKET_SECONDS``) so one copied out of a log is soon useless;
- grants only reading statuses and notifications (``TICKET_SCOPES``), and is accepted by
  the streaming endpoint alone: the REST API does not know the format;
- names a user who must still exist and be enabled when it is used.

Stateless by design: every process of a scaled-out node can check it, with no table.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from node.context import Node
from node.db.models import Actor, User
from node.web_sessions import session_user, web_session_key

PREFIX = "cst1."
TICKET_SECONDS = 60
TICKET_SCOPES = "read:statuses read:notifications"
_TICKET = re.compile(r"^cst1\.(\d{1,19})\.(\d{1,12})\.([A-Za-z0-9_-]{16,64})\.([0-9a-f]{64})$")


def _signature(key: bytes, payload: str) -> str:
    return hmac.new(key, b"stream-ticket:" + payload.encode(), hashlib.sha256).hexdigest()


def make_ticket(key: bytes, user_id: int, now: int) -> str:
    """A ticket for ``user_id`` valid ``TICKET_SECONDS`` from ``now`` (pure)."""
    payload = f"{user_id}.{now + TICKET_SECONDS}.{secrets.token_urlsafe(16)}"
    return f"{PREFIX}{payload}.{_signature(key, payload)}"


def ticket_user_id(key: bytes, ticket: str, now: int) -> tuple[int, int] | None:
    """The user a ticket names and when it was issued, or None when it is malformed,
    forged or expired (pure)."""
    match = _TICKET.match(ticket)
    if match is None:
        return None
    user_id, expires, nonce, signature = match.groups()
    if not hmac.compare_digest(_signature(key, f"{user_id}.{expires}.{nonce}"), signature):
        return None
    if int(expires) < now or int(expires) > now + TICKET_SECONDS + 5:
        return None
    return int(user_id), int(expires) - TICKET_SECONDS


def is_ticket(value: str) -> bool:
    return value.startswith(PREFIX)


async def issue_ticket(node: Node, user: User) -> str:
    return make_ticket(await web_session_key(node), user.id, int(time.time()))


async def redeem_ticket(node: Node, ticket: str) -> tuple[User, Actor] | None:
    """The enabled user and their actor behind a valid ticket; None otherwise."""
    found = ticket_user_id(await web_session_key(node), ticket, int(time.time()))
    if found is None:
        return None
    user_id, issued = found
    # Sessions revoked after the ticket was issued revoke the ticket too.
    return await session_user(node, user_id, issued)
