"""HTTP Signatures for Cercle: pure functions, no I/O, no database.

The inbox gate verifies in two steps because fetching the signer's key is asynchronous I/O
done in between::

    sig = parse_request_signature(method, url, headers)   # shape, coverage, clock; may raise
    key = await keys.lookup(sig.key_id)                    # the caller's business
    if not sig.verify(key): ...                            # crypto only; False, never raises
    verify_body_digest(headers, body)                      # and sig.covers_body_digest

Everything that can be decided without the key is decided in the first step, so a request
that could never verify costs no key fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from federation.errors import SignatureError
from federation.signatures import cavage, rfc9421
from federation.signatures._http import get_header, parse_http_date, utc_now
from federation.signatures.digest import (
    content_digest_header,
    digest_header,
    verify_body_digest,
)
from federation.signatures.keys import (
    ed25519_to_multibase,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
    multibase_to_ed25519,
    private_key_to_pem,
    public_key_to_pem,
)

if TYPE_CHECKING:
    from federation.signatures.keys import PrivateKey, PublicKey, VerifyKey


def __getattr__(name: str) -> Any:
    """The key type aliases, built at first use: they import ``cryptography`` (see keys.py)."""
    if name in ("PrivateKey", "PublicKey", "VerifyKey"):
        from federation.signatures import keys

        return getattr(keys, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "PrivateKey",
    "PublicKey",
    "RequestSignature",
    "SignatureError",
    "content_digest_header",
    "digest_header",
    "ed25519_to_multibase",
    "generate_ed25519_key",
    "generate_rsa_key",
    "load_private_key_pem",
    "load_public_key_pem",
    "multibase_to_ed25519",
    "parse_request_signature",
    "private_key_to_pem",
    "public_key_to_pem",
    "sign_request",
    "verify_body_digest",
]

Scheme = Literal["cavage", "rfc9421"]
_DIGEST_HEADERS = ("digest", "content-digest")


@dataclass(frozen=True)
class RequestSignature:
    """A request signature that passed every check not needing the key.

    ``covered`` holds lower-case header / component names (``(request-target)``,
    ``@method``, ``digest``...). ``created`` is when the request was signed: the signed
    ``created`` parameter, else the covered ``Date`` header. ``signed_data`` is the exact
    signing string / signature base rebuilt from this request.
    """

    scheme: Scheme
    key_id: str
    covered: tuple[str, ...]
    created: datetime | None
    algorithm: str | None = None
    label: str | None = None
    signature: bytes = field(default=b"", repr=False)
    signed_data: bytes = field(default=b"", repr=False)

    def verify(self, public_key: VerifyKey) -> bool:
        """True when the signature verifies with ``public_key``; False for a wrong key."""
        if self.scheme == "cavage":
            return cavage.verify_signature(
                self.algorithm, public_key, self.signature, self.signed_data
            )
        return rfc9421.verify_signature(
            self.algorithm, public_key, self.signature, self.signed_data
        )

    @property
    def covers_body_digest(self) -> bool:
        """Whether a ``Digest`` or ``Content-Digest`` header is under the signature."""
        return any(name in self.covered for name in _DIGEST_HEADERS)


def parse_request_signature(
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    now: datetime | None = None,
    max_skew: timedelta = timedelta(hours=1),
) -> RequestSignature:
    """Parse and vet the request's signature; raise SignatureError with the reason.

    ``url`` is the absolute URL as this server sees it. RFC 9421 is preferred when
    ``Signature-Input`` is present (the first label that passes every check wins);
    otherwise draft-cavage from ``Signature`` or ``Authorization: Signature ...``.

    Refused: no signature; not covering the request target; covering neither ``date`` nor
    ``created``; a Date or created more than ``max_skew`` from ``now``; an ``expires``
    more than ``max_skew`` in the past (the same clock-skew margin Mastodon allows); and a
    request with a body whose signature does not cover a digest header.
    """
    moment = utc_now(now)
    if get_header(headers, "signature-input") is not None:
        return _parse_rfc9421(method, url, headers, moment, max_skew)
    raw = get_header(headers, "signature")
    if raw is None:
        authorization = get_header(headers, "authorization")
        if authorization and authorization[:10].lower() == "signature ":
            raw = authorization
    if raw is None:
        raise SignatureError("no signature")
    return _parse_cavage(method, url, headers, raw, moment, max_skew)


def sign_request(
    scheme: Scheme,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    now: datetime | None = None,
) -> dict[str, str]:
    """Sign an outgoing request with either scheme; returns the complete headers to send."""
    if scheme not in ("cavage", "rfc9421"):
        raise SignatureError(f"unknown signature scheme {scheme!r}")
    signer = cavage.sign_request if scheme == "cavage" else rfc9421.sign_request
    return signer(
        method=method,
        url=url,
        headers=headers,
        body=body,
        key_id=key_id,
        private_key=private_key,
        now=now,
    )


def _parse_cavage(
    method: str,
    url: str,
    headers: Mapping[str, str],
    raw: str,
    now: datetime,
    max_skew: timedelta,
) -> RequestSignature:
    sig = cavage.parse_signature_header(raw)
    covered = sig.headers
    if "(request-target)" not in covered:
        raise SignatureError("signature does not cover (request-target)")
    created = _from_timestamp(sig.created) if "(created)" in covered else None
    if created is None and "date" not in covered:
        raise SignatureError("signature covers neither Date nor (created)")
    signed = _vet(
        method,
        headers,
        covered,
        created=created,
        expires=sig.expires,
        now=now,
        max_skew=max_skew,
        digest_name="Digest",
    )
    return RequestSignature(
        scheme="cavage",
        key_id=sig.key_id,
        covered=covered,
        created=signed,
        algorithm=sig.algorithm,
        signature=sig.signature,
        signed_data=cavage.request_signing_string(sig, method, url, headers),
    )


def _parse_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    now: datetime,
    max_skew: timedelta,
) -> RequestSignature:
    signature = get_header(headers, "signature")
    if signature is None:
        raise SignatureError("malformed Signature header: Signature-Input without Signature")
    signatures = rfc9421.parse_signature_headers(
        get_header(headers, "signature-input") or "", signature
    )
    errors: list[SignatureError] = []
    for sig in signatures:
        try:
            return _vet_rfc9421(sig, method, url, headers, now, max_skew)
        except SignatureError as exc:
            errors.append(exc)
    raise errors[0]


def _vet_rfc9421(
    sig: rfc9421.MessageSignature,
    method: str,
    url: str,
    headers: Mapping[str, str],
    now: datetime,
    max_skew: timedelta,
) -> RequestSignature:
    if not sig.key_id:
        raise SignatureError(f"signature {sig.label} has no keyid parameter")
    rfc9421.check_alg(sig.alg)
    covered = sig.components
    if "@method" not in covered:
        raise SignatureError("signature does not cover @method")
    if not (
        "@target-uri" in covered
        or "@request-target" in covered
        or ("@authority" in covered and "@path" in covered)
    ):
        raise SignatureError(
            "signature does not cover the request target "
            "(@target-uri, @request-target, or @authority and @path)"
        )
    created = _from_timestamp(sig.created)
    if created is None and "date" not in covered:
        raise SignatureError("signature covers neither Date nor created")
    signed = _vet(
        method,
        headers,
        covered,
        created=created,
        expires=sig.expires,
        now=now,
        max_skew=max_skew,
        digest_name="Content-Digest",
    )
    return RequestSignature(
        scheme="rfc9421",
        key_id=sig.key_id,
        covered=covered,
        created=signed,
        algorithm=sig.alg,
        label=sig.label,
        signature=sig.signature,
        signed_data=rfc9421.request_signature_base(sig, method, url, headers),
    )


def _vet(
    method: str,
    headers: Mapping[str, str],
    covered: tuple[str, ...],
    *,
    created: datetime | None,
    expires: int | None,
    now: datetime,
    max_skew: timedelta,
    digest_name: str,
) -> datetime | None:
    """The checks both schemes share; returns when the request was signed."""
    span = _describe(max_skew)
    signed_at = created
    if "date" in covered:
        raw_date = get_header(headers, "date")
        if raw_date is None:
            raise SignatureError("signed header 'date' is missing from the request")
        date = parse_http_date(raw_date)
        if abs(now - date) > max_skew:
            raise SignatureError(f"Date is more than {span} off")
        signed_at = signed_at or date
    if created is not None and abs(now - created) > max_skew:
        raise SignatureError(f"signature created more than {span} from now")
    if expires is not None and now > _from_timestamp(expires) + max_skew:
        raise SignatureError("signature expired")
    if _has_body(method, headers) and not any(n in covered for n in _DIGEST_HEADERS):
        raise SignatureError(f"signature does not cover {digest_name}")
    return signed_at


def _has_body(method: str, headers: Mapping[str, str]) -> bool:
    """A request carries a body when it is a POST or announces one in its headers."""
    if method.upper() == "POST" or get_header(headers, "transfer-encoding"):
        return True
    length = get_header(headers, "content-length")
    try:
        return length is not None and int(length) > 0
    except ValueError as exc:
        raise SignatureError(f"malformed Content-Length: {length!r}") from exc


def _from_timestamp(value: int | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureError(f"timestamp out of range: {value}") from exc


def _describe(span: timedelta) -> str:
    """``1 hour``, ``30 minutes``, ``90 seconds``: the skew as the reason string says it."""
    seconds = int(span.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
