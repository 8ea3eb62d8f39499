"""SSRF guards on every remote fetch: the address rules, the guarded session (which also
carries deliveries), the fetcher's redirect, size and time caps against a real loopback
server, and ``cercle follow`` of a refused address.

The loopback server stands in for an attacker's server: it redirects to internal
addresses, streams oversize bodies and stalls. Tests count what it received, so "refused"
means no request left the node, not just that an error was raised.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from federation.errors import FetchError, UnsafeURLError
from federation.fetch import Fetcher, make_client_session
from federation.ssrf import check_url, is_forbidden_address
from federation.webfinger import resolve_handle
from tests.harness import bind_loopback

REFUSED_ALWAYS = [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "169.254.170.2", "0.0.0.0",
    "100.64.0.1", "198.18.0.1", "224.0.0.1", "255.255.255.255", "fd00::1", "fd00:ec2::254",
    "fe80::1", "fec0::1", "::", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "ff02::1", "not-an-ip",
]  # fmt: skip
LOOPBACK = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1"]
PUBLIC = ["93.184.216.34", "2606:4700::6810:85e5", "1.1.1.1"]


@pytest.mark.parametrize("address", REFUSED_ALWAYS)
def test_internal_addresses_are_refused_even_in_dev_mode(address: str) -> None:
    assert is_forbidden_address(address, allow_loopback=False)
    assert is_forbidden_address(address, allow_loopback=True)


@pytest.mark.parametrize("address", LOOPBACK)
def test_dev_mode_lifts_the_refusal_for_loopback_only(address: str) -> None:
    assert is_forbidden_address(address, allow_loopback=False)
    assert not is_forbidden_address(address, allow_loopback=True)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert not is_forbidden_address(address, allow_loopback=False)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "https://user:pw@example.com/",
        "http://example.com/",  # plain http outside dev loopback
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:a9fe:a9fe]/",
        "https://10.1.2.3/",
        "/relative",
        "https://",
    ],
)
def test_check_url_refusals(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        check_url(url, allow_loopback=True)


class Attacker:
    """A loopback server that redirects, bloats and stalls; it records every request."""

    def __init__(self) -> None:
        self.sock = bind_loopback()
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.hits: list[str] = []
        self.runner: web.AppRunner | None = None
        #: /slow stalls until stop(): a fixed long sleep kept teardown waiting for it
        self.released = asyncio.Event()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path_qs)
        path = request.path
        if path == "/redirect":
            return web.Response(status=302, headers={"Location": request.query["to"]})
        if path == "/loop":
            return web.Response(status=301, headers={"Location": "/loop"})
        if path == "/big":
            response = web.StreamResponse(headers={"Content-Type": "application/activity+json"})
            await response.prepare(request)
            for _ in range(40):  # 2.5 MB without a Content-Length
                await response.write(b" " * 65536)
            return response
        if path == "/liar":  # says 10 bytes, sends a megabyte and a half
            return web.Response(body=b"{" + b" " * 1_500_000 + b"}",
                                content_type="application/activity+json")  # fmt: skip
        if path == "/slow":
            await self.released.wait()
        if path == "/.well-known/webfinger":
            return web.json_response(
                {
                    "links": [
                        {
                            "rel": "self",
                            "type": "application/activity+json",
                            "href": "http://169.254.169.254/users/x",
                        }
                    ]
                }
            )
        return web.json_response(
            {"id": f"{self.base}/ok", "type": "Note"}, content_type="application/activity+json"
        )

    async def start(self) -> Attacker:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()
        return self

    async def stop(self) -> None:
        self.released.set()
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def attacker() -> AsyncIterator[Attacker]:
    server = await Attacker().start()
    try:
        yield server
    finally:
        await server.stop()


async def _fetcher(*, dev: bool, **caps: float) -> tuple[Fetcher, object]:
    session = make_client_session(allow_loopback=dev, user_agent="cercle-test")
    return Fetcher(session, signer=None, allow_loopback=dev, **caps), session  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[fd00::1]/",
        "file:///etc/passwd",
        "https://0x7f.1:1/",  # a name the resolver turns into 127.0.0.1 — not in https
    ],
)
async def test_redirects_are_rechecked(attacker: Attacker, target: str) -> None:
    """Given dev mode (loopback reachable), a loopback server's redirect to an internal
    address is refused at the hop, before any connection to it."""
    fetcher, session = await _fetcher(dev=True)
    try:
        with pytest.raises(FetchError):
            await fetcher.get_json(f"{attacker.base}/redirect?to={target}")
    finally:
        await session.close()  # type: ignore[attr-defined]
    assert len(attacker.hits) == 1 and attacker.hits[0].startswith("/redirect?to=")


async def test_redirect_within_loopback_is_followed_in_dev_mode(attacker: Attacker) -> None:
    fetcher, session = await _fetcher(dev=True)
    try:
        doc = await fetcher.get_json(f"{attacker.base}/redirect?to=/doc")
    finally:
        await session.close()  # type: ignore[attr-defined]
    assert doc["type"] == "Note" and attacker.hits[-1] == "/doc"


async def test_redirect_loops_size_and_time_are_capped(attacker: Attacker) -> None:
    fetcher, session = await _fetcher(dev=True, max_bytes=1_000_000, timeout=1.0)
    try:
        with pytest.raises(FetchError, match="redirects"):
            await fetcher.get_json(f"{attacker.base}/loop")
        with pytest.raises(FetchError, match="larger than"):
            await fetcher.get_json(f"{attacker.base}/big")
        with pytest.raises(FetchError, match="larger than"):
            await fetcher.get_json(f"{attacker.base}/liar")
        with pytest.raises(FetchError, match="timed out"):
            await fetcher.get_json(f"{attacker.base}/slow")
    finally:
        await session.close()  # type: ignore[attr-defined]
    assert attacker.hits.count("/loop") == 4  # the first request and three redirects


@pytest.mark.parametrize(
    "url_of",
    [
        lambda port: f"http://127.0.0.1:{port}/doc",
        lambda port: f"https://127.0.0.1:{port}/doc",
        lambda port: f"https://localhost:{port}/doc",  # resolves to loopback
        lambda port: f"https://2130706433:{port}/doc",  # decimal 127.0.0.1 for the resolver
        lambda port: f"https://[::ffff:127.0.0.1]:{port}/doc",
    ],
)
async def test_production_mode_never_reaches_loopback(attacker: Attacker, url_of) -> None:  # type: ignore[no-untyped-def]
    """Outside dev mode neither a fetch nor a delivery POST through the node's session
    reaches a loopback server, whatever spelling the URL uses."""
    url = url_of(attacker.port)
    fetcher, session = await _fetcher(dev=False)
    try:
        with pytest.raises(FetchError):
            await fetcher.get_json(url)
        with pytest.raises((UnsafeURLError, aiohttp.ClientError, OSError)):
            async with session.post(url, data=b"{}"):  # type: ignore[attr-defined]
                pass
    finally:
        await session.close()  # type: ignore[attr-defined]
    assert attacker.hits == []


async def test_webfinger_pointing_at_metadata_is_refused(attacker: Attacker) -> None:
    """WebFinger may name any actor URL; the lookup of that URL is refused in its turn."""
    fetcher, session = await _fetcher(dev=True)
    try:
        actor_url = await resolve_handle(fetcher, f"x@127.0.0.1:{attacker.port}", scheme="http")
        with pytest.raises(UnsafeURLError):
            await fetcher.get_actor(actor_url)
    finally:
        await session.close()  # type: ignore[attr-defined]


def test_cli_follow_of_a_refused_address_exits_with_one_line(tmp_path: Path) -> None:
    """`cercle follow` of a handle on the metadata address or a private network exits
    non-zero with one clear line, even in dev mode."""
    env = {**os.environ, "CERCLE_DATA_DIR": str(tmp_path / "n"), "CERCLE_DEV": "1",
           "CERCLE_DOMAIN": "127.0.0.1:1"}  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "node", *args], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    assert run("init", "--admin", "root", "--password", "rootpass1").returncode == 0
    assert run("user", "add", "alice", "--password", "password1").returncode == 0
    for handle in ("bob@169.254.169.254", "bob@10.0.0.1:8080", "bob@[fd00::1]"):
        result = run("follow", "--as", "alice", handle)
        assert result.returncode != 0, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cercle: error: "), result.stderr
        assert "not allowed" in lines[0] or "forbidden" in lines[0], lines[0]


async def test_session_redirects_are_rechecked(attacker: Attacker) -> None:
    """Any caller of the node's session that lets aiohttp follow redirects (the default for
    GET) is still kept off internal addresses: every hop is checked, not only the first."""
    session = make_client_session(allow_loopback=True, user_agent="cercle-test")
    try:
        with pytest.raises(UnsafeURLError):
            async with session.get(f"{attacker.base}/redirect?to=http://169.254.169.254/x"):
                pass
        async with session.get(f"{attacker.base}/redirect?to=/doc") as response:
            assert response.status == 200
    finally:
        await session.close()
