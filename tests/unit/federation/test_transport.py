"""Delivery transport: one signed POST to a loopback inbox, reported as an outcome."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import formatdate

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.errors import SignatureError
from federation.fetch import Signer, make_client_session
from federation.media_types import ACTIVITY_JSON
from federation.signatures import generate_rsa_key, parse_request_signature, verify_body_digest
from federation.transport import DeliveryOutcome, deliver, parse_retry_after

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]
PUBLIC_KEY = web.AppKey("public_key", object)
BODY = b'{"type":"Create","id":"https://cercle.test/activities/1"}'


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer("https://cercle.test/actor#main-key", generate_rsa_key())


async def inbox(request: web.Request) -> web.Response:
    """A receiving inbox: accepts activity+json POSTs whose signature and digest verify."""
    body = await request.read()
    try:
        sig = parse_request_signature(request.method, str(request.url), request.headers)
        if verify_body_digest(request.headers, body) is None or not sig.covers_body_digest:
            return web.Response(status=401, text="no digest")
    except SignatureError as exc:
        return web.Response(status=401, text=exc.reason)
    if not sig.verify(request.app[PUBLIC_KEY]):
        return web.Response(status=401, text="bad signature")
    if request.content_type != ACTIVITY_JSON or body != BODY:
        return web.Response(status=400, text="bad body")
    return web.Response(status=202)


async def broken(request: web.Request) -> web.Response:
    return web.Response(status=500, text="Internal\n   Server  Error " + "x" * 10_000)


async def busy(request: web.Request) -> web.Response:
    return web.Response(status=429, headers={"Retry-After": "120"}, text="slow down")


async def maintenance(request: web.Request) -> web.Response:
    when = formatdate(time.time() + 300, usegmt=True)
    return web.Response(status=503, headers={"Retry-After": when})


async def hang(request: web.Request) -> web.Response:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


@pytest.fixture
async def server(aiohttp_server: ServerFactory, signer: Signer) -> TestServer:
    app = web.Application()
    app[PUBLIC_KEY] = signer.private_key.public_key()
    app.router.add_post("/inbox", inbox)
    app.router.add_post("/broken", broken)
    app.router.add_post("/busy", busy)
    app.router.add_post("/maintenance", maintenance)
    app.router.add_post("/hang", hang)
    return await aiohttp_server(app)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    session = make_client_session(allow_loopback=True, user_agent="cercle-test")
    yield session
    await session.close()


async def test_accepted(server: TestServer, session: aiohttp.ClientSession, signer: Signer) -> None:
    """The receiver verifies signature and digest, so 202 proves the request was signed."""
    outcome = await deliver(session, str(server.make_url("/inbox")), BODY, signer)
    assert outcome == DeliveryOutcome(202, None, None)


async def test_accepted_with_rfc9421(
    server: TestServer, session: aiohttp.ClientSession, signer: Signer
) -> None:
    url = str(server.make_url("/inbox"))
    outcome = await deliver(session, url, BODY, signer, scheme="rfc9421")
    assert outcome == DeliveryOutcome(202, None, None)


async def test_server_error_carries_a_short_error_text(
    server: TestServer, session: aiohttp.ClientSession, signer: Signer
) -> None:
    outcome = await deliver(session, str(server.make_url("/broken")), BODY, signer)
    assert outcome.status == 500
    assert outcome.error is not None
    assert outcome.error.startswith("HTTP 500: Internal Server Error xxx")
    assert len(outcome.error) < 4200


async def test_too_many_requests_with_retry_after_seconds(
    server: TestServer, session: aiohttp.ClientSession, signer: Signer
) -> None:
    outcome = await deliver(session, str(server.make_url("/busy")), BODY, signer)
    assert (outcome.status, outcome.retry_after, outcome.error) == (
        429,
        120.0,
        "HTTP 429: slow down",
    )


async def test_retry_after_as_http_date(
    server: TestServer, session: aiohttp.ClientSession, signer: Signer
) -> None:
    outcome = await deliver(session, str(server.make_url("/maintenance")), BODY, signer)
    assert outcome.status == 503
    assert outcome.retry_after is not None
    assert 290 <= outcome.retry_after <= 301


async def test_connection_refused_is_an_outcome(
    session: aiohttp.ClientSession, signer: Signer, unused_tcp_port: int
) -> None:
    outcome = await deliver(session, f"http://127.0.0.1:{unused_tcp_port}/inbox", BODY, signer)
    assert outcome.status is None
    assert outcome.error is not None and outcome.error.startswith("network error")
    assert not outcome.permanent


async def test_timeout_is_an_outcome(
    server: TestServer, session: aiohttp.ClientSession, signer: Signer
) -> None:
    outcome = await deliver(session, str(server.make_url("/hang")), BODY, signer, timeout=0.2)
    assert outcome == DeliveryOutcome(None, None, "timed out after 0.2s")


async def test_forbidden_inbox_is_a_permanent_outcome(server: TestServer, signer: Signer) -> None:
    """Outside dev mode the session's guard refuses a loopback inbox before connecting."""
    session = make_client_session(allow_loopback=False, user_agent="cercle-test")
    try:
        outcome = await deliver(session, str(server.make_url("/inbox")), BODY, signer)
        assert outcome.status is None and outcome.permanent
        outcome = await deliver(session, f"https://localhost:{server.port}/inbox", BODY, signer)
        assert outcome.status is None and outcome.permanent
        assert "resolves to forbidden address" in (outcome.error or "")
    finally:
        await session.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("120", 120.0),
        (" 0 ", 0.0),
        ("soon", None),
        ("-5", None),
        ("Thu, 01 Jan 1970 00:10:00 GMT", 600.0),
        ("Wed, 21 Oct 1960 07:28:00 GMT", 0.0),  # in the past: retry now
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=0.0) == expected
