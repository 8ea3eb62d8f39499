"""Object integrity proofs (FEP-8b32) with the ``eddsa-jcs-2022`` cryptosuite.

A proof lets a document be trusted whoever delivers it, which is what forwarded and relayed
activities need. The algorithm follows W3C *Data Integrity EdDSA Cryptosuites* (vc-di-eddsa),
section eddsa-jcs-2022:

1. the proof configuration is the proof without ``proofValue``, with the document's
   ``@context`` copied in (the emitted proof carries that ``@context`` too, as the current
   FEP-8b32 test vector shows);
2. hash data = SHA-256(JCS(proof configuration)) || SHA-256(JCS(document without ``proof``));
3. the Ed25519 signature of the hash data, multibase base58btc encoded (``z...``), is the
   ``proofValue``.

Proofs made before vc-di-eddsa added step 1's ``@context`` (the first FEP-8b32 test vector,
early Mitra) are still accepted: when a proof carries no ``@context`` and the current form
fails, the configuration is hashed without it. Both forms hash the whole document, so the
fallback lets nothing unsigned through.

JCS is RFC 8785 (the ``rfc8785`` package). Keys travel as Multikeys (FEP-521a): helpers to
encode and decode them are here too.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from federation.jsonld import plain_json
from federation.vocab.values import parse_datetime

if TYPE_CHECKING:  # imported where used: an idle node needs neither (see signatures/keys.py)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

log = logging.getLogger(__name__)

PROOF_TYPE: Final = "DataIntegrityProof"
CRYPTOSUITE: Final = "eddsa-jcs-2022"

_BASE58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX: Final = {char: index for index, char in enumerate(_BASE58_ALPHABET)}
#: Multicodec prefix (unsigned varint of 0xed) of a raw Ed25519 public key.
_ED25519_PUB_PREFIX: Final = b"\xed\x01"


def base58btc_encode(data: bytes) -> str:
    """Bitcoin-alphabet base58, leading zero bytes kept as ``1``."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_BASE58_ALPHABET[remainder])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(value: str) -> bytes:
    """Inverse of :func:`base58btc_encode`; raises ValueError on a foreign character."""
    number = 0
    for char in value:
        index = _BASE58_INDEX.get(char)
        if index is None:
            raise ValueError(f"invalid base58 character {char!r}")
        number = number * 58 + index
    zeros = len(value) - len(value.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode_multikey(public_key: Ed25519PublicKey) -> str:
    """The ``publicKeyMultibase`` of an Ed25519 key (``z6Mk...``)."""
    return "z" + base58btc_encode(_ED25519_PUB_PREFIX + public_key.public_bytes_raw())


def decode_multikey(value: str) -> Ed25519PublicKey:
    """Read a ``publicKeyMultibase``; raises ValueError unless it is an Ed25519 Multikey."""
    if not value.startswith("z"):
        raise ValueError("only base58btc multibase values ('z...') are supported")
    raw = base58btc_decode(value[1:])
    if not raw.startswith(_ED25519_PUB_PREFIX) or len(raw) != len(_ED25519_PUB_PREFIX) + 32:
        raise ValueError("not an Ed25519 Multikey")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(raw[len(_ED25519_PUB_PREFIX) :])


def _format_created(created: datetime | None) -> str:
    moment = (created or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hash_data(
    unsecured: Mapping[str, Any], proof_options: Mapping[str, Any], *, legacy: bool = False
) -> bytes:
    """SHA-256(JCS(proof config)) || SHA-256(JCS(unsecured document)), per eddsa-jcs-2022.

    ``legacy`` leaves the document's @context out of the proof configuration (pre-2024 form).
    """
    import rfc8785

    config = {key: value for key, value in proof_options.items() if key != "proofValue"}
    config.pop("@context", None)
    if "@context" in unsecured and not legacy:
        config["@context"] = unsecured["@context"]
    config_hash = hashlib.sha256(rfc8785.dumps(plain_json(config))).digest()
    document_hash = hashlib.sha256(rfc8785.dumps(plain_json(unsecured))).digest()
    return config_hash + document_hash


def create_proof(
    doc: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    *,
    created: datetime | None = None,
    purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a copy of ``doc`` carrying an eddsa-jcs-2022 ``proof``.

    ``verification_method`` is the id of the signer's Multikey (``actor#ed25519-key``).
    A document that already has a ``proof`` is refused (ValueError): proof sets and chains
    are not supported, and silently replacing a proof would hide someone else's signature.
    Add the proof before any LD signature (FEP-8b32 "Backward compatibility").
    """
    if "proof" in doc:
        raise ValueError("document already carries a proof")
    proof: dict[str, Any] = {"@context": doc["@context"]} if "@context" in doc else {}
    proof |= {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": purpose,
        "created": _format_created(created),
    }
    unsecured = {key: value for key, value in doc.items() if key != "signature"}
    signature = private_key.sign(_hash_data(unsecured, proof))
    proof["proofValue"] = "z" + base58btc_encode(signature)
    return {**doc, "proof": proof}


def _candidate_proofs(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The proofs of ``doc`` this module can check (eddsa-jcs-2022, assertionMethod)."""
    proofs = doc.get("proof")
    items = proofs if isinstance(proofs, list) else [proofs]
    return [
        proof
        for proof in items
        if isinstance(proof, Mapping)
        and proof.get("type") == PROOF_TYPE
        and proof.get("cryptosuite") == CRYPTOSUITE
        and proof.get("proofPurpose") == "assertionMethod"
        and isinstance(proof.get("proofValue"), str)
        and isinstance(proof.get("verificationMethod"), str)
    ]


def proof_verification_method(doc: Mapping[str, Any]) -> str | None:
    """The key id to fetch to verify ``doc``'s proof, or None if it has no usable proof."""
    proofs = _candidate_proofs(doc)
    return str(proofs[0]["verificationMethod"]) if proofs else None


def _context_items(context: Any) -> list[Any]:
    return list(context) if isinstance(context, list | tuple) else [context]


def _context_starts_with(document_context: Any, proof_context: Any) -> bool:
    proof_items = _context_items(proof_context)
    return _context_items(document_context)[: len(proof_items)] == proof_items


def _verify_one(
    unsecured: dict[str, Any], proof: Mapping[str, Any], public_key: Ed25519PublicKey
) -> bool:
    if "created" in proof and parse_datetime(proof["created"]) is None:
        return False
    if "@context" in proof:
        # vc-di-eddsa: a proof that names its own @context binds the document to it.
        if not _context_starts_with(unsecured.get("@context"), proof["@context"]):
            return False
        unsecured = {**unsecured, "@context": proof["@context"]}
    value = str(proof["proofValue"])
    if not value.startswith("z"):
        return False
    try:
        signature = base58btc_decode(value[1:])
    except ValueError:
        return False
    forms = (False,) if "@context" in proof else (False, True)
    return any(
        _signature_matches(public_key, signature, _hash_data(unsecured, proof, legacy=f))
        for f in forms
    )


def _signature_matches(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def verify_proof(doc: Mapping[str, Any], public_key: Ed25519PublicKey | str) -> bool:
    """True when one of ``doc``'s eddsa-jcs-2022 proofs verifies with ``public_key``.

    ``public_key`` may be the key itself or its ``publicKeyMultibase``. The caller must also
    check that the key's controller is the activity's actor. An LD ``signature`` next to the
    proof is removed before verification, as FEP-8b32 asks. Never raises on bad input.
    """
    if isinstance(public_key, str):
        try:
            public_key = decode_multikey(public_key)
        except ValueError:
            return False
    unsecured = {key: value for key, value in doc.items() if key not in ("proof", "signature")}
    try:
        return any(_verify_one(unsecured, proof, public_key) for proof in _candidate_proofs(doc))
    except (TypeError, ValueError) as error:  # e.g. values JCS cannot serialise (NaN)
        log.debug("integrity proof rejected: %s", error)
        return False
