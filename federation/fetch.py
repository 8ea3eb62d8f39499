"""Fetching remote documents: signed, size-capped, time-boxed and kept off internal networks.

``make_client_session`` builds the one ``aiohttp.ClientSession`` the node uses for all
server-to-server traffic. Its guards apply to every request made through it, fetches and
deliveries alike: the resolver refuses host names that resolve to internal addresses (at
connect time, so DNS rebinding fails), and request hooks run ``check_url`` on every URL and
every redirect target, which covers literal IP hosts that aiohttp connects to without
resolving.

``Fetcher`` adds what fetching ActivityPub documents needs on top: an HTTP signature on each
GET (Mastodon's authorised-fetch mode demands one), redirects followed by hand so each hop
is checked and re-signed, a byte cap while streaming, and one overall deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp
from yarl import URL

from federation import json_body
from federation.errors import FetchError
from federation.media_types import AP_ACCEPT, is_json_content_type
from federation.signatures import sign_request
from federation.ssrf import GuardedResolver, check_url

MAX_REDIRECTS = 3
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Signer:
    """The key a request is signed with: the ``publicKey`` id of an actor and its private key."""

    key_id: str
    private_key: Any


def make_client_session(*, allow_loopback: bool, user_agent: str) -> aiohttp.ClientSession:
    """The guarded client session for all outgoing federation traffic. Call in a running loop.

    ``allow_loopback`` is dev mode: loopback peers (and plain http to them) become reachable.
    Proxies from the environment are ignored (``trust_env=False``): a proxy would resolve names
    itself and bypass the resolver guard.
    """

    async def guard(
        _session: aiohttp.ClientSession,
        _ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        check_url(params.url, allow_loopback=allow_loopback)

    async def guard_redirect(
        _session: aiohttp.ClientSession,
        _ctx: SimpleNamespace,
        params: aiohttp.TraceRequestRedirectParams,
    ) -> None:
        # aiohttp reports ``on_request_start`` once per request, not once per hop: a caller
        # that lets the session follow redirects would otherwise reach a literal internal
        # IP (those never go through the resolver). Raising here stops before the next hop.
        location = params.response.headers.get("Location") or params.response.headers.get("URI")
        if location:
            check_url(_redirect_target(str(params.url), location), allow_loopback=allow_loopback)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(guard)
    trace.on_request_redirect.append(guard_redirect)
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow_loopback=allow_loopback))
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": user_agent},
        trace_configs=[trace],
        trust_env=False,
    )


@dataclass(frozen=True)
class _Response:
    url: str
    status: int
    headers: Mapping[str, str]  # case-insensitive: aiohttp's CIMultiDictProxy
    body: bytes


def _plain_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers as a plain dict: names lower-cased (a dict cannot match them case-blind),
    repeated headers joined with ", " as HTTP allows for list-valued fields."""
    plain: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        plain[key] = f"{plain[key]}, {value}" if key in plain else value
    return plain


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int, url: str) -> bytes:
    """Read the (decompressed) body, giving up as soon as it grows past ``max_bytes``."""
    too_large = f"response from {url} is larger than {max_bytes} bytes"
    if response.content_length is not None and response.content_length > max_bytes:
        raise FetchError(too_large, status=response.status)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(too_large, status=response.status)
        chunks.append(chunk)
    return b"".join(chunks)


def _redirect_target(current: str, location: str) -> str:
    """Resolve a (possibly relative) ``Location`` against the URL that sent it."""
    try:
        return str(URL(current).join(URL(location)))
    except ValueError as exc:
        raise FetchError(f"{current} redirected to an invalid URL: {location!r}") from exc


def _authority(url: str) -> tuple[str, int | None] | None:
    """Host and port (explicit or the scheme's default) of an absolute URL, else None."""
    try:
        parsed = URL(url)
    except ValueError:
        return None
    if not parsed.is_absolute() or not parsed.host:
        return None
    return parsed.host.lower().rstrip("."), parsed.port


