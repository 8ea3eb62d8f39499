"""WebFinger and host-meta: the documents Cercle serves and the lookup of remote handles."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from xml.etree import ElementTree

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.errors import FetchError
from federation.fetch import Fetcher, make_client_session
from federation.media_types import ACTIVITY_JSON, JRD_JSON, LD_JSON_AS
from federation.webfinger import (
    build_host_meta_json,
    build_host_meta_xml,
    build_jrd,
    parse_handle,
    resolve_handle,
)

ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


@pytest.mark.parametrize(
    ("handle", "expected"),
    [
        ("bob@example.com", ("bob", "example.com")),
        ("@bob@example.com", ("bob", "example.com")),
        ("acct:bob@example.com", ("bob", "example.com")),
        ("ACCT:bob@example.com", ("bob", "example.com")),
        ("@bob@host:8081", ("bob", "host:8081")),
        ("  bob@Example.COM  ", ("bob", "example.com")),
        ("Bob_Smith@acme.example", ("Bob_Smith", "acme.example")),
        ("bob.smith-2@sub.acme.example", ("bob.smith-2", "sub.acme.example")),
        ("bob@127.0.0.1:8080", ("bob", "127.0.0.1:8080")),
        ("bob@[::1]:8080", ("bob", "[::1]:8080")),
    ],
)
def test_parse_handle_accepts(handle: str, expected: tuple[str, str]) -> None:
    assert parse_handle(handle) == expected


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "bob",
        "@bob",
        "bob@",
        "@example.com",
        "bob@@example.com",
        "bob@example.com@other",
        "bob smith@example.com",
        "bob@exa mple.com",
        "https://example.com/users/bob",
        "bob@example.com/path",
        "bob@example.com:port",
        "acct:@bob@example.com",
    ],
)
def test_parse_handle_refuses(handle: str) -> None:
    with pytest.raises(ValueError, match="handle"):
        parse_handle(handle)


def test_build_jrd_shape() -> None:
    """The same shape as Mastodon's, which every implementation reads."""
    jrd = build_jrd(
        username="alice",
        domain="acme.example",
        actor_url="https://acme.example/users/alice",
        profile_url="https://acme.example/@alice",
    )
    assert jrd == {
        "subject": "acct:alice@acme.example",
        "aliases": ["https://acme.example/@alice", "https://acme.example/users/alice"],
        "links": [
            {
                "rel": "http://webfinger.net/rel/profile-page",
                "type": "text/html",
                "href": "https://acme.example/@alice",
            },
            {"rel": "self", "type": ACTIVITY_JSON, "href": "https://acme.example/users/alice"},
            {
                "rel": "http://ostatus.org/schema/1.0/subscribe",
                "template": "https://acme.example/authorize_interaction?uri={uri}",
            },
        ],
    }


def test_host_meta_xml_is_an_xrd_with_the_lrdd_template() -> None:
    root = ElementTree.fromstring(build_host_meta_xml("https://acme.example/"))
    assert root.tag == "{http://docs.oasis-open.org/ns/xri/xrd-1.0}XRD"
    (link,) = list(root)
    assert link.attrib == {
        "rel": "lrdd",
        "template": "https://acme.example/.well-known/webfinger?resource={uri}",
    }


def test_host_meta_json() -> None:
    assert build_host_meta_json("https://acme.example") == {
        "links": [
            {"rel": "lrdd", "template": "https://acme.example/.well-known/webfinger?resource={uri}"}
        ]
    }


def _jrd_response(request: web.Request, link_type: str = ACTIVITY_JSON) -> web.Response:
    """Answer a lookup like a remote server; WebFinger must come unsigned."""
    assert "Signature" not in request.headers
    resource = request.query["resource"]
    user = resource.removeprefix("acct:").split("@")[0]
    if user == "nobody":
        return web.json_response({"error": "not found"}, status=404, content_type=JRD_JSON)
    links = [{"rel": "self", "type": link_type, "href": f"https://remote.example/users/{user}"}]
    if user == "htmlonly":
        links = [{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "x"}]
    return web.json_response({"subject": resource, "links": links}, content_type=JRD_JSON)


