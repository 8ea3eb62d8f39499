"""draft-cavage-http-signatures-12: the published test vectors, parsing, and the gate's rules."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from multidict import CIMultiDict, CIMultiDictProxy

from federation.errors import SignatureError
from federation.signatures import (
    cavage,
    digest_header,
    generate_ed25519_key,
    generate_rsa_key,
    load_public_key_pem,
    parse_request_signature,
    sign_request,
    verify_body_digest,
)
from federation.signatures.cavage import parse_signature_header, signing_string
from federation.signatures.keys import sign_bytes

# draft-cavage-http-signatures-12 Appendix C: the "Test" key and test request.
DRAFT_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3
6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6
Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw
oYi+1hqp1fIekaxsyQIDAQAB
-----END PUBLIC KEY-----
"""
DRAFT_URL = "http://example.com/foo?param=value&pet=dog"
DRAFT_HEADERS = {
    "Host": "example.com",
    "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
    "Content-Type": "application/json",
    "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
    "Content-Length": "18",
}
DRAFT_NOW = datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC)
# The three signatures as printed in Appendix C.1, C.2 and C.3. All three verify against
# the published key (the draft's warning that its vectors "may be wrong" concerns earlier
# revisions; C.3 does pair (created) with rsa-sha256, which the draft's own §2.3 forbids and
# Mastodon refuses, and which we accept).
DRAFT_C1 = (
    'keyId="Test",algorithm="rsa-sha256",signature="SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttB'
    "qtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q25WqS+lavg7T8hc0GppauB6hbgEKTwblDHY"
    'GEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="'
)
DRAFT_C2 = (
    'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",signature="qdx+H'
    "7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8"
    'VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="'
)
DRAFT_C3 = (
    'keyId="Test",algorithm="rsa-sha256",created=1402170695,expires=1402170699,headers="(reque'
    'st-target) (created) (expires) host date content-type digest content-length",signature="n'
    "AkCW0wg9AbbStQRLi8fsS1mPPnA6S5+/0alANcoDFG9hG0bJ8NnMRcB1Sz1eccNMzzLEke7nGXqoiJYZFfT81oaRq"
    'h/MNFwQVX4OZvTLZ5xVZQuchRkOSO7b2QX0aFWFOUq6dnwAyliHrp6w3FOxwkGGJPaerw2lOYLdC/Bejk="'
)

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
INBOX = "https://remote.example/users/bob/inbox"
BODY = b'{"type": "Follow"}'
KEY_ID = "https://cercle.example/users/alice#main-key"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return generate_rsa_key()


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return generate_ed25519_key()


def _signed_post(key, *, now: datetime = NOW, body: bytes = BODY) -> dict[str, str]:
    return sign_request(
        "cavage",
        method="POST",
        url=INBOX,
        headers={"Content-Type": "application/activity+json"},
        body=body,
        key_id=KEY_ID,
        private_key=key,
        now=now,
    )


# --- the draft's published examples --------------------------------------------------------


@pytest.mark.parametrize("header", [DRAFT_C1, DRAFT_C2, DRAFT_C3], ids=["C.1", "C.2", "C.3"])
def test_draft_appendix_c_signatures_verify(header: str) -> None:
    """Our signing string matches the draft's byte for byte, or these would not verify."""
    parsed = parse_signature_header(header)
    data = cavage.request_signing_string(parsed, "POST", DRAFT_URL, DRAFT_HEADERS)
    public = load_public_key_pem(DRAFT_PUBLIC_KEY)
    assert cavage.verify_signature(parsed.algorithm, public, parsed.signature, data)
    assert not cavage.verify_signature(parsed.algorithm, public, parsed.signature, data + b" ")


def test_draft_c3_passes_the_gate() -> None:
    """C.3 covers target, Date, (created) and Digest. Its created is five months after its
    Date, so only a very wide skew lets both pass at once."""
    sig = parse_request_signature(
        "POST",
        DRAFT_URL,
        {**DRAFT_HEADERS, "Signature": DRAFT_C3},
        now=DRAFT_NOW,
        max_skew=timedelta(days=200),
    )
    assert sig.covers_body_digest
    assert sig.created == datetime(2014, 6, 7, 19, 51, 35, tzinfo=UTC)
    assert sig.verify(load_public_key_pem(DRAFT_PUBLIC_KEY))


