"""WebFinger under hostile answers: handles, JRD documents and host-meta (XRD or JRD) either
give an actor URL or a clear refusal (ValueError for a handle, FetchError for a lookup)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import example, given
from hypothesis import strategies as st

from federation.errors import FetchError
from federation.fetch import Fetcher, make_client_session
from federation.webfinger import (
    _actor_link,
    _template_from_host_meta,
    parse_handle,
    resolve_handle,
)
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import json_values
from tests.harness import bind_loopback

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">]>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
<Link rel="lrdd" template="&lol7;{uri}"/></XRD>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
<Link rel="lrdd" template="&ext;{uri}"/></XRD>"""


@FUZZ
@given(st.text(max_size=60))
@example("acct:@")
@example("@a@[::1")
@example("a@b@c")
def test_parse_handle_never_crashes(handle: str) -> None:
    try:
        user, host = parse_handle(handle)
    except ValueError as exc:
        assert str(exc)
    else:
        assert user and host


@FUZZ
@given(st.one_of(json_values, st.fixed_dictionaries({"links": json_values})))
@example({"links": [{"rel": "self", "type": ["x"], "href": "https://a.example"}]})
def test_actor_link_never_crashes(jrd: Any) -> None:
    if not isinstance(jrd, dict):
        return  # resolve_handle only hands it JSON objects (Fetcher.get_json checks)
    link = _actor_link(jrd)
    assert link is None or isinstance(link, str)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(lambda doc: json.dumps(doc).encode(), json_values),
        st.sampled_from([BILLION_LAUGHS, EXTERNAL_ENTITY, b"{", b"<XRD", b"[1]", b'{"links":1}']),
    )
)
def test_host_meta_never_crashes(body: bytes) -> None:
    """Entity expansion attacks and external entities yield no template (or a refusal),
    never a crash or a read of a local file."""
    template = _template_from_host_meta(body)
    assert template is None or ("{uri}" in template and "root:" not in template)


class _HostileServer:
    """A loopback server answering WebFinger and host-meta with chosen bodies."""

    def __init__(self) -> None:
        self.sock = bind_loopback()
        self.port = self.sock.getsockname()[1]
        self.answers: dict[str, tuple[int, str, bytes]] = {}

    async def handle(self, request: web.Request) -> web.Response:
        status, content_type, body = self.answers.get(request.path, (404, "text/plain", b""))
        return web.Response(status=status, body=body, content_type=content_type)


@pytest.fixture
async def hostile() -> AsyncIterator[_HostileServer]:
    server = _HostileServer()
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, server.sock).start()
    try:
        yield server
    finally:
        await runner.cleanup()


HOSTILE_ANSWERS: list[dict[str, tuple[int, str, bytes]]] = [
    {"/.well-known/webfinger": (200, "application/jrd+json", b"[1, 2]")},
    {"/.well-known/webfinger": (200, "application/jrd+json", b'{"links": "x"}')},
    {"/.well-known/webfinger": (200, "text/html", b"<html>")},
    {"/.well-known/webfinger": (200, "application/jrd+json", b"\xff\xfe{")},
    {"/.well-known/webfinger": (200, "application/jrd+json", b"[" * 100_000)},
    {"/.well-known/webfinger": (200, "application/jrd+json", b" " * 2_000_000)},
    {"/.well-known/host-meta": (200, "application/xrd+xml", BILLION_LAUGHS)},
    {"/.well-known/host-meta": (200, "application/xrd+xml", EXTERNAL_ENTITY)},
    {"/.well-known/webfinger": (500, "text/plain", b"oops")},
]


@pytest.mark.parametrize("answers", HOSTILE_ANSWERS)
async def test_resolve_handle_refuses_hostile_answers(
    hostile: _HostileServer, answers: dict[str, tuple[int, str, bytes]]
) -> None:
    """Given a server answering garbage, bombs or errors, resolve_handle raises FetchError
    (the CLI turns it into one line), never anything else."""
    hostile.answers = answers
    session = make_client_session(allow_loopback=True, user_agent="cercle-test")
    try:
        fetcher = Fetcher(session, signer=None, allow_loopback=True, timeout=5)
        with pytest.raises(FetchError):
            await resolve_handle(fetcher, f"bob@127.0.0.1:{hostile.port}", scheme="http")
    finally:
        await session.close()
