"""RFC 9421 HTTP Message Signatures: ``Signature-Input`` + ``Signature``.

Cercle signs what Mastodon requires when it verifies RFC 9421 (``app/lib/signed_request.rb``):
``@method`` and ``@target-uri``, the ``created`` and ``keyid`` parameters, and on a body
``content-digest`` (we add ``content-type``). Structured fields are parsed and serialised
with ``http_sfv`` so the ``@signature-params`` line is the canonical serialisation, not the
sender's spacing.

Components carrying parameters (``;sf``, ``;key``, ``;bs``, ``;req``, ``;tr``) and
``@query-param`` / ``@status`` are refused with a clear reason: no fediverse software sends
them, and each is a place for the signature base to differ subtly between implementations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import http_sfv

    from federation.signatures.keys import PrivateKey, VerifyKey

from federation.errors import SignatureError
from federation.signatures._http import (
    authority,
    get_header,
    http_date,
    path_of,
    request_target,
    split_url,
    utc_now,
    without_headers,
)
from federation.signatures.cavage import DEFAULT_CONTENT_TYPE
from federation.signatures.digest import content_digest_header
from federation.signatures.keys import (
    ALGORITHMS,
    algorithm_for_key,
    sign_bytes,
    verify_bytes,
)

DERIVED = ("@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query")
DEFAULT_LABEL = "sig1"
# rsa-v1_5-sha512 is an internal name for draft-cavage's rsa-sha512, not an RFC 9421 value.
RFC_ALGORITHMS = tuple(a for a in ALGORITHMS if a != "rsa-v1_5-sha512")


@dataclass(frozen=True)
class MessageSignature:
    """One labelled signature: its covered components, parameters and bytes.

    ``signature_params`` is the canonical serialisation of the inner list with its
    parameters, i.e. the value of the ``@signature-params`` line of the signature base.
    ``component_params`` holds, per component, any parameters it carried (which we refuse).
    """

    label: str
    components: tuple[str, ...]
    signature: bytes = field(repr=False)
    signature_params: str = field(repr=False)
    created: int | None = None
    expires: int | None = None
    key_id: str | None = None
    alg: str | None = None
    nonce: str | None = None
    tag: str | None = None
    component_params: tuple[tuple[str, ...], ...] = field(default=(), repr=False)


def parse_signature_headers(signature_input: str, signature: str) -> list[MessageSignature]:
    """Parse both fields, pairing labels; order follows ``Signature-Input``.

    Raises SignatureError when either field is not a valid RFC 8941 dictionary, when a
    member has the wrong shape, or when a label has no matching signature.
    """
    inputs = _parse_dictionary(signature_input, "Signature-Input")
    values = _parse_dictionary(signature, "Signature")
    result = []
    for label, member in inputs.items():
        if not isinstance(member, _sfv().InnerList):
            raise SignatureError(f"malformed Signature-Input: {label} is not an inner list")
        sig_item = values.get(label)
        if not isinstance(sig_item, _sfv().Item) or not isinstance(sig_item.value, bytes):
            raise SignatureError(f"malformed Signature: no byte sequence for label {label}")
        names, comp_params = [], []
        for item in member:
            if not isinstance(item.value, str) or not item.value:
                raise SignatureError(f"malformed Signature-Input: {label} has a non-string item")
            names.append(item.value)
            comp_params.append(tuple(item.params))
        params = member.params
        result.append(
            MessageSignature(
                label=label,
                components=tuple(names),
                signature=sig_item.value,
                signature_params=str(member),
                created=_int_param(params, "created", label),
                expires=_int_param(params, "expires", label),
                key_id=_str_param(params, "keyid", label),
                alg=_str_param(params, "alg", label),
                nonce=_str_param(params, "nonce", label),
                tag=_str_param(params, "tag", label),
                component_params=tuple(comp_params),
            )
        )
    if not result:
        raise SignatureError("malformed Signature-Input: no signature labels")
    return result


def component_value(name: str, *, method: str, url: str, headers: Mapping[str, str]) -> str:
    """Derive one component's value (RFC 9421 §2.1 fields, §2.2 derived components)."""
    if name == "@method":
        return method
    if name == "@target-uri":
        # Normalised (RFC 3986 §6.2.3) so "https://Host:443/x" and "https://host/x" agree.
        return f"{split_url(url).scheme.lower()}://{authority(url)}{request_target(url)}"
    if name == "@authority":
        return authority(url)
    if name == "@scheme":
        return split_url(url).scheme.lower()
    if name == "@request-target":
        return request_target(url)
    if name == "@path":
        return path_of(url)
    if name == "@query":
        return "?" + split_url(url).query
    if name.startswith("@"):
        raise SignatureError(f"unsupported derived component {name!r}")
    if name != name.lower() or any(c in name for c in ' \t"'):
        raise SignatureError(f"malformed component identifier {name!r}")
    value = get_header(headers, name)
    if value is None:
        raise SignatureError(f"signed header {name!r} is missing from the request")
    return value