async def _plain_endpoint(request: web.Request) -> web.Response:
    return _jrd_response(request)


def _plain_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/.well-known/webfinger", _plain_endpoint)
    return app


def _moved_app(host_meta: str | None) -> web.Application:
    """A server whose WebFinger lives elsewhere, announced by host-meta (or not at all)."""

    async def old_endpoint(request: web.Request) -> web.Response:
        return web.Response(status=404)

    async def serve_host_meta(request: web.Request) -> web.Response:
        if host_meta is None:
            return web.Response(status=404)
        is_json = host_meta.startswith("{")
        content_type = "application/json" if is_json else "application/xrd+xml"
        return web.Response(text=host_meta, content_type=content_type)

    app = web.Application()
    app.router.add_get("/.well-known/webfinger", old_endpoint)
    app.router.add_get("/.well-known/host-meta", serve_host_meta)

    async def new_endpoint(request: web.Request) -> web.Response:
        return _jrd_response(request, LD_JSON_AS)

    app.router.add_get("/social/webfinger", new_endpoint)
    return app


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    session: aiohttp.ClientSession = make_client_session(allow_loopback=True, user_agent="t")
    yield Fetcher(session, signer=None, allow_loopback=True, timeout=2.0)
    await session.close()


async def test_resolve_handle(aiohttp_server: ServerFactory, fetcher: Fetcher) -> None:
    server = await aiohttp_server(_plain_app())
    actor = await resolve_handle(fetcher, f"@bob@127.0.0.1:{server.port}", scheme="http")
    assert actor == "https://remote.example/users/bob"


async def test_resolve_handle_without_actor_link(
    aiohttp_server: ServerFactory, fetcher: Fetcher
) -> None:
    server = await aiohttp_server(_plain_app())
    handle = f"htmlonly@127.0.0.1:{server.port}"
    with pytest.raises(FetchError, match=re.escape(f"no ActivityPub actor for {handle}")):
        await resolve_handle(fetcher, handle, scheme="http")


@pytest.mark.parametrize("form", ["xml", "json"])
async def test_resolve_handle_falls_back_on_host_meta(
    aiohttp_server: ServerFactory, fetcher: Fetcher, form: str
) -> None:
    """Given WebFinger answers 404 at the well-known path, when host-meta names another
    endpoint, then the lookup follows its lrdd template (and accepts an ld+json self link)."""
    # The port is only known once the server runs, so host-meta is served by a second app
    # pointing at the first.
    target = await aiohttp_server(_moved_app(None))
    template = f"http://127.0.0.1:{target.port}/social/webfinger?resource={{uri}}"
    if form == "xml":
        host_meta = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">'
            f'<Link rel="lrdd" template="{template}"/></XRD>'
        )
    else:
        host_meta = json.dumps({"links": [{"rel": "lrdd", "template": template}]})
    origin = await aiohttp_server(_moved_app(host_meta))
    actor = await resolve_handle(fetcher, f"carol@127.0.0.1:{origin.port}", scheme="http")
    assert actor == "https://remote.example/users/carol"


async def test_resolve_handle_with_no_endpoint_at_all(
    aiohttp_server: ServerFactory, fetcher: Fetcher
) -> None:
    server = await aiohttp_server(_moved_app(None))
    with pytest.raises(FetchError, match=re.escape("WebFinger found no bob@127.0.0.1")) as caught:
        await resolve_handle(fetcher, f"bob@127.0.0.1:{server.port}", scheme="http")
    assert caught.value.status == 404


async def test_resolve_unknown_user_is_a_404(
    aiohttp_server: ServerFactory, fetcher: Fetcher
) -> None:
    """The JRD endpoint exists but knows no such user; host-meta (absent here) is tried too."""
    server = await aiohttp_server(_plain_app())
    with pytest.raises(FetchError) as caught:
        await resolve_handle(fetcher, f"nobody@127.0.0.1:{server.port}", scheme="http")
    assert caught.value.status == 404