def test_draft_c2_signing_string() -> None:
    parsed = parse_signature_header(DRAFT_C2)
    text = signing_string(
        parsed.headers, method="POST", target="/foo?param=value&pet=dog", headers=DRAFT_HEADERS
    )
    assert text == (
        "(request-target): post /foo?param=value&pet=dog\n"
        "host: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT"
    )


def test_draft_c1_and_c2_are_refused_by_the_gate() -> None:
    """C.1 signs Date alone (replayable to any URL); C.2 is a POST whose Digest is unsigned."""
    with pytest.raises(SignatureError, match=r"does not cover \(request-target\)"):
        parse_request_signature(
            "POST", DRAFT_URL, {**DRAFT_HEADERS, "Signature": DRAFT_C1}, now=DRAFT_NOW
        )
    with pytest.raises(SignatureError, match="does not cover Digest"):
        parse_request_signature(
            "POST", DRAFT_URL, {**DRAFT_HEADERS, "Signature": DRAFT_C2}, now=DRAFT_NOW
        )


# --- parsing ---------------------------------------------------------------------------------


def test_parse_is_robust_to_spacing_quoted_commas_and_unknown_params() -> None:
    sig = parse_signature_header(
        ' keyId = "https://a.example/u,1#k" ,  algorithm="RSA-SHA256",  '
        'foo=bar, headers="(Request-Target) Host  Date", signature="AQID" , ext="x,y"'
    )
    assert sig.key_id == "https://a.example/u,1#k"
    assert sig.algorithm == "rsa-sha256"
    assert sig.headers == ("(request-target)", "host", "date")
    assert sig.signature == b"\x01\x02\x03"


def test_parse_defaults() -> None:
    """No headers: Date for rsa-sha256 (Appendix C.1), (created) for hs2019 with created."""
    assert parse_signature_header('keyId="k",signature="AQID"').headers == ("date",)
    hs = parse_signature_header('keyId="k",algorithm="hs2019",created=1,signature="AQID"')
    assert hs.headers == ("(created)",)
    assert hs.created == 1


def test_parse_authorization_form() -> None:
    sig = parse_signature_header('Signature keyId="k",headers="date",signature="AQID"')
    assert sig.key_id == "k"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('algorithm="rsa-sha256",signature="AQID"', "keyId is missing"),
        ('keyId="k",headers="date"', "signature is missing"),
        ('keyId="k",algorithm="rsa-sha1",signature="AQID"', "unsupported signature algorithm"),
        ('keyId="k",keyId="j",signature="AQID"', "given twice"),
        ('keyId="k",signature="AQID', "unterminated"),
        ('keyId="k" signature="AQID"', "expected ','"),
        ('keyId="k",signature="@@@@"', "not base64"),
        ('keyId="k",created=soon,signature="AQID"', "created is not a number"),
        ("just garbage", "malformed"),
    ],
)
def test_parse_rejects_malformed_headers(value: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        parse_signature_header(value)


def test_signing_string_joins_repeated_headers() -> None:
    headers = CIMultiDictProxy(CIMultiDict([("X-Tag", "a"), ("x-tag", " b ")]))
    text = signing_string(["x-tag"], method="GET", target="/", headers=headers)
    assert text == "x-tag: a, b"


def test_signing_string_refuses_a_missing_header() -> None:
    with pytest.raises(SignatureError, match="'digest' is missing"):
        signing_string(["digest"], method="POST", target="/", headers={})


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "algorithm"), [("rsa", "rsa-sha256"), ("ed", "hs2019")])
def test_sign_parse_verify_round_trip(kind: str, algorithm: str, rsa_key, ed_key) -> None:
    """What we send passes our own gate, with the headers Mastodon expects."""
    key = rsa_key if kind == "rsa" else ed_key
    headers = _signed_post(key)
    assert headers["Host"] == "remote.example"
    assert headers["Date"] == "Wed, 15 Jan 2025 12:00:00 GMT"
    assert headers["Digest"] == digest_header(BODY)
    assert headers["Content-Type"] == "application/activity+json"
    assert f'algorithm="{algorithm}"' in headers["Signature"]
    assert 'headers="(request-target) host date digest content-type"' in headers["Signature"]

    sig = parse_request_signature("POST", INBOX, headers, now=NOW + timedelta(minutes=5))
    assert sig.scheme == "cavage"
    assert sig.key_id == KEY_ID
    assert sig.created == NOW
    assert sig.covers_body_digest
    assert sig.verify(key.public_key())
    assert verify_body_digest(headers, BODY) == "digest"


