"""Body digests: the legacy ``Digest`` header (RFC 3230) and ``Content-Digest`` (RFC 9530).

A request signature covers the digest *header*, not the body; only comparing that header
with the body received binds the signature to the content. The inbox gate therefore calls
:func:`verify_body_digest` on every request with a body, and refuses the request when the
signature does not cover the header that was checked.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from federation.errors import SignatureError
from federation.signatures._http import get_header

# Algorithm names are compared lower-case and without hyphens: senders write "SHA-256",
# "sha-256" and (against RFC 3230, but seen in the wild) "SHA256" for the same thing.
_HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sha256": lambda body: hashlib.sha256(body).digest(),
    "sha512": lambda body: hashlib.sha512(body).digest(),
}


def digest_header(body: bytes) -> str:
    """The legacy ``Digest`` value every fediverse server understands: ``SHA-256=<base64>``."""
    return _legacy_digest(body if isinstance(body, bytes) else bytes(body))


@functools.lru_cache(maxsize=16)
def _legacy_digest(body: bytes) -> str:
    """Memoised (bounded; pure): a fan-out sends one body to every shared inbox, so the
    digest is computed once per activity rather than once per inbox."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` value: ``sha-256=:<base64>:`` (a structured dict)."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def verify_body_digest(headers: Mapping[str, str], body: bytes) -> str | None:
    """Check ``Digest`` and/or ``Content-Digest`` against ``body``.

    Returns the lower-case name of the header that was verified (``"content-digest"`` when
    both are present and both match), or None when the request carries neither: the caller
    decides whether a missing digest is acceptable (it is not for a signed POST).

    Raises SignatureError when a header is malformed, when any supported digest does not
    match, or when a header offers only algorithms we cannot compute: "I could not check"
    must never read as "it matched".
    """
    legacy = get_header(headers, "digest")
    modern = get_header(headers, "content-digest")
    if legacy is None and modern is None:
        return None
    if legacy is not None:
        _check_all("Digest", _parse_legacy(legacy), body)
    if modern is not None:
        _check_all("Content-Digest", _parse_content_digest(modern), body)
        return "content-digest"
    return "digest"


def _parse_legacy(value: str) -> list[tuple[str, bytes]]:
    """``alg=base64, alg=base64`` into (normalised algorithm, digest bytes) pairs."""
    pairs: list[tuple[str, bytes]] = []
    for member in value.split(","):
        member = member.strip()
        if not member:
            continue
        algorithm, sep, encoded = member.partition("=")
        if not sep or not algorithm.strip() or not encoded.strip():
            raise SignatureError(f"malformed Digest header: {value!r}")
        pairs.append((_normalise(algorithm), _b64decode(encoded.strip(), "Digest")))
    if not pairs:
        raise SignatureError("malformed Digest header: empty")
    return pairs


def _parse_content_digest(value: str) -> list[tuple[str, bytes]]:
    """The RFC 9530 dictionary into (normalised algorithm, digest bytes) pairs."""
    parsed = _sfv().Dictionary()
    try:
        parsed.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureError(f"malformed Content-Digest header: {value!r}") from exc
    pairs: list[tuple[str, bytes]] = []
    for algorithm, member in parsed.items():
        if not isinstance(member, _sfv().Item) or not isinstance(member.value, bytes):
            raise SignatureError(f"malformed Content-Digest header: {algorithm} is not bytes")
        pairs.append((_normalise(algorithm), member.value))
    return pairs


def _check_all(header: str, pairs: list[tuple[str, bytes]], body: bytes) -> None:
    """Every supported digest must match, and at least one must be supported."""
    checked = 0
    for algorithm, expected in pairs:
        compute = _HASHES.get(algorithm)
        if compute is None:
            continue
        checked += 1
        if not hmac.compare_digest(compute(body), expected):
            raise SignatureError(f"{header} does not match the body ({algorithm})")
    if checked == 0:
        offered = ", ".join(a for a, _ in pairs)
        raise SignatureError(f"{header} offers no supported algorithm (offered: {offered})")


def _normalise(algorithm: str) -> str:
    return algorithm.strip().lower().replace("-", "")


def _b64decode(value: str, header: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(f"malformed {header} header: value is not base64") from exc


def _sfv() -> Any:
    """http_sfv, imported when a structured header is first met (most peers send none)."""
    import http_sfv

    return http_sfv
