"""Body digests: Digest (RFC 3230) and Content-Digest (RFC 9530) against the body received."""

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from federation.errors import SignatureError
from federation.signatures import content_digest_header, digest_header, verify_body_digest

BODY = b'{"hello": "world"}'
# The body of RFC 9421's test-request and the digests the RFC and draft-cavage publish for it.
SHA256_B64 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
SHA512_B64 = (
    "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew=="
)


def test_digest_header_matches_the_published_value() -> None:
    """draft-cavage Appendix C signs exactly this Digest for the test body."""
    assert digest_header(BODY) == f"SHA-256={SHA256_B64}"


def test_content_digest_header_is_a_structured_byte_sequence() -> None:
    assert content_digest_header(BODY) == f"sha-256=:{SHA256_B64}:"


def test_no_digest_header_returns_none() -> None:
    """The caller decides whether a missing digest is fatal (it is for a signed POST)."""
    assert verify_body_digest({"Content-Type": "application/json"}, BODY) is None


@pytest.mark.parametrize("name", ["SHA-256", "sha-256", "Sha-256", "SHA256"])
def test_digest_algorithm_name_in_any_case(name: str) -> None:
    """Senders disagree on the case (and a few drop the hyphen); all mean SHA-256."""
    assert verify_body_digest({"Digest": f"{name}={SHA256_B64}"}, BODY) == "digest"


def test_digest_sha512_and_multiple_values() -> None:
    headers = {"digest": f"sha-512={SHA512_B64}, SHA-256={SHA256_B64}"}
    assert verify_body_digest(headers, BODY) == "digest"


def test_unsupported_algorithm_beside_a_supported_one_is_ignored() -> None:
    headers = {"Digest": f"MD5=Sd/dVLAcvNLSq16eXua5uQ==,SHA-256={SHA256_B64}"}
    assert verify_body_digest(headers, BODY) == "digest"


def test_only_unsupported_algorithms_raise() -> None:
    """ "I could not check" must never read as "it matched"."""
    with pytest.raises(SignatureError, match="no supported algorithm"):
        verify_body_digest({"Digest": "MD5=Sd/dVLAcvNLSq16eXua5uQ=="}, BODY)
    with pytest.raises(SignatureError, match="no supported algorithm"):
        verify_body_digest({"Content-Digest": "md5=:Sd/dVLAcvNLSq16eXua5uQ==:"}, BODY)


def test_tampered_body_raises_for_digest() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify_body_digest({"Digest": digest_header(BODY)}, BODY + b" ")


def test_tampered_body_raises_for_content_digest() -> None:
    with pytest.raises(SignatureError, match="Content-Digest does not match"):
        verify_body_digest({"Content-Digest": content_digest_header(BODY)}, b"{}")


def test_any_mismatching_supported_digest_raises() -> None:
    """A correct SHA-256 does not excuse a wrong SHA-512 beside it."""
    wrong512 = SHA512_B64.replace("W", "X", 1)
    with pytest.raises(SignatureError, match="sha512"):
        verify_body_digest({"Digest": f"SHA-256={SHA256_B64},SHA-512={wrong512}"}, BODY)


def test_content_digest_rfc9530_sha512_vector() -> None:
    """RFC 9421's test-request carries this sha-512 Content-Digest."""
    headers = {"Content-Digest": f"sha-512=:{SHA512_B64}:"}
    assert verify_body_digest(headers, BODY) == "content-digest"


def test_both_headers_are_checked() -> None:
    headers = {"Digest": digest_header(BODY), "Content-Digest": content_digest_header(BODY)}
    assert verify_body_digest(headers, BODY) == "content-digest"
    headers["Digest"] = digest_header(b"other")
    with pytest.raises(SignatureError, match="Digest does not match"):
        verify_body_digest(headers, BODY)


@pytest.mark.parametrize(
    "headers",
    [
        {"Digest": "SHA-256"},
        {"Digest": "SHA-256="},
        {"Digest": "SHA-256=!!not base64!!"},
        {"Digest": ","},
        {"Content-Digest": f"sha-256={SHA256_B64}"},  # a token, not a byte sequence
        {"Content-Digest": "sha-256=:abc"},
        {"Content-Digest": "SHA-256=:" + SHA256_B64 + ":"},  # sf keys are lower-case
    ],
)
def test_malformed_headers_raise(headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError, match=r"malformed|no supported"):
        verify_body_digest(headers, BODY)


def test_accepts_aiohttp_style_case_insensitive_headers() -> None:
    """aiohttp hands the gate a CIMultiDictProxy; lookups must not depend on key case."""
    headers = CIMultiDictProxy(CIMultiDict([("dIgEsT", digest_header(BODY))]))
    assert verify_body_digest(headers, BODY) == "digest"
