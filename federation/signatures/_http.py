"""Small HTTP helpers shared by the signature schemes (private to this package).

Both signature schemes and the digest check read headers from whatever mapping the caller
holds: aiohttp's ``CIMultiDictProxy`` (case-insensitive, possibly repeated fields) or a plain
``dict`` written by hand in a test. Looking headers up here, case-insensitively and with
repeated fields combined, keeps that difference out of the security code.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import SplitResult, urlsplit

from multidict import CIMultiDict, CIMultiDictProxy

from federation.errors import SignatureError

_DEFAULT_PORTS = {"http": 80, "https": 443}
_MULTIDICTS = (CIMultiDictProxy, CIMultiDict)


def header_values(headers: Mapping[str, str] | None, name: str) -> list[str]:
    """Every value of the field ``name``, in order, whatever the case of the keys.

    ``items()`` is used rather than ``get`` because a multidict yields each repeated field
    line there, and a plain dict may hold a key in any case.
    """
    if not headers:
        return []
    if isinstance(headers, _MULTIDICTS):
        # aiohttp's headers: the same lines, found by the multidict's own index.
        return [str(value) for value in headers.getall(name, ())]
    wanted = name.lower()
    return [str(value) for key, value in headers.items() if key.lower() == wanted]


def get_header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """The field value as both signature specs canonicalise it, or None when absent.

    Each line is trimmed and repeated lines are joined with ``", "`` (draft-cavage §2.3,
    RFC 9421 §2.1), so a signature over a repeated header checks the same bytes the signer
    saw.
    """
    values = header_values(headers, name)
    if not values:
        return None
    return ", ".join(v.strip() for v in values)


def without_headers(headers: Mapping[str, str] | None, *names: str) -> dict[str, str]:
    """A copy of ``headers`` minus ``names`` (any case), so a value we set is never doubled."""
    drop = {n.lower() for n in names}
    return {k: v for k, v in (headers or {}).items() if k.lower() not in drop}


def split_url(url: str) -> SplitResult:
    """Split an absolute URL, refusing one without scheme or host with a clear reason."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise SignatureError(f"request URL is not absolute: {url!r}")
    return parts


@functools.lru_cache(maxsize=4096)
def authority(url: str) -> str:
    """``host[:port]`` lower-cased, the default port left out (RFC 9421 §2.2.3, ``Host``).

    Memoised (bounded; pure): a fan-out signs one request per shared inbox, and the same
    inboxes come back with every post, so splitting the URL again is wasted work."""
    parts = split_url(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


def path_of(url: str) -> str:
    """The absolute path, ``/`` when the URL has none (RFC 9421 §2.2.6)."""
    return split_url(url).path or "/"


@functools.lru_cache(maxsize=4096)
def request_target(url: str) -> str:
    """``path[?query]`` as it appears on the request line (origin-form); memoised like
    :func:`authority`."""
    parts = split_url(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def utc_now(now: datetime | None) -> datetime:
    """``now`` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def http_date(now: datetime) -> str:
    """IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``), the only form servers must accept."""
    return _http_date_of_second(int(utc_now(now).timestamp()))


@functools.lru_cache(maxsize=4)
def _http_date_of_second(second: int) -> str:
    """The formatted date of one whole second: every request signed in that second
    carries the same Date, so a fan-out formats it once rather than once per inbox."""
    return format_datetime(datetime.fromtimestamp(second, UTC), usegmt=True)


@functools.lru_cache(maxsize=256)
def parse_http_date(value: str) -> datetime:
    """Parse a ``Date`` header, raising SignatureError rather than ValueError on junk.

    Memoised (bounded; a pure function of the text): a busy peer stamps every request
    of the same second with the same Date, and parsing it costs more than the lookup."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureError(f"malformed Date header: {value!r}") from exc
    if parsed is None:  # pragma: no cover - older Pythons returned None
        raise SignatureError(f"malformed Date header: {value!r}")
    return utc_now(parsed)
