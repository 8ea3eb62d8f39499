"""Streaming tickets: what a forger, a replayer or a cookie thief would try."""

from __future__ import annotations

from node.stream_tickets import TICKET_SECONDS, make_ticket, ticket_user_id

KEY = bytes(32)
NOW = 1_800_000_000


def test_ticket_names_its_user_until_it_expires() -> None:
    ticket = make_ticket(KEY, 42, NOW)
    assert ticket_user_id(KEY, ticket, NOW) == (42, NOW)
    assert ticket_user_id(KEY, ticket, NOW + TICKET_SECONDS) == (42, NOW)
    assert ticket_user_id(KEY, ticket, NOW + TICKET_SECONDS + 1) is None


def test_changed_or_foreign_tickets_are_refused() -> None:
    ticket = make_ticket(KEY, 42, NOW)
    prefix, _user, rest = ticket.split(".", 2)
    assert ticket_user_id(KEY, f"{prefix}.43.{rest}", NOW) is None  # another user
    assert ticket_user_id(b"k" * 32, ticket, NOW) is None  # another node's key
    changed = "1" if ticket[-1] == "0" else "0"  # another last character, whatever it was
    assert ticket_user_id(KEY, ticket[:-1] + changed, NOW) is None
    assert ticket_user_id(KEY, "cst1.garbage", NOW) is None


def test_expiry_far_in_the_future_is_refused() -> None:
    """A ticket claiming a long life was not made here, even with the right signature
    shape: the lifetime is capped at the issuer's."""
    ticket = make_ticket(KEY, 42, NOW + 3600)
    assert ticket_user_id(KEY, ticket, NOW) is None


def test_session_cookie_signature_is_not_a_ticket() -> None:
    """The cookie and the ticket share a key but not a label: one never passes as the other."""
    from webui.sessions import _sign

    payload = f"42.{NOW + TICKET_SECONDS}.{'n' * 22}"
    assert ticket_user_id(KEY, f"cst1.{payload}.{_sign(KEY, payload)}", NOW) is None
