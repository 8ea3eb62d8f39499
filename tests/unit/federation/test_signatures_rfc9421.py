"""RFC 9421 HTTP Message Signatures: Appendix B vectors, derivation, and the gate's rules."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from federation.errors import SignatureError
from federation.signatures import (
    content_digest_header,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
    parse_request_signature,
    rfc9421,
    sign_request,
    verify_body_digest,
)
from federation.signatures.keys import sign_bytes

# RFC 9421 Appendix B.1 test keys.
ED25519_PUBLIC = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
ED25519_PRIVATE = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RSA_PSS_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----
"""
SHARED_SECRET = base64.b64decode(
    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ=="
)

# Appendix B.2's test-request.
B_URL = "https://example.com/foo?param=Value&Pet=dog"
B_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7B"
    "NNyealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
}
B_NOW = datetime.fromtimestamp(1618884473, UTC)

B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it"
    "++wgGxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbz"
    "R72rgFWhzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5W"
    "Sb/QEVPnP5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)
B25_INPUT = (
    'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"'
)
B25_SIGNATURE = "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WP"
    "pBKRCw==:"
)
B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    '"content-length");created=1618884473;keyid="test-key-ed25519"'
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


def _vector(signature_input: str, signature: str) -> tuple[rfc9421.MessageSignature, bytes]:
    [sig] = rfc9421.parse_signature_headers(signature_input, signature)
    return sig, rfc9421.request_signature_base(sig, "POST", B_URL, B_HEADERS)


def _signed_post(key, *, now: datetime = NOW) -> dict[str, str]:
    return sign_request(
        "rfc9421",
        method="POST",
        url=INBOX,
        headers={"Content-Type": "application/activity+json"},
        body=BODY,
        key_id=KEY_ID,
        private_key=key,
        now=now,
    )


# --- Appendix B vectors ----------------------------------------------------------------------


def test_b26_ed25519_base_and_signature() -> None:
    """Ed25519 is deterministic: the base must match and re-signing must give the RFC's bytes."""
    sig, base = _vector(B26_INPUT, B26_SIGNATURE)
    assert base.decode() == B26_BASE
    assert rfc9421.verify_signature(
        sig.alg, load_public_key_pem(ED25519_PUBLIC), sig.signature, base
    )
    assert sign_bytes("ed25519", load_private_key_pem(ED25519_PRIVATE), base) == sig.signature


def test_b25_hmac_sha256() -> None:
    """HMAC is deterministic too; a shared secret is passed as bytes."""
    sig, base = _vector(B25_INPUT, B25_SIGNATURE)
    assert base.decode().splitlines()[:3] == [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@authority": example.com',
        '"content-type": application/json',
    ]
    assert rfc9421.verify_signature(None, SHARED_SECRET, sig.signature, base)
    assert sign_bytes("hmac-sha256", SHARED_SECRET, base) == sig.signature
    assert not rfc9421.verify_signature(None, b"another secret", sig.signature, base)


def test_b21_rsa_pss_with_inferred_and_explicit_alg() -> None:
    """B.2.1 covers nothing and names no alg: an RSA key must also try PSS-SHA512."""
    sig, base = _vector(B21_INPUT, B21_SIGNATURE)
    assert base == (
        b'"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss"'
        b';nonce="b3k2pp5k7z-50gnwp.yemd"'
    )
    public = load_public_key_pem(RSA_PSS_PUBLIC)
    assert rfc9421.verify_signature(None, public, sig.signature, base)
    assert rfc9421.verify_signature("rsa-pss-sha512", public, sig.signature, base)
    assert not rfc9421.verify_signature("rsa-v1_5-sha256", public, sig.signature, base)


def test_b26_is_refused_by_the_gate_for_lack_of_content_digest() -> None:
    """A POST whose signature leaves Content-Digest uncovered leaves the body unsigned."""
    headers = {**B_HEADERS, "Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}
    with pytest.raises(SignatureError, match="does not cover Content-Digest"):
        parse_request_signature("POST", B_URL, headers, now=B_NOW)


def test_b21_is_refused_by_the_gate_for_covering_nothing() -> None:
    headers = {**B_HEADERS, "Signature-Input": B21_INPUT, "Signature": B21_SIGNATURE}
    with pytest.raises(SignatureError, match="does not cover @method"):
        parse_request_signature("POST", B_URL, headers, now=B_NOW)


# --- component derivation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "url", "expected"),
    [
        ("@method", "https://h.example/", "POST"),
        ("@target-uri", "HTTPS://H.example:443/a?b=c", "https://h.example/a?b=c"),
        ("@authority", "https://H.Example:443/", "h.example"),
        ("@authority", "http://h.example:8080/", "h.example:8080"),
        ("@authority", "http://[::1]:8080/", "[::1]:8080"),
        ("@scheme", "HTTPS://h.example/", "https"),
        ("@request-target", "https://h.example/p/q?x=1&y", "/p/q?x=1&y"),
        ("@path", "https://h.example", "/"),
        ("@query", "https://h.example/p?param=Value&Pet=dog", "?param=Value&Pet=dog"),
        ("@query", "https://h.example/p", "?"),
    ],
)
def test_derived_components(name: str, url: str, expected: str) -> None:
    assert rfc9421.component_value(name, method="POST", url=url, headers={}) == expected