def test_get_is_signed_without_digest(rsa_key) -> None:
    headers = sign_request(
        "cavage",
        method="GET",
        url="https://remote.example:8443/users/bob?page=2",
        headers={"Accept": "application/activity+json"},
        body=None,
        key_id=KEY_ID,
        private_key=rsa_key,
        now=NOW,
    )
    assert "Digest" not in headers
    assert headers["Host"] == "remote.example:8443"
    assert 'headers="(request-target) host date"' in headers["Signature"]
    sig = parse_request_signature(
        "GET", "https://remote.example:8443/users/bob?page=2", headers, now=NOW
    )
    assert not sig.covers_body_digest
    assert sig.verify(rsa_key.public_key())
    # The query is part of (request-target): dropping it breaks the signature.
    moved = parse_request_signature(
        "GET", "https://remote.example:8443/users/bob", headers, now=NOW
    )
    assert not moved.verify(rsa_key.public_key())


def test_plain_dict_headers_in_any_case(rsa_key) -> None:
    headers = {k.lower(): v for k, v in _signed_post(rsa_key).items()}
    assert parse_request_signature("POST", INBOX, headers, now=NOW).verify(rsa_key.public_key())


# --- rejections ------------------------------------------------------------------------------


def test_wrong_key_verifies_false(rsa_key, ed_key) -> None:
    sig = parse_request_signature("POST", INBOX, _signed_post(rsa_key), now=NOW)
    assert sig.verify(generate_rsa_key().public_key()) is False
    assert sig.verify(ed_key.public_key()) is False


def test_tampered_body_is_caught_by_the_digest(rsa_key) -> None:
    """The signature still verifies (it covers the header); the body check must not."""
    headers = _signed_post(rsa_key)
    assert parse_request_signature("POST", INBOX, headers, now=NOW).verify(rsa_key.public_key())
    with pytest.raises(SignatureError, match="does not match"):
        verify_body_digest(headers, b'{"type": "Delete"}')


def test_tampered_target_fails_verification(rsa_key) -> None:
    headers = _signed_post(rsa_key)
    other = parse_request_signature("POST", "https://remote.example/inbox", headers, now=NOW)
    assert not other.verify(rsa_key.public_key())


@pytest.mark.parametrize("offset", [timedelta(hours=2), timedelta(hours=-2)])
def test_date_two_hours_off_is_refused(offset: timedelta, rsa_key) -> None:
    headers = _signed_post(rsa_key, now=NOW + offset)
    with pytest.raises(SignatureError, match="Date is more than 1 hour off"):
        parse_request_signature("POST", INBOX, headers, now=NOW)


def test_skew_is_configurable(rsa_key) -> None:
    headers = _signed_post(rsa_key, now=NOW - timedelta(minutes=45))
    with pytest.raises(SignatureError, match="more than 30 minutes off"):
        parse_request_signature("POST", INBOX, headers, now=NOW, max_skew=timedelta(minutes=30))


