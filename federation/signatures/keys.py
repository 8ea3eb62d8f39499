"""Keys: generation, PEM and Multikey encodings, and the raw sign/verify primitives.

Both signature schemes reduce to "sign these bytes with this algorithm", so the primitives
live here, named with RFC 9421's algorithm registry (``rsa-v1_5-sha256``, ``ed25519``...);
draft-cavage's names are mapped onto them in ``cavage.py``. Verification returns False for
a wrong key, a key of the wrong type or a bad signature — never an exception — because the
caller's next step (refetch the key once, then reject) is the same in every case.

``cryptography`` is imported at the first use of a key, not with this module: its OpenSSL
bindings add ≈ 7 MB to a process, and an idle node (or a command) that signs and verifies
nothing does not need them (docs/performance.md, "Idle memory and start-up").
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from federation.errors import SignatureError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
    PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    # A verification key as the primitives accept it: bytes is an HMAC shared secret.
    VerifyKey = PublicKey | PrivateKey | bytes

ALGORITHMS = (
    "rsa-v1_5-sha256",
    "rsa-v1_5-sha512",  # not in RFC 9421; draft-cavage's rsa-sha512
    "rsa-pss-sha512",
    "ecdsa-p256-sha256",
    "ecdsa-p384-sha384",
    "ed25519",
    "hmac-sha256",
)

_MULTICODEC_ED25519_PUB = b"\xed\x01"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_ECDSA_NAMES = ("ecdsa-p256-sha256", "ecdsa-p384-sha384")


@functools.cache
def _crypto() -> Any:
    """The ``cryptography`` names this module uses, imported once, at the first call."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import (
        decode_dss_signature,
        encode_dss_signature,
    )

    public = (rsa.RSAPublicKey, ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey)
    private = (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey)
    return SimpleNamespace(
        InvalidSignature=InvalidSignature,
        UnsupportedAlgorithm=UnsupportedAlgorithm,
        hashes=hashes,
        serialization=serialization,
        ec=ec,
        ed25519=ed25519,
        padding=padding,
        rsa=rsa,
        decode_dss_signature=decode_dss_signature,
        encode_dss_signature=encode_dss_signature,
        public_types=public,
        private_types=private,
        ecdsa={
            "ecdsa-p256-sha256": (ec.SECP256R1, hashes.SHA256, 32),
            "ecdsa-p384-sha384": (ec.SECP384R1, hashes.SHA384, 48),
        },
    )


