"""Signature headers under hostile input: draft-cavage ``Signature``, RFC 9421
``Signature-Input``/``Signature`` and the digest headers parse or raise SignatureError."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from federation.errors import SignatureError
from federation.signatures import parse_request_signature, sign_request, verify_body_digest
from federation.signatures.keys import generate_rsa_key
from tests.fuzz.conftest import FUZZ

URL = "https://b.example/inbox"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
KEY = generate_rsa_key()
BODY = b'{"type":"Follow"}'


def _signed(scheme: str) -> dict[str, str]:
    return sign_request(
        scheme,  # type: ignore[arg-type]
        method="POST",
        url=URL,
        headers={"Content-Type": "application/activity+json"},
        body=BODY,
        key_id="https://a.example/users/a#main-key",
        private_key=KEY,
        now=NOW,
    )


CAVAGE = _signed("cavage")
RFC9421 = _signed("rfc9421")

header_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet='keyIdalgorithmheaderssignaturecreatedexpires=",;() 0123456789', max_size=200),
)


@st.composite
def mutated_headers(draw: st.DrawFn) -> dict[str, str]:
    """A valid signed header set with one or two header values cut, spliced or replaced."""
    headers = dict(draw(st.sampled_from([CAVAGE, RFC9421])))
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        name = draw(st.sampled_from([*sorted(headers), "Authorization", "Signature-Input"]))
        value = headers.get(name, "")
        how = draw(st.sampled_from(["cut", "splice", "replace", "drop"]))
        if how == "cut" and value:
            at = draw(st.integers(min_value=0, max_value=len(value)))
            headers[name] = value[:at]
        elif how == "splice":
            at = draw(st.integers(min_value=0, max_value=len(value)))
            headers[name] = value[:at] + draw(header_text) + value[at:]
        elif how == "drop":
            headers.pop(name, None)
        else:
            headers[name] = draw(header_text)
    return headers


@FUZZ
@given(mutated_headers())
@example({**CAVAGE, "Signature": 'keyId="k",signature="===",created="9" * 400'})
@example({**RFC9421, "Signature-Input": 'sig1=("@method");created=99999999999999999999'})
@example({**CAVAGE, "Signature": 'keyId="k",algorithm="hs2019",signature="AA==",expires="-1"'})
def test_parse_request_signature_never_crashes(headers: dict[str, str]) -> None:
    """Any header set either yields a vetted signature or SignatureError with a reason;
    a vetted signature's verify() answers True or False, never raises."""
    try:
        sig = parse_request_signature("POST", URL, headers, now=NOW)
    except SignatureError as exc:
        assert exc.reason
        return
    assert sig.verify(KEY.public_key()) in (True, False)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["Digest", "Content-Digest", "digest"]),
        st.one_of(
            header_text,
            st.sampled_from(
                ["SHA-256=", "sha-256=:AAAA:", "sha-512=:x:", "SHA-256=@@@", "md5=abc"]
            ),
        ),
        max_size=2,
    ),
    st.binary(max_size=64),
)
def test_verify_body_digest_never_crashes(headers: dict[str, str], body: bytes) -> None:
    try:
        verify_body_digest(headers, body)
    except SignatureError as exc:
        assert exc.reason


def test_unmutated_signatures_verify() -> None:
    """The seeds are valid: the mutations start from signatures that verify."""
    for headers in (CAVAGE, RFC9421):
        sig = parse_request_signature("POST", URL, headers, now=NOW)
        assert sig.verify(KEY.public_key())