@pytest.mark.parametrize(
    ("signature_input", "reason"),
    [
        ('s=("content-type";sf "@method");created=1;keyid="k"', "component parameter ;sf"),
        ('s=("@query-param";name="Pet");created=1;keyid="k"', "component parameter ;name"),
        ('s=("@status");created=1;keyid="k"', "unsupported derived component"),
        ('s=("x-missing");created=1;keyid="k"', "'x-missing' is missing"),
        ('s=("Date");created=1;keyid="k"', "malformed component identifier"),
        ('s=("date" "date");created=1;keyid="k"', "covered twice"),
    ],
)
def test_unsupported_components_are_refused_clearly(signature_input: str, reason: str) -> None:
    [sig] = rfc9421.parse_signature_headers(signature_input, "s=:AAAA:")
    with pytest.raises(SignatureError, match=reason):
        rfc9421.request_signature_base(sig, "POST", B_URL, B_HEADERS)


@pytest.mark.parametrize(
    ("signature_input", "signature", "reason"),
    [
        ("s=(", "s=:AAAA:", "malformed Signature-Input header"),
        ('s=("@method")', "s=AAAA", "no byte sequence for label s"),
        ('s=("@method")', "t=:AAAA:", "no byte sequence for label s"),
        ('s="@method"', "s=:AAAA:", "not an inner list"),
        ('s=("@method");created="now"', "s=:AAAA:", "created is not an integer"),
        ('s=("@method");keyid=1', "s=:AAAA:", "keyid is not a string"),
        ("s=(1)", "s=:AAAA:", "non-string item"),
    ],
)
def test_malformed_fields_are_refused(signature_input: str, signature: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        rfc9421.parse_signature_headers(signature_input, signature)


# --- round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "alg"), [("rsa", "rsa-v1_5-sha256"), ("ed", "ed25519")])
def test_sign_parse_verify_round_trip(kind: str, alg: str, rsa_key, ed_key) -> None:
    """What we send covers what Mastodon requires, and passes our own gate."""
    key = rsa_key if kind == "rsa" else ed_key
    headers = _signed_post(key)
    created = int(NOW.timestamp())
    assert headers["Signature-Input"] == (
        f'sig1=("@method" "@target-uri" "content-digest" "content-type");created={created}'
        f';keyid="{KEY_ID}";alg="{alg}"'
    )
    assert headers["Signature"].startswith("sig1=:")
    assert headers["Content-Digest"] == content_digest_header(BODY)
    assert headers["Host"] == "remote.example"

    sig = parse_request_signature("POST", INBOX, headers, now=NOW + timedelta(minutes=10))
    assert (sig.scheme, sig.key_id, sig.label, sig.created) == ("rfc9421", KEY_ID, "sig1", NOW)
    assert sig.covered == ("@method", "@target-uri", "content-digest", "content-type")
    assert sig.covers_body_digest
    assert sig.verify(key.public_key())
    assert verify_body_digest(headers, BODY) == "content-digest"


def test_ecdsa_p256_round_trip() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    headers = _signed_post(key)
    assert 'alg="ecdsa-p256-sha256"' in headers["Signature-Input"]
    assert parse_request_signature("POST", INBOX, headers, now=NOW).verify(key.public_key())


def test_get_signs_method_and_target_only(ed_key) -> None:
    url = "https://remote.example/users/bob/outbox?page=true"
    headers = sign_request(
        "rfc9421",
        method="GET",
        url=url,
        headers=None,
        body=None,
        key_id=KEY_ID,
        private_key=ed_key,
        now=NOW,
    )
    assert "Content-Digest" not in headers
    sig = parse_request_signature("GET", url, headers, now=NOW)
    assert sig.covered == ("@method", "@target-uri")
    assert sig.verify(ed_key.public_key())
    other = parse_request_signature("GET", url.replace("true", "2"), headers, now=NOW)
    assert not other.verify(ed_key.public_key())


def test_first_usable_label_wins(rsa_key) -> None:
    """Labels the gate cannot use (here: too little coverage) are skipped, not fatal."""
    headers = _signed_post(rsa_key)
    headers["Signature-Input"] = 'weak=("date");created=1;keyid="x", ' + headers["Signature-Input"]
    headers["Signature"] = "weak=:AAAA:, " + headers["Signature"]
    sig = parse_request_signature("POST", INBOX, headers, now=NOW)
    assert sig.label == "sig1"
    assert sig.verify(rsa_key.public_key())


def test_when_no_label_is_usable_the_first_reason_is_raised() -> None:
    headers = {
        "Signature-Input": 'a=("date");keyid="x", b=("@method" "@path");keyid="y"',
        "Signature": "a=:AAAA:, b=:AAAA:",
        "Date": "Wed, 15 Jan 2025 12:00:00 GMT",
    }
    with pytest.raises(SignatureError, match="does not cover @method"):
        parse_request_signature("GET", INBOX, headers, now=NOW)


# --- rejections ------------------------------------------------------------------------------


def test_wrong_key_verifies_false(rsa_key, ed_key) -> None:
    sig = parse_request_signature("POST", INBOX, _signed_post(rsa_key), now=NOW)
    assert sig.verify(generate_rsa_key().public_key()) is False
    assert sig.verify(ed_key.public_key()) is False
    assert sig.verify(b"a shared secret") is False


def test_tampered_body_is_caught_by_content_digest(ed_key) -> None:
    headers = _signed_post(ed_key)
    with pytest.raises(SignatureError, match="Content-Digest does not match"):
        verify_body_digest(headers, BODY + b"!")


def test_created_two_hours_off_is_refused(ed_key) -> None:
    headers = _signed_post(ed_key, now=NOW - timedelta(hours=2))
    with pytest.raises(SignatureError, match="created more than 1 hour from now"):
        parse_request_signature("POST", INBOX, headers, now=NOW)


def _hand_signed(key, inner: str, **extra: str) -> dict[str, str]:
    """Sign an arbitrary Signature-Input, to build requests our signer would never send."""
    headers = {"Content-Digest": content_digest_header(BODY), **extra}
    [sig] = rfc9421.parse_signature_headers(f"s={inner}", "s=:AAAA:")
    base = rfc9421.request_signature_base(sig, "POST", INBOX, headers)
    value = base64.b64encode(sign_bytes("ed25519", key, base)).decode()
    return {**headers, "Signature-Input": f"s={inner}", "Signature": f"s=:{value}:"}


def test_expired_signature_is_refused(ed_key) -> None:
    created = int((NOW - timedelta(minutes=30)).timestamp())
    expires = int((NOW - timedelta(hours=2)).timestamp())
    inner = (
        f'("@method" "@target-uri" "content-digest");created={created};expires={expires};keyid="k"'
    )
    with pytest.raises(SignatureError, match="signature expired"):
        parse_request_signature("POST", INBOX, _hand_signed(ed_key, inner), now=NOW)


def test_missing_content_digest_coverage_on_post_is_refused(ed_key) -> None:
    inner = f'("@method" "@target-uri");created={int(NOW.timestamp())};keyid="k"'
    with pytest.raises(SignatureError, match="does not cover Content-Digest"):
        parse_request_signature("POST", INBOX, _hand_signed(ed_key, inner), now=NOW)


def test_authority_and_path_count_as_the_target(ed_key) -> None:
    created = int(NOW.timestamp())
    inner = f'("@method" "@authority" "@path" "content-digest");created={created};keyid="k"'
    sig = parse_request_signature("POST", INBOX, _hand_signed(ed_key, inner), now=NOW)
    assert sig.verify(ed_key.public_key())


def test_method_without_target_is_refused(ed_key) -> None:
    inner = f'("@method" "@path" "content-digest");created={int(NOW.timestamp())};keyid="k"'
    with pytest.raises(SignatureError, match="does not cover the request target"):
        parse_request_signature("POST", INBOX, _hand_signed(ed_key, inner), now=NOW)


def test_date_instead_of_created_is_checked(ed_key) -> None:
    inner = '("@method" "@target-uri" "date" "content-digest");keyid="k"'
    headers = _hand_signed(ed_key, inner, Date="Wed, 15 Jan 2025 09:00:00 GMT")
    with pytest.raises(SignatureError, match="Date is more than 1 hour off"):
        parse_request_signature("POST", INBOX, headers, now=NOW)
    sig = parse_request_signature("POST", INBOX, headers, now=NOW - timedelta(hours=3))
    assert sig.created == NOW - timedelta(hours=3)
    assert sig.verify(ed_key.public_key())


def test_neither_date_nor_created_is_refused(ed_key) -> None:
    inner = '("@method" "@target-uri" "content-digest");keyid="k"'
    with pytest.raises(SignatureError, match="neither Date nor created"):
        parse_request_signature("POST", INBOX, _hand_signed(ed_key, inner), now=NOW)


def test_missing_keyid_and_unknown_alg_are_refused(ed_key) -> None:
    created = int(NOW.timestamp())
    inner = f'("@method" "@target-uri" "content-digest");created={created}'
    with pytest.raises(SignatureError, match="no keyid"):
        parse_request_signature("POST", INBOX, _hand_signed(ed_key, inner), now=NOW)
    inner = f'("@method" "@target-uri" "content-digest");created={created};keyid="k";alg="rsa-sha1"'
    with pytest.raises(SignatureError, match="unsupported signature algorithm 'rsa-sha1'"):
        parse_request_signature("POST", INBOX, _hand_signed(ed_key, inner), now=NOW)


def test_alg_parameter_must_match_the_key(ed_key) -> None:
    """An Ed25519 signature claiming rsa-v1_5-sha256 must not verify with the Ed25519 key."""
    created = int(NOW.timestamp())
    inner = (
        f'("@method" "@target-uri" "content-digest");created={created};keyid="k"'
        ';alg="rsa-v1_5-sha256"'
    )
    sig = parse_request_signature("POST", INBOX, _hand_signed(ed_key, inner), now=NOW)
    assert sig.verify(ed_key.public_key()) is False