def __getattr__(name: str) -> Any:
    """``PublicKey``, ``PrivateKey`` and ``VerifyKey`` at run time (they are annotations
    here, and type checkers read them from the ``TYPE_CHECKING`` block above)."""
    if name not in ("PublicKey", "PrivateKey", "VerifyKey"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    c = _crypto()
    if name == "PublicKey":
        return c.rsa.RSAPublicKey | c.ed25519.Ed25519PublicKey | c.ec.EllipticCurvePublicKey
    if name == "PrivateKey":
        return c.rsa.RSAPrivateKey | c.ed25519.Ed25519PrivateKey | c.ec.EllipticCurvePrivateKey
    return __getattr__("PublicKey") | __getattr__("PrivateKey") | bytes  # VerifyKey


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """A new RSA key; 2048 bits is what every fediverse server expects and can verify."""
    return _crypto().rsa.generate_private_key(public_exponent=65537, key_size=bits)


def generate_ed25519_key() -> ed25519.Ed25519PrivateKey:
    """A new Ed25519 key, for FEP-521a Multikeys and object integrity proofs."""
    return _crypto().ed25519.Ed25519PrivateKey.generate()


def private_key_to_pem(key: PrivateKey) -> str:
    """Unencrypted PKCS#8 PEM: the database is the protection, not a passphrase beside it."""
    serialization = _crypto().serialization
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_to_pem(key: PublicKey | PrivateKey) -> str:
    """SubjectPublicKeyInfo PEM (``BEGIN PUBLIC KEY``), the form ``publicKeyPem`` carries."""
    serialization = _crypto().serialization
    public = key.public_key() if isinstance(key, _crypto().private_types) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private_key_pem(pem: str | bytes) -> PrivateKey:
    """Load PKCS#8 or PKCS#1 (``BEGIN RSA PRIVATE KEY``) PEM, without a passphrase."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    c = _crypto()
    try:
        key = c.serialization.load_pem_private_key(data.strip(), password=None)
    except (ValueError, TypeError, c.UnsupportedAlgorithm) as exc:
        raise SignatureError("unreadable private key PEM") from exc
    if not isinstance(key, c.private_types):
        raise SignatureError(f"unsupported private key type {type(key).__name__}")
    return key


def load_public_key_pem(pem: str | bytes) -> PublicKey:
    """Load SPKI or PKCS#1 (``BEGIN RSA PUBLIC KEY``) PEM, as remote actors publish either.

    A few servers serialise the PEM with literal ``\\n`` sequences; those are unescaped.
    """
    text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
    text = text.replace("\\n", "\n").strip()
    c = _crypto()
    try:
        key = c.serialization.load_pem_public_key(text.encode("ascii"))
    except (ValueError, TypeError, c.UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        raise SignatureError("unreadable public key PEM") from exc
    if not isinstance(key, c.public_types):
        raise SignatureError(f"unsupported public key type {type(key).__name__}")
    return key


def ed25519_to_multibase(public: ed25519.Ed25519PublicKey) -> str:
    """FEP-521a ``publicKeyMultibase``: ``z`` + base58btc(0xed01 || 32 raw bytes)."""
    serialization = _crypto().serialization
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + _b58encode(_MULTICODEC_ED25519_PUB + raw)


def multibase_to_ed25519(value: str) -> ed25519.Ed25519PublicKey:
    """Inverse of :func:`ed25519_to_multibase`; refuses other multibases and multicodecs."""
    if not value.startswith("z"):
        raise SignatureError("publicKeyMultibase is not base58btc (does not start with 'z')")
    data = _b58decode(value[1:])
    if len(data) != 34 or not data.startswith(_MULTICODEC_ED25519_PUB):
        raise SignatureError("publicKeyMultibase is not an Ed25519 public key (0xed01)")
    return _crypto().ed25519.Ed25519PublicKey.from_public_bytes(data[2:])


def algorithm_for_key(key: VerifyKey) -> tuple[str, ...]:
    """Algorithms a key can verify when the signature does not name one, most likely first.

    RSA tries PKCS#1 v1.5 first (what the fediverse sends) and then PSS-SHA512 (what
    draft-cavage's hs2019 and RFC 9421's examples use): both are sound, so accepting either
    costs nothing.
    """
    if isinstance(key, bytes):
        return ("hmac-sha256",)
    c = _crypto()
    rsa, ed25519, ec = c.rsa, c.ed25519, c.ec
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return ("rsa-v1_5-sha256", "rsa-pss-sha512")
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return ("ed25519",)
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        for name, (curve, _, _) in c.ecdsa.items():
            if isinstance(key.curve, curve):
                return (name,)
    return ()


def sign_bytes(algorithm: str, key: PrivateKey | bytes, data: bytes) -> bytes:
    """Sign ``data``; raises SignatureError when the key cannot do ``algorithm``."""
    if algorithm == "hmac-sha256" and isinstance(key, bytes):
        return hmac.new(key, data, hashlib.sha256).digest()
    c = _crypto()
    rsa, ed25519, ec, padding, hashes = c.rsa, c.ed25519, c.ec, c.padding, c.hashes
    if algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, rsa.RSAPrivateKey):
        if algorithm == "rsa-v1_5-sha256":
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if algorithm == "rsa-v1_5-sha512":
            return key.sign(data, padding.PKCS1v15(), hashes.SHA512())
        if algorithm == "rsa-pss-sha512":
            return key.sign(data, _pss(), hashes.SHA512())
    if algorithm in _ECDSA_NAMES and isinstance(key, ec.EllipticCurvePrivateKey):
        curve, digest, size = c.ecdsa[algorithm]
        if isinstance(key.curve, curve):
            r, s = c.decode_dss_signature(key.sign(data, ec.ECDSA(digest())))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise SignatureError(f"key {type(key).__name__} cannot sign with {algorithm}")


def verify_bytes(algorithm: str, key: VerifyKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` over ``data`` verifies; False for any mismatch of key or bytes.

    Raises SignatureError only for an algorithm name we do not implement, which the parsers
    reject long before a key is fetched.
    """
    if algorithm not in ALGORITHMS:
        raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
    if algorithm == "hmac-sha256":
        if not isinstance(key, bytes):
            return False
        return hmac.compare_digest(hmac.new(key, data, hashlib.sha256).digest(), signature)
    c = _crypto()
    rsa, ed25519, ec, padding, hashes = c.rsa, c.ed25519, c.ec, c.padding, c.hashes
    if isinstance(key, c.private_types):
        key = key.public_key()
    try:
        if algorithm == "ed25519":
            if not isinstance(key, ed25519.Ed25519PublicKey):
                return False
            key.verify(signature, data)
            return True
        if algorithm.startswith("rsa-"):
            if not isinstance(key, rsa.RSAPublicKey):
                return False
            if algorithm == "rsa-v1_5-sha256":
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            elif algorithm == "rsa-v1_5-sha512":
                key.verify(signature, data, padding.PKCS1v15(), hashes.SHA512())
            else:
                key.verify(signature, data, _pss(), hashes.SHA512())
            return True
        curve, digest, size = c.ecdsa[algorithm]
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
            return False
        if len(signature) != 2 * size:  # RFC 9421 §3.3.4: raw r || s, not DER
            return False
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        key.verify(c.encode_dss_signature(r, s), data, ec.ECDSA(digest()))
        return True
    except (c.InvalidSignature, ValueError):
        return False


def _pss() -> padding.PSS:
    """RSASSA-PSS as RFC 9421 §3.3.1 fixes it: MGF1 with SHA-512, 64-byte salt."""
    padding, hashes = _crypto().padding, _crypto().hashes
    return padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


def _b58encode(data: bytes) -> str:
    """Bitcoin-alphabet base58; each leading zero byte becomes a leading '1'."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + out


def _b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise SignatureError(f"invalid base58 character {char!r}")
        number = number * 58 + index
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body
