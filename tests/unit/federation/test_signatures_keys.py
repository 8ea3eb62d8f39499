"""Keys: PEM encodings, FEP-521a Multikey, and the raw sign/verify primitives."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from federation.errors import SignatureError
from federation.signatures import (
    ed25519_to_multibase,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
    multibase_to_ed25519,
    private_key_to_pem,
    public_key_to_pem,
)
from federation.signatures.keys import algorithm_for_key, sign_bytes, verify_bytes

# RFC 9421 Appendix B.1.1 "test-key-rsa", published in PKCS#1 form as some servers do.
RSA_PKCS1_PUBLIC = """-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrw
WEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsdJKFq
MGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75jfZg
kne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0P
uKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQ
PSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQAB
-----END RSA PUBLIC KEY-----
"""


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return generate_rsa_key()


def test_generate_rsa_key_is_2048_bits(rsa_key: rsa.RSAPrivateKey) -> None:
    assert rsa_key.key_size == 2048


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_pem_round_trip(kind: str, rsa_key: rsa.RSAPrivateKey) -> None:
    """Keys survive the database (private PEM) and the actor document (public PEM)."""
    key = rsa_key if kind == "rsa" else generate_ed25519_key()
    private_pem = private_key_to_pem(key)
    public_pem = public_key_to_pem(key)
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert public_key_to_pem(load_private_key_pem(private_pem)) == public_pem
    assert public_key_to_pem(load_public_key_pem(public_pem)) == public_pem
    assert public_key_to_pem(key.public_key()) == public_pem


def test_load_pkcs1_rsa_public_key() -> None:
    """Some servers publish ``BEGIN RSA PUBLIC KEY``; it must load like SPKI."""
    key = load_public_key_pem(RSA_PKCS1_PUBLIC)
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048


def test_load_public_key_with_escaped_newlines() -> None:
    escaped = RSA_PKCS1_PUBLIC.replace("\n", "\\n")
    assert isinstance(load_public_key_pem(escaped), rsa.RSAPublicKey)


@pytest.mark.parametrize("junk", ["", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n"])
def test_unreadable_pem_raises_signature_error(junk: str) -> None:
    with pytest.raises(SignatureError, match="unreadable public key"):
        load_public_key_pem(junk)
    with pytest.raises(SignatureError, match="unreadable private key"):
        load_private_key_pem(junk)


def test_multibase_round_trip() -> None:
    """FEP-521a: an Ed25519 Multikey always starts with z6Mk (0xed01 in base58btc)."""
    public = generate_ed25519_key().public_key()
    encoded = ed25519_to_multibase(public)
    assert encoded.startswith("z6Mk")
    assert len(encoded) == 48
    decoded = multibase_to_ed25519(encoded)
    assert public_key_to_pem(decoded) == public_key_to_pem(public)


def test_multibase_keeps_leading_zero_bytes() -> None:
    """base58 encodes leading zero bytes specially; a key starting with them must survive."""
    raw = bytes(4) + bytes(range(1, 29))
    public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    assert public_key_to_pem(multibase_to_ed25519(ed25519_to_multibase(public))) == (
        public_key_to_pem(public)
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("f" + "00" * 34, "not base58btc"),
        ("z0OIl", "invalid base58"),
        ("z3yZe7d", "not an Ed25519"),  # valid base58, wrong length and codec
    ],
)
def test_multibase_rejects_other_encodings(value: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        multibase_to_ed25519(value)


@pytest.mark.parametrize("algorithm", ["rsa-v1_5-sha256", "rsa-v1_5-sha512", "rsa-pss-sha512"])
def test_rsa_primitives_round_trip(algorithm: str, rsa_key: rsa.RSAPrivateKey) -> None:
    signature = sign_bytes(algorithm, rsa_key, b"data")
    assert verify_bytes(algorithm, rsa_key.public_key(), signature, b"data")
    assert not verify_bytes(algorithm, rsa_key.public_key(), signature, b"dat4")


@pytest.mark.parametrize(
    ("curve", "algorithm", "size"),
    [(ec.SECP256R1(), "ecdsa-p256-sha256", 64), (ec.SECP384R1(), "ecdsa-p384-sha384", 96)],
)
def test_ecdsa_signatures_are_raw_r_s(curve: ec.EllipticCurve, algorithm: str, size: int) -> None:
    """RFC 9421 §3.3.4 puts r || s on the wire, not the DER that OpenSSL produces."""
    key = ec.generate_private_key(curve)
    assert algorithm_for_key(key.public_key()) == (algorithm,)
    signature = sign_bytes(algorithm, key, b"data")
    assert len(signature) == size
    assert verify_bytes(algorithm, key.public_key(), signature, b"data")


def test_wrong_key_type_is_false_not_an_exception(rsa_key: rsa.RSAPrivateKey) -> None:
    """The gate refetches the key on False; an exception would skip that step."""
    ed = generate_ed25519_key()
    signature = sign_bytes("ed25519", ed, b"data")
    assert verify_bytes("ed25519", ed.public_key(), signature, b"data")
    assert not verify_bytes("ed25519", rsa_key.public_key(), signature, b"data")
    assert not verify_bytes("rsa-v1_5-sha256", ed.public_key(), signature, b"data")
    assert not verify_bytes("hmac-sha256", ed.public_key(), signature, b"data")
    assert not verify_bytes("ecdsa-p256-sha256", rsa_key.public_key(), signature, b"data")


def test_unknown_algorithm_and_unfit_signing_key_raise(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureError, match="unsupported signature algorithm"):
        verify_bytes("rsa-sha1", rsa_key.public_key(), b"", b"data")
    with pytest.raises(SignatureError, match="cannot sign"):
        sign_bytes("ed25519", rsa_key, b"data")
