"""The signed, guarded fetcher against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from federation.errors import FetchError, SignatureError, UnsafeURLError
from federation.fetch import Fetcher, Signer, make_client_session
from federation.media_types import ACTIVITY_JSON
from federation.signatures import generate_rsa_key, parse_request_signature

KEY_ID = "https://cercle.test/actor#main-key"
PUBLIC_KEY = web.AppKey("public_key", object)
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer(KEY_ID, generate_rsa_key())


def _self_url(request: web.Request, path: str) -> str:
    return str(request.url.with_path(path).with_query(None))


async def actor(request: web.Request) -> web.Response:
    """An actor endpoint in authorised-fetch mode: refuses GETs without a valid signature."""
    try:
        sig = parse_request_signature(request.method, str(request.url), request.headers)
    except SignatureError as exc:
        return web.Response(status=401, text=exc.reason)
    if sig.key_id != KEY_ID or not sig.verify(request.app[PUBLIC_KEY]):
        return web.Response(status=401, text="bad signature")
    doc = {"id": _self_url(request, "/users/bob"), "type": "Person"}
    return web.json_response(doc, content_type=ACTIVITY_JSON)


async def unsigned_only(request: web.Request) -> web.Response:
    assert "Signature" not in request.headers
    return web.json_response({"ok": True, "accept": request.headers["Accept"]})


async def spoof(request: web.Request) -> web.Response:
    """Claims an actor on another host, or on the same host but another port."""
    other_port = request.url.port + 1
    claims = {
        "host": "https://victim.example/users/alice",
        "port": str(request.url.with_port(other_port).with_path("/users/alice")),
        "none": "not a URL",
    }
    return web.json_response({"id": claims[request.query["claim"]], "type": "Person"})


async def redirect(request: web.Request) -> web.Response:
    hops = int(request.match_info["hops"])
    target = "/users/bob" if hops == 1 else f"/redirect/{hops - 1}"
    raise web.HTTPFound(target)


async def redirect_to(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.query["to"])


async def big(request: web.Request) -> web.StreamResponse:
    """A body with no Content-Length: the cap must hold while streaming."""
    response = web.StreamResponse(headers={"Content-Type": ACTIVITY_JSON})
    await response.prepare(request)
    for _ in range(40):
        await response.write(b" " * 65536)
    await response.write_eof()
    return response


async def big_declared(request: web.Request) -> web.Response:
    return web.Response(body=b"{}" + b" " * 2_000_000, content_type="application/json")


async def html(request: web.Request) -> web.Response:
    return web.Response(text="<html></html>", content_type="text/html")


async def not_an_object(request: web.Request) -> web.Response:
    return web.json_response([1, 2, 3])


async def hang(request: web.Request) -> web.Response:
    await asyncio.Event().wait()  # never answers; the fetcher's deadline must fire
    raise AssertionError("unreachable")


async def missing(request: web.Request) -> web.Response:
    return web.json_response({"error": "not found"}, status=404)


async def gone(request: web.Request) -> web.Response:
    return web.json_response({"error": "gone"}, status=410)


async def media(request: web.Request) -> web.Response:
    headers = CIMultiDict([("Link", "<a>"), ("link", "<b>")])
    return web.Response(body=b"\x89PNG...", content_type="image/png", headers=headers)


def _app(public_key: object) -> web.Application:
    app = web.Application()
    app[PUBLIC_KEY] = public_key
    app.router.add_get("/users/bob", actor)
    app.router.add_get("/public", unsigned_only)
    app.router.add_get("/spoof", spoof)
    app.router.add_get("/redirect/{hops}", redirect)
    app.router.add_get("/redirect-to", redirect_to)
    app.router.add_get("/big", big)
    app.router.add_get("/big-declared", big_declared)
    app.router.add_get("/html", html)
    app.router.add_get("/list", not_an_object)
    app.router.add_get("/missing", missing)
    app.router.add_get("/gone", gone)
    app.router.add_get("/hang", hang)
    app.router.add_get("/media.png", media)
    return app


@pytest.fixture
async def server(aiohttp_server: ServerFactory, signer: Signer) -> TestServer:
    return await aiohttp_server(_app(signer.private_key.public_key()))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    session = make_client_session(allow_loopback=True, user_agent="cercle-test")
    yield session
    await session.close()


@pytest.fixture
def fetcher(session: aiohttp.ClientSession, signer: Signer) -> Fetcher:
    return Fetcher(session, signer=signer, allow_loopback=True, max_bytes=1_000_000, timeout=2.0)


async def test_signed_fetch_of_an_actor(server: TestServer, fetcher: Fetcher) -> None:
    """The GET carries a valid draft-cavage signature, so an authorised-fetch server answers."""
    url = str(server.make_url("/users/bob"))
    doc = await fetcher.get_actor(url)
    assert doc == {"id": url, "type": "Person"}


async def test_unsigned_fetch_sends_no_signature(server: TestServer, fetcher: Fetcher) -> None:
    doc = await fetcher.get_json(
        str(server.make_url("/public")), accept="application/json", signed=False
    )
    assert doc == {"ok": True, "accept": "application/json"}


async def test_without_signer_requests_are_unsigned(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    fetcher = Fetcher(session, signer=None, allow_loopback=True)
    with pytest.raises(FetchError) as caught:
        await fetcher.get_json(str(server.make_url("/users/bob")))
    assert caught.value.status == 401


@pytest.mark.parametrize("claim", ["host", "port", "none"])
async def test_actor_id_on_another_host_is_refused(
    server: TestServer, fetcher: Fetcher, claim: str
) -> None:
    """Anti-spoofing: a server cannot hand out a document for another server's actor."""
    with pytest.raises(FetchError, match="not on the host"):
        await fetcher.get_actor(str(server.make_url("/spoof").with_query(claim=claim)))