def _hand_signed(key, covered: list[str], extra: str = "", **headers: str) -> dict[str, str]:
    """Sign an arbitrary header list, to build requests our signer would never send."""
    all_headers = {"Host": "remote.example", "Date": "Wed, 15 Jan 2025 12:00:00 GMT", **headers}
    text = signing_string(
        covered,
        method="POST",
        target="/users/bob/inbox",
        headers=all_headers,
        created=str(int(NOW.timestamp())),
        expires=str(int((NOW - timedelta(hours=2)).timestamp())),
    )
    signature = base64.b64encode(sign_bytes("rsa-v1_5-sha256", key, text.encode())).decode()
    all_headers["Signature"] = (
        f'keyId="k",algorithm="hs2019",headers="{" ".join(covered)}"{extra},signature="{signature}"'
    )
    return all_headers


def test_missing_request_target_is_refused(rsa_key) -> None:
    headers = _hand_signed(rsa_key, ["host", "date", "digest"], Digest=digest_header(BODY))
    with pytest.raises(SignatureError, match=r"does not cover \(request-target\)"):
        parse_request_signature("POST", INBOX, headers, now=NOW)


def test_missing_digest_coverage_on_post_is_refused(rsa_key) -> None:
    headers = _hand_signed(rsa_key, ["(request-target)", "host", "date"])
    with pytest.raises(SignatureError, match="does not cover Digest"):
        parse_request_signature("POST", INBOX, headers, now=NOW)


def test_missing_date_and_created_is_refused(rsa_key) -> None:
    headers = _hand_signed(rsa_key, ["(request-target)", "host", "digest"], Digest="SHA-256=AA==")
    with pytest.raises(SignatureError, match=r"neither Date nor \(created\)"):
        parse_request_signature("POST", INBOX, headers, now=NOW)


def test_expired_signature_is_refused(rsa_key) -> None:
    created, expires = int(NOW.timestamp()), int((NOW - timedelta(hours=2)).timestamp())
    headers = _hand_signed(
        rsa_key,
        ["(request-target)", "(created)", "(expires)", "digest"],
        f",created={created},expires={expires}",
        Digest=digest_header(BODY),
    )
    with pytest.raises(SignatureError, match="signature expired"):
        parse_request_signature("POST", INBOX, headers, now=NOW)


def test_hs2019_created_with_rsa_key_verifies(rsa_key) -> None:
    """hs2019 resolves by key type: an RSA key means PKCS#1 v1.5 SHA-256, as Mastodon does."""
    created = int(NOW.timestamp())
    headers = _hand_signed(
        rsa_key,
        ["(request-target)", "(created)", "digest"],
        f",created={created}",
        Digest=digest_header(BODY),
    )
    sig = parse_request_signature("POST", INBOX, headers, now=NOW)
    assert sig.created == NOW
    assert sig.verify(rsa_key.public_key())


def test_rsa_sha512_verifies(rsa_key) -> None:
    headers = {"Host": "remote.example", "Date": "Wed, 15 Jan 2025 12:00:00 GMT"}
    text = signing_string(
        ["(request-target)", "host", "date"], method="GET", target="/x", headers=headers
    )
    signature = base64.b64encode(sign_bytes("rsa-v1_5-sha512", rsa_key, text.encode())).decode()
    headers["Signature"] = (
        f'keyId="k",algorithm="rsa-sha512",headers="(request-target) host date",'
        f'signature="{signature}"'
    )
    sig = parse_request_signature("GET", "https://remote.example/x", headers, now=NOW)
    assert sig.verify(rsa_key.public_key())


def test_authorization_header_is_accepted(rsa_key) -> None:
    headers = _signed_post(rsa_key)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert parse_request_signature("POST", INBOX, headers, now=NOW).verify(rsa_key.public_key())


def test_no_signature_is_refused() -> None:
    with pytest.raises(SignatureError, match="no signature"):
        parse_request_signature("POST", INBOX, {"Authorization": "Bearer x"}, now=NOW)


def test_claimed_algorithm_must_match_the_key(rsa_key) -> None:
    """An Ed25519 signature labelled rsa-sha256 must not verify against the Ed25519 key."""
    ed = generate_ed25519_key()
    headers = _signed_post(ed)
    headers["Signature"] = headers["Signature"].replace("hs2019", "rsa-sha256")
    sig = parse_request_signature("POST", INBOX, headers, now=NOW)
    assert sig.verify(ed.public_key()) is False
