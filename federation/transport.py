"""Delivering one activity to one inbox: sign, POST, and report what happened.

``deliver`` never raises for what the network or the peer does: the delivery worker needs an
outcome it can hand to ``federation.retry.decide``, not an exception to classify. It does not
follow redirects: the signature covers the request target, and an inbox that moves must be
re-discovered from its actor. The SSRF guard is the session's (see ``make_client_session``).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal

import aiohttp

from federation.errors import UnsafeURLError
from federation.fetch import Signer
from federation.media_types import ACTIVITY_JSON, AP_ACCEPT
from federation.signatures import sign_request

ERROR_BODY_BYTES = 4096


@dataclass(frozen=True)
class DeliveryOutcome:
    """What one POST to an inbox came to.

    ``status`` is None when no HTTP answer arrived (network error, timeout, refused URL).
    ``permanent`` marks failures no retry can fix (the inbox URL is refused by the SSRF
    guard), so the retry policy gives up at once.
    """

    status: int | None
    retry_after: float | None
    error: str | None
    permanent: bool = False


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@functools.lru_cache(maxsize=8)
def _total_timeout(seconds: float) -> aiohttp.ClientTimeout:
    """aiohttp's own deadline for the whole exchange (connect, send, answer, error body).

    It replaces an ``asyncio.timeout`` around the request: aiohttp arms its session timer
    on every request anyway, so a second timer per delivery was pure overhead. One
    immutable object per distinct value, not one per request."""
    return aiohttp.ClientTimeout(total=seconds)


async def _read_error_text(response: aiohttp.ClientResponse) -> str:
    """At most ``ERROR_BODY_BYTES`` of the answer, on one line, for logs and the admin UI."""
    chunks: list[bytes] = []
    size = 0
    while size < ERROR_BODY_BYTES:
        chunk = await response.content.read(ERROR_BODY_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return " ".join(b"".join(chunks).decode("utf-8", "replace").split())


async def deliver(
    session: aiohttp.ClientSession,
    inbox_url: str,
    body: bytes,
    signer: Signer,
    *,
    scheme: Literal["cavage", "rfc9421"] = "cavage",
    timeout: float = 15.0,
) -> DeliveryOutcome:
    """POST a serialised activity to an inbox, signed, and report the outcome."""
    headers = sign_request(
        scheme,
        method="POST",
        url=inbox_url,
        headers={"Content-Type": ACTIVITY_JSON, "Accept": AP_ACCEPT},
        body=body,
        key_id=signer.key_id,
        private_key=signer.private_key,
    )
    try:
        async with session.post(
            inbox_url,
            data=body,
            headers=headers,
            allow_redirects=False,
            timeout=_total_timeout(timeout),
        ) as response:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if 200 <= response.status < 300:
                return DeliveryOutcome(response.status, retry_after, None)
            text = await _read_error_text(response)
            error = f"HTTP {response.status}" + (f": {text}" if text else "")
            return DeliveryOutcome(response.status, retry_after, error)
    except UnsafeURLError as exc:
        return DeliveryOutcome(None, None, exc.reason, permanent=True)
    except aiohttp.InvalidURL as exc:
        return DeliveryOutcome(None, None, f"invalid inbox URL: {exc}", permanent=True)
    except TimeoutError:
        return DeliveryOutcome(None, None, f"timed out after {timeout:g}s")
    except (aiohttp.ClientError, OSError) as exc:
        return DeliveryOutcome(None, None, f"network error: {str(exc) or type(exc).__name__}")