async def test_follows_up_to_three_redirects(server: TestServer, fetcher: Fetcher) -> None:
    doc = await fetcher.get_actor(str(server.make_url("/redirect/3")))
    assert doc["id"] == str(server.make_url("/users/bob"))


async def test_refuses_a_fourth_redirect(server: TestServer, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="more than 3 redirects"):
        await fetcher.get_json(str(server.make_url("/redirect/4")))


@pytest.mark.parametrize(
    "target",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/admin",
        "https://[::ffff:192.168.0.1]/",
        "http://example.com/plain-http",
        "file:///etc/passwd",
    ],
)
async def test_redirect_to_a_forbidden_target_is_refused(
    server: TestServer, fetcher: Fetcher, target: str
) -> None:
    """Each hop is checked before it is requested, so no packet leaves for the target."""
    url = server.make_url("/redirect-to").with_query(to=target)
    with pytest.raises(UnsafeURLError):
        await fetcher.get_json(str(url))


async def test_loopback_is_unreachable_outside_dev_mode(server: TestServer, signer: Signer) -> None:
    """With allow_loopback=False the test server itself is off limits: by literal IP in the
    URL check, and by name (localhost) in the guarded resolver at connect time."""
    session = make_client_session(allow_loopback=False, user_agent="cercle-test")
    try:
        fetcher = Fetcher(session, signer=signer, allow_loopback=False)
        with pytest.raises(UnsafeURLError):
            await fetcher.get_json(str(server.make_url("/users/bob")))
        with pytest.raises(UnsafeURLError, match="resolves to forbidden address"):
            await fetcher.get_json(f"https://localhost:{server.port}/users/bob")
        # The session guards requests made without the Fetcher too.
        with pytest.raises(UnsafeURLError):
            await session.get(str(server.make_url("/public")))
        with pytest.raises(UnsafeURLError, match="resolves to forbidden address"):
            await session.get(f"https://localhost:{server.port}/public")
    finally:
        await session.close()


@pytest.mark.parametrize("path", ["/big", "/big-declared"])
async def test_size_cap(server: TestServer, fetcher: Fetcher, path: str) -> None:
    with pytest.raises(FetchError, match="larger than 1000000 bytes"):
        await fetcher.get_json(str(server.make_url(path)))


async def test_wrong_content_type(server: TestServer, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="text/html"):
        await fetcher.get_json(str(server.make_url("/html")))


async def test_json_that_is_not_an_object(server: TestServer, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="not an object"):
        await fetcher.get_json(str(server.make_url("/list")))


@pytest.mark.parametrize(("path", "status"), [("/missing", 404), ("/gone", 410)])
async def test_http_error_status_is_carried(
    server: TestServer, fetcher: Fetcher, path: str, status: int
) -> None:
    """A 410 (deleted actor) must be told apart from other failures by its status."""
    with pytest.raises(FetchError) as caught:
        await fetcher.get_json(str(server.make_url(path)))
    assert caught.value.status == status
    assert str(status) in caught.value.reason


async def test_timeout(server: TestServer, session: aiohttp.ClientSession) -> None:
    fetcher = Fetcher(session, signer=None, allow_loopback=True, timeout=0.2)
    with pytest.raises(FetchError, match=re.escape("timed out after 0.2s")):
        await fetcher.get_json(str(server.make_url("/hang")))


async def test_connection_refused_is_a_fetch_error(fetcher: Fetcher, unused_tcp_port: int) -> None:
    with pytest.raises(FetchError, match="could not fetch"):
        await fetcher.get_json(f"http://127.0.0.1:{unused_tcp_port}/users/bob")


async def test_get_returns_status_headers_and_body(server: TestServer, fetcher: Fetcher) -> None:
    status, headers, body = await fetcher.get(str(server.make_url("/media.png")), "image/*")
    assert (status, headers["content-type"], body) == (200, "image/png", b"\x89PNG...")
    assert headers["link"] == "<a>, <b>"  # repeated headers joined, names lower-cased
    status, _, _ = await fetcher.get(str(server.make_url("/gone")), "*/*")
    assert status == 410
