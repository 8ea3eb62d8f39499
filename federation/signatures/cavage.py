"""draft-cavage-http-signatures-12: the ``Signature`` header the whole fediverse speaks.

What Cercle sends is what Mastodon sends (``app/lib/request.rb``): ``rsa-sha256`` over
``(request-target) host date`` plus ``digest content-type`` with a body. Ed25519 keys sign as
``hs2019``, the draft's "derive the algorithm from the key" value. What Cercle accepts is
wider: ``rsa-sha256``, ``rsa-sha512``, ``ed25519`` and ``hs2019`` (or no algorithm at all),
where ``hs2019`` is resolved by the type of the key the caller fetched.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from federation.errors import SignatureError
from federation.signatures._http import (
    authority,
    get_header,
    http_date,
    request_target,
    utc_now,
    without_headers,
)
from federation.signatures.digest import digest_header
from federation.signatures.keys import (
    algorithm_for_key,
    sign_bytes,
    verify_bytes,
)

if TYPE_CHECKING:
    from federation.signatures.keys import PrivateKey, VerifyKey

SUPPORTED_ALGORITHMS = ("rsa-sha256", "rsa-sha512", "hs2019", "ed25519")
DEFAULT_CONTENT_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'

# A fixed algorithm name maps to exactly one primitive; hs2019 (or none) defers to the key.
_FIXED = {"rsa-sha256": "rsa-v1_5-sha256", "rsa-sha512": "rsa-v1_5-sha512", "ed25519": "ed25519"}


@dataclass(frozen=True)
class CavageSignature:
    """A parsed ``Signature`` header; ``algorithm`` is lower-case, None when not given."""

    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes = field(repr=False)
    created: int | None = None
    expires: int | None = None
    # The literal parameter text, because (created)/(expires) are signed as sent and the
    # draft allows a decimal ``expires``.
    created_text: str | None = field(default=None, repr=False, compare=False)
    expires_text: str | None = field(default=None, repr=False, compare=False)


def parse_signature_header(value: str) -> CavageSignature:
    """Parse ``keyId="...",algorithm="...",headers="...",signature="..."``.

    Tolerates spaces around separators, commas inside quoted values, a leading ``Signature``
    scheme word (the ``Authorization`` form) and parameters it does not know. When
    ``headers`` is absent the draft's default applies: ``(created)`` for hs2019 with a
    ``created`` parameter, otherwise ``date`` (Appendix C.1).
    """
    params = _parse_params(value)
    key_id = params.get("keyid")
    encoded = params.get("signature")
    if not key_id:
        raise SignatureError("malformed Signature header: keyId is missing")
    if not encoded:
        raise SignatureError("malformed Signature header: signature is missing")
    algorithm = params["algorithm"].strip().lower() if params.get("algorithm") else None
    if algorithm is not None and algorithm not in SUPPORTED_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    created = _timestamp(params.get("created"), "created")
    expires = _timestamp(params.get("expires"), "expires")
    if "headers" in params:
        covered = tuple(h.lower() for h in params["headers"].split())
        if not covered:
            raise SignatureError("malformed Signature header: headers is empty")
    elif algorithm in (None, "hs2019") and created is not None:
        covered = ("(created)",)
    else:
        covered = ("date",)
    return CavageSignature(
        key_id=key_id,
        algorithm=algorithm,
        headers=covered,
        signature=_b64decode(encoded),
        created=created,
        expires=expires,
        created_text=params.get("created"),
        expires_text=params.get("expires"),
    )


def signing_string(
    covered: Sequence[str],
    *,
    method: str,
    target: str,
    headers: Mapping[str, str],
    created: str | None = None,
    expires: str | None = None,
) -> str:
    """The draft §2.3 signing string: one ``name: value`` line per covered header.

    ``target`` is ``path[?query]``. Raises SignatureError when a covered header or pseudo-
    header has no value, since a signature over an absent field proves nothing.
    """
    lines = []
    for name in covered:
        name = name.lower()
        if name == "(request-target)":
            value = f"{method.lower()} {target}"
        elif name == "(created)":
            if created is None:
                raise SignatureError("signature covers (created) but has no created parameter")
            value = created
        elif name == "(expires)":
            if expires is None:
                raise SignatureError("signature covers (expires) but has no expires parameter")
            value = expires
        else:
            header = get_header(headers, name)
            if header is None:
                raise SignatureError(f"signed header {name!r} is missing from the request")
            value = header
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def request_signing_string(sig: CavageSignature, method: str, url: str, headers: Mapping) -> bytes:
    """The bytes ``sig`` claims to sign for this request (UTF-8 of the signing string)."""
    text = signing_string(
        sig.headers,
        method=method,
        target=request_target(url),
        headers=headers,
        created=sig.created_text,
        expires=sig.expires_text,
    )
    return text.encode("utf-8")


def primitives_for(algorithm: str | None, key: VerifyKey) -> tuple[str, ...]:
    """Which raw algorithms to try for a draft algorithm name and the fetched key.

    ``hs2019`` and a missing algorithm are resolved by key type, as Mastodon does; a fixed
    name whose key type does not match yields the fixed primitive, which then fails cleanly.
    """
    if algorithm in _FIXED:
        return (_FIXED[algorithm],)
    return algorithm_for_key(key)


def verify_signature(algorithm: str | None, key: VerifyKey, signature: bytes, data: bytes) -> bool:
    """Verify ``data`` with whichever primitive the algorithm and key allow; never raises."""
    return any(
        verify_bytes(primitive, key, signature, data)
        for primitive in primitives_for(algorithm, key)
    )


def sign_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey,
    now: datetime | None = None,
) -> dict[str, str]:
    """Return the complete header dict to send: ``headers`` plus Host, Date, Digest, Signature.

    Covers ``(request-target) host date`` and, with a body, ``digest content-type`` (a
    Content-Type defaults to the ActivityStreams one). RSA keys sign ``rsa-sha256``, the
    only value every server accepts; Ed25519 keys sign ``hs2019``.
    """
    out = without_headers(headers, "host", "date", "digest", "signature")
    out["Host"] = host = authority(url)
    out["Date"] = date = http_date(utc_now(now))
    covered = ["(request-target)", "host", "date"]
    # The signing string is written out here rather than by ``signing_string``: the values
    # are the ones just set (one field each), so looking them up again in ``out`` would only
    # repeat work on every delivery of a fan-out. ``signing_string`` stays the verifier's.
    lines = [f"(request-target): {method.lower()} {request_target(url)}", f"host: {host}"]
    lines.append(f"date: {date}")
    if body is not None:
        out["Digest"] = digest = digest_header(body)
        content_type = get_header(out, "content-type")
        if content_type is None:
            out["Content-Type"] = content_type = DEFAULT_CONTENT_TYPE
        covered += ["digest", "content-type"]
        lines += [f"digest: {digest}", f"content-type: {content_type}"]
    primitive = algorithm_for_key(private_key)
    if not primitive or primitive[0] not in ("rsa-v1_5-sha256", "ed25519"):
        raise SignatureError(f"cannot sign draft-cavage requests with {type(private_key).__name__}")
    algorithm = "rsa-sha256" if primitive[0] == "rsa-v1_5-sha256" else "hs2019"
    text = "\n".join(lines)
    signature = sign_bytes(primitive[0], private_key, text.encode("utf-8"))
    out["Signature"] = (
        f'keyId="{_quote(key_id)}",algorithm="{algorithm}",'
        f'headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode("ascii")}"'
    )
    return out


def _parse_params(value: str) -> dict[str, str]:
    """``name=value`` pairs (quoted or bare), names lower-cased; duplicates are malformed."""
    text = value.strip()
    if text[:10].lower() == "signature ":
        text = text[10:]
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        if eq < 0:
            raise SignatureError(f"malformed Signature header near {text[i : i + 20]!r}")
        name = text[i:eq].strip().lower()
        if not name or any(c in name for c in ' \t,"'):
            raise SignatureError(f"malformed Signature header near {text[i : i + 20]!r}")
        i = eq + 1
        while i < n and text[i] in " \t":
            i += 1
        close = text.find('"', i + 1) if i < n and text[i] == '"' else -1
        if close > 0 and "\\" not in text[i + 1 : close]:
            # No escapes (the common case): the value is the slice, no per-character
            # loop (a signature's base64 is ~350 characters of an inbox POST's hot path).
            param, i = text[i + 1 : close], close + 1
        elif i < n and text[i] == '"':
            chars, i = [], i + 1
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise SignatureError("malformed Signature header: unterminated quoted value")
            i += 1
            param = "".join(chars)
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            param = text[i:end].strip()
            i = end
        if name in params:
            raise SignatureError(f"malformed Signature header: {name} given twice")
        params[name] = param
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] != ",":
            raise SignatureError("malformed Signature header: expected ',' between parameters")
    return params


def _timestamp(value: str | None, name: str) -> int | None:
    """An integer (or, for expires, decimal) Unix time, truncated to whole seconds."""
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation as exc:
        raise SignatureError(f"malformed Signature header: {name} is not a number") from exc
    if not number.is_finite():
        raise SignatureError(f"malformed Signature header: {name} is not a number")
    return int(number)


def _b64decode(value: str) -> bytes:
    compact = "".join(value.split())
    compact += "=" * (-len(compact) % 4)  # some senders drop the padding
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError("malformed Signature header: signature is not base64") from exc


def _quote(value: str) -> str:
    if '"' in value or "\\" in value:
        raise SignatureError(f"keyId cannot contain quotes or backslashes: {value!r}")
    return value