def signature_base(
    components: Sequence[str],
    signature_params: str,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    component_params: Sequence[Sequence[str]] = (),
) -> bytes:
    """The RFC 9421 §2.5 signature base: one ``"name": value`` line per component, then
    ``"@signature-params": ...``, joined by LF with no trailing newline."""
    lines = []
    seen: set[str] = set()
    for index, name in enumerate(components):
        given = component_params[index] if index < len(component_params) else ()
        if given:
            raise SignatureError(
                f"unsupported component parameter ;{given[0]} on {name!r} (only plain "
                "components are accepted)"
            )
        if name in seen:
            raise SignatureError(f"component {name!r} is covered twice")
        seen.add(name)
        value = component_value(name, method=method, url=url, headers=headers)
        if "\n" in value or "\r" in value:
            raise SignatureError(f"component {name!r} contains a line break")
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {signature_params}')
    return "\n".join(lines).encode("utf-8")


def request_signature_base(
    sig: MessageSignature, method: str, url: str, headers: Mapping[str, str]
) -> bytes:
    """The signature base ``sig`` claims to sign for this request."""
    return signature_base(
        sig.components,
        sig.signature_params,
        method=method,
        url=url,
        headers=headers,
        component_params=sig.component_params,
    )


def verify_signature(alg: str | None, key: VerifyKey, signature: bytes, base: bytes) -> bool:
    """Verify with the ``alg`` parameter when given, else the key type's algorithm(s)."""
    if alg is not None:
        return verify_bytes(alg, key, signature, base)
    return any(verify_bytes(a, key, signature, base) for a in algorithm_for_key(key))


def check_alg(alg: str | None) -> None:
    """Refuse an ``alg`` parameter we do not implement before any key is fetched."""
    if alg is not None and alg not in RFC_ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {alg!r}")


def sign_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey | bytes,
    now: datetime | None = None,
    label: str = DEFAULT_LABEL,
    include_alg: bool = True,
) -> dict[str, str]:
    """Return the complete header dict to send, signed per RFC 9421.

    Adds Host and Date (uncovered, for servers that log or check them), and with a body
    ``Content-Digest`` and a default Content-Type; covers ``@method @target-uri`` plus
    ``content-digest content-type`` on a body, with ``created``, ``keyid`` and ``alg``.
    """
    moment = utc_now(now)
    out = without_headers(headers, "host", "date", "content-digest", "signature", "signature-input")
    out["Host"] = authority(url)
    out["Date"] = http_date(moment)
    components = ["@method", "@target-uri"]
    if body is not None:
        out["Content-Digest"] = content_digest_header(body)
        if get_header(out, "content-type") is None:
            out["Content-Type"] = DEFAULT_CONTENT_TYPE
        components += ["content-digest", "content-type"]
    candidates = algorithm_for_key(private_key)
    if not candidates:
        raise SignatureError(f"cannot sign RFC 9421 requests with {type(private_key).__name__}")
    alg = candidates[0]
    inner = _sfv().InnerList([_sfv().Item(c) for c in components])
    inner.params["created"] = int(moment.timestamp())
    inner.params["keyid"] = key_id
    if include_alg:
        inner.params["alg"] = alg
    params_text = str(inner)
    base = signature_base(components, params_text, method=method, url=url, headers=out)
    signature = sign_bytes(alg, private_key, base)
    inputs = _sfv().Dictionary()
    inputs[label] = inner
    values = _sfv().Dictionary()
    values[label] = _sfv().Item(signature)
    out["Signature-Input"] = str(inputs)
    out["Signature"] = str(values)
    return out


def _parse_dictionary(value: str, header: str) -> http_sfv.Dictionary:
    parsed = _sfv().Dictionary()
    try:
        parsed.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureError(f"malformed {header} header") from exc
    return parsed


def _int_param(params: Mapping[str, object], name: str, label: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if type(value) is not int:
        raise SignatureError(f"malformed Signature-Input: {label};{name} is not an integer")
    return value


def _str_param(params: Mapping[str, object], name: str, label: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SignatureError(f"malformed Signature-Input: {label};{name} is not a string")
    return str(value)


def _sfv() -> Any:
    """http_sfv, imported when a structured header is first met (most peers send none)."""
    import http_sfv

    return http_sfv
