"""The web pages' way into the streaming API: a signed-in browser session asks its node
for a short-lived ticket (CSRF-checked) and opens the WebSocket with it. Driven here with
plain HTTP, as a forger would: tests/browser/test_live_pwa.py drives it from the page."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from node import audience as aud
from node.accounts import set_disabled
from node.context import transaction
from node.posts import create_post
from tests.api.test_streaming import event_of_kind
from tests.harness import PASSWORD, RunningNode

TOKEN = re.compile(r'name="csrf-token" content="([0-9a-f]{64})"')
FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


async def web_session(node: RunningNode, username: str) -> aiohttp.ClientSession:
    """An HTTP client signed in through the sign-in form, holding the session cookie."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(f"{node.base_url}/signin") as response:
        match = FIELD.search(await response.text())
    assert match is not None
    async with http.post(
        f"{node.base_url}/signin",
        data={"username": username, "password": PASSWORD, "csrf_token": match.group(1)},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
    return http


async def page_token(http: aiohttp.ClientSession, node: RunningNode) -> str:
    async with http.get(f"{node.base_url}/home") as response:
        match = TOKEN.search(await response.text())
    assert match is not None, "the signed-in page carries its CSRF token for scripts"
    return match.group(1)


async def ticket(http: aiohttp.ClientSession, node: RunningNode, token: str) -> dict:
    async with http.post(
        f"{node.base_url}/home/stream-ticket", headers={"X-CSRF-Token": token}
    ) as response:
        assert response.status == 200, await response.text()
        assert response.headers["Cache-Control"] == "no-store"
        return await response.json()


@pytest.fixture
async def alice_web(node_a: RunningNode) -> AsyncIterator[aiohttp.ClientSession]:
    http = await web_session(node_a, "alice")
    try:
        yield http
    finally:
        await http.close()


def ws_url(node: RunningNode, query: str = "?stream=user") -> str:
    return node.base_url.replace("http", "ws", 1) + "/api/v1/streaming" + query


async def test_ticket_opens_the_user_stream_as_a_subprotocol(
    node_a: RunningNode, alice_web: aiohttp.ClientSession
) -> None:
    """The page's path: ticket as the WebSocket subprotocol (echoed back), then Alice's
    home events, filtered by visibility like any other client's."""
    grant = await ticket(alice_web, node_a, await page_token(alice_web, node_a))
    assert grant["url"] == "/api/v1/streaming" and grant["stream"] == "user"
    carol = await node_a.actor("carol")
    async with alice_web.ws_connect(ws_url(node_a), protocols=[grant["ticket"]]) as ws:
        assert ws.protocol == grant["ticket"]
        post = await create_post(node_a.node, carol, "Lunch at noon", audience=aud.ORGANISATION)
        event = await event_of_kind(ws, "update", timeout=5)
        assert json.loads(event["payload"])["id"] == str(post.id)


async def test_ticket_requires_the_page_token_in_a_header(
    node_a: RunningNode, alice_web: aiohttp.ClientSession
) -> None:
    """A cross-site page can make the browser POST with the cookie, but cannot read the
    CSRF token nor set a custom header: without it, no ticket."""
    for headers in ({}, {"X-CSRF-Token": "0" * 64}):
        async with alice_web.post(
            f"{node_a.base_url}/home/stream-ticket", headers=headers
        ) as response:
            assert response.status == 403
            assert "refused" in (await response.json())["error"]
    async with aiohttp.ClientSession() as stranger:
        async with stranger.post(f"{node_a.base_url}/home/stream-ticket") as response:
            assert response.status == 403


async def test_ticket_is_not_an_api_token_and_forgeries_are_refused(
    node_a: RunningNode, alice_web: aiohttp.ClientSession
) -> None:
    """The ticket opens streams only; a changed ticket opens nothing (401 before the
    upgrade, as a bad OAuth token gets)."""
    grant = await ticket(alice_web, node_a, await page_token(alice_web, node_a))
    async with alice_web.get(
        f"{node_a.base_url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {grant['ticket']}"},
    ) as response:
        assert response.status == 401
    forged = grant["ticket"][:-4] + "0000"
    for kwargs in ({"protocols": [forged]}, {}):
        query = "?stream=user" if kwargs else f"?stream=user&access_token={forged}"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await alice_web.ws_connect(ws_url(node_a, query), **kwargs)
        assert refused.value.status == 401


async def test_ticket_of_a_disabled_account_is_refused(
    node_a: RunningNode, alice_web: aiohttp.ClientSession
) -> None:
    grant = await ticket(alice_web, node_a, await page_token(alice_web, node_a))
    async with transaction(node_a.node) as db:
        await set_disabled(db, "alice")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await alice_web.ws_connect(ws_url(node_a), protocols=[grant["ticket"]])
    assert refused.value.status == 401