class Fetcher:
    """Fetches remote documents through a session from ``make_client_session``.

    Without a ``signer`` requests go unsigned (enough for public documents and tests).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        signer: Signer | None,
        allow_loopback: bool,
        max_bytes: int = 1_000_000,
        timeout: float = 10.0,
    ) -> None:
        self._session = session
        self._signer = signer
        self._allow_loopback = allow_loopback
        self._max_bytes = max_bytes
        self._timeout = timeout

    async def get_json(self, url: str, *, accept: str = AP_ACCEPT, signed: bool = True) -> dict:
        """GET a JSON object. Raises ``FetchError`` (with ``status`` for HTTP errors, so a
        caller can tell 410 Gone — a deleted actor — from other failures)."""
        return (await self._get_json(url, accept=accept, signed=signed))[1]

    async def get_actor(self, url: str) -> dict:
        """GET an actor document and check that its ``id`` lives where it was served from.

        Anti-spoofing: a server may only speak for actors on its own host, so the ``id`` must
        have the host and port of the URL that finally answered (after redirects — a server
        may redirect to its canonical host, which then answers for itself). Without this
        check any server could hand out a document claiming another server's actor id.
        """
        final_url, doc = await self._get_json(url, accept=AP_ACCEPT, signed=True)
        actor_id = doc.get("id")
        if not isinstance(actor_id, str) or not actor_id:
            raise FetchError(f"actor document at {final_url} has no id")
        claimed = _authority(actor_id)
        if claimed is None or claimed != _authority(final_url):
            raise FetchError(f"actor id {actor_id} is not on the host that served it ({final_url})")
        return doc

    async def get(
        self, url: str, accept: str, *, signed: bool = False
    ) -> tuple[int, dict[str, str], bytes]:
        """GET anything (media, host-meta): status, headers (names lower-cased) and capped
        body, whatever the status. Network failures, size and timeouts still raise
        ``FetchError``. Unsigned by default: media servers rarely want signatures."""
        response = await self._request(url, accept=accept, signed=signed, read_errors=True)
        return response.status, _plain_headers(response.headers), response.body

    async def _get_json(self, url: str, *, accept: str, signed: bool) -> tuple[str, dict]:
        response = await self._request(url, accept=accept, signed=signed, read_errors=False)
        content_type = response.headers.get("Content-Type")
        if not is_json_content_type(content_type):
            raise FetchError(
                f"{response.url} answered with {content_type or 'no content type'}, not JSON",
                status=response.status,
            )
        try:
            doc = json_body.loads(response.body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            # RecursionError: "[[[[..." nested past the interpreter's limit fits in the cap.
            raise FetchError(f"{response.url} sent invalid JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise FetchError(f"{response.url} sent JSON that is not an object")
        return response.url, doc

    async def _request(
        self, url: str, *, accept: str, signed: bool, read_errors: bool
    ) -> _Response:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._follow(
                    url, accept=accept, signed=signed, read_errors=read_errors
                )
        except TimeoutError as exc:
            raise FetchError(f"timed out after {self._timeout:g}s fetching {url}") from exc

    async def _follow(self, url: str, *, accept: str, signed: bool, read_errors: bool) -> _Response:
        """Follow up to ``MAX_REDIRECTS`` redirects, checking and re-signing every hop."""
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            check_url(current, allow_loopback=self._allow_loopback)
            headers = self._headers(current, accept, signed)
            try:
                async with self._session.get(
                    current, headers=headers, allow_redirects=False
                ) as response:
                    if response.status in _REDIRECT_STATUSES:
                        location = response.headers.get("Location")
                        if not location:
                            raise FetchError(
                                f"{current} redirected without a Location", status=response.status
                            )
                        current = _redirect_target(current, location)
                        continue
                    if not 200 <= response.status < 300 and not read_errors:
                        raise FetchError(
                            f"{current} answered HTTP {response.status}", status=response.status
                        )
                    body = await _read_capped(response, self._max_bytes, current)
                    return _Response(current, response.status, response.headers, body)
            except aiohttp.ClientError as exc:
                raise FetchError(f"could not fetch {current}: {exc}") from exc
        raise FetchError(f"more than {MAX_REDIRECTS} redirects fetching {url}")

    def _headers(self, url: str, accept: str, signed: bool) -> dict[str, str]:
        headers = {"Accept": accept}
        if not signed or self._signer is None:
            return headers
        return sign_request(
            "cavage",
            method="GET",
            url=url,
            headers=headers,
            body=None,
            key_id=self._signer.key_id,
            private_key=self._signer.private_key,
        )
