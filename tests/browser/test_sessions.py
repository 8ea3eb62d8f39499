"""The session cookie and CSRF token rules, without a browser: what a forger would try."""

from __future__ import annotations

import time

import aiohttp

from tests.harness import PASSWORD, RunningNode
from webui.sessions import MAX_AGE, _parse, _sign, csrf_token

KEY = bytes(32)
NONCE = "n" * 43


def _cookie(user_id: int, issued: int, key: bytes = KEY) -> str:
    payload = f"{user_id}.{issued}.{NONCE}"
    return f"{payload}.{_sign(key, payload)}"


def test_cookie_signed_with_the_key_is_read() -> None:
    now = int(time.time())
    assert _parse(KEY, _cookie(7, now), now) == (7, now, NONCE)


def test_cookie_for_another_user_or_key_is_refused() -> None:
    """Changing the user id, or signing with another key, breaks the signature."""
    now = int(time.time())
    forged = _cookie(7, now).replace("7.", "8.", 1)
    assert _parse(KEY, forged, now) is None
    assert _parse(KEY, _cookie(7, now, key=b"x" * 32), now) is None
    assert _parse(KEY, "garbage", now) is None


def test_signed_in_cookie_expires_after_thirty_days() -> None:
    now = int(time.time())
    assert _parse(KEY, _cookie(7, now - MAX_AGE - 1), now) is None


def test_csrf_token_is_bound_to_the_nonce() -> None:
    assert csrf_token(KEY, NONCE) != csrf_token(KEY, "m" * 43)
    assert csrf_token(KEY, NONCE) != csrf_token(b"y" * 32, NONCE)


async def test_sign_in_without_the_form_token_is_refused(node_a: RunningNode) -> None:
    """Even the sign-in form needs its token: a login CSRF cannot sign a victim into the
    attacker's account."""
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{node_a.base_url}/signin",
            data={"username": "alice", "password": PASSWORD},
            allow_redirects=False,
        ) as response:
            assert response.status == 403
            assert "This form was refused" in await response.text()
