"""FEP-8b32 integrity proofs (eddsa-jcs-2022), checked against the FEP's own test vectors."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.integrity import (
    base58btc_decode,
    base58btc_encode,
    create_proof,
    decode_multikey,
    encode_multikey,
    proof_verification_method,
    verify_proof,
)
from federation.jsonld import AS_CONTEXT

# From FEP-8b32's fep-8b32.feature: the secret key is a multibase ed25519-priv multikey
# (0x8026 prefix), the public key the matching Multikey.
VECTOR_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_KEY_ID = "https://server.example/users/alice#ed25519-key"
VECTOR_CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)

# The current vector (proof carries the document's @context, data-integrity v2).
CURRENT_DOCUMENT: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v2",
    ],
    "id": "https://server.example/activities/1",
    "type": "Create",
    "actor": "https://server.example/users/alice",
    "object": {
        "id": "https://server.example/objects/1",
        "type": "Note",
        "attributedTo": "https://server.example/users/alice",
        "content": "Hello world",
        "location": {"type": "Place", "longitude": -71.184902, "latitude": 25.273962},
    },
}
CURRENT_PROOF_VALUE = (
    "z42ffGu6AUKPCFcFPiabmUvnGLPJzC7e4DGWC52NUasSSH37UMa9c58tdgVszUcZfytxa4fQ5TYHaJENCxUDe9SdL"
)

# The first published vector, made before the proof configuration included @context.
LEGACY_SIGNED: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v1",
    ],
    "type": "Create",
    "actor": "https://server.example/users/alice",
    "object": {"type": "Note", "content": "Hello world"},
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": VECTOR_KEY_ID,
        "proofPurpose": "assertionMethod",
        "proofValue": (
            "z3sXaxjKs4M3BRicwWA9peyNPJvJqxtGsDmpt1jjoHCjgeUf71"
            "TRFz56osPSfDErszyLp5Ks1EhYSgpDaNM977Rg2"
        ),
        "created": "2023-02-24T23:36:38Z",
    },
}


def _vector_private_key() -> Ed25519PrivateKey:
    raw = base58btc_decode(VECTOR_SECRET[1:])
    assert raw[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def test_vector_keys_match() -> None:
    """The vector's secret key derives the vector's Multikey."""
    assert encode_multikey(_vector_private_key().public_key()) == VECTOR_PUBLIC


def test_signing_reproduces_the_fep_vector() -> None:
    """Same key, document and time give the FEP's exact proof, @context included."""
    signed = create_proof(
        CURRENT_DOCUMENT, _vector_private_key(), VECTOR_KEY_ID, created=VECTOR_CREATED
    )
    assert signed["proof"] == {
        "@context": CURRENT_DOCUMENT["@context"],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": VECTOR_KEY_ID,
        "proofPurpose": "assertionMethod",
        "proofValue": CURRENT_PROOF_VALUE,
        "created": "2023-02-24T23:36:38Z",
    }
    assert "proof" not in CURRENT_DOCUMENT  # the input is left alone


def test_fep_vector_verifies() -> None:
    """The FEP's signed document verifies with the actor's Multikey."""
    signed = {
        **CURRENT_DOCUMENT,
        "proof": {
            "@context": CURRENT_DOCUMENT["@context"],
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-jcs-2022",
            "verificationMethod": VECTOR_KEY_ID,
            "proofPurpose": "assertionMethod",
            "proofValue": CURRENT_PROOF_VALUE,
            "created": "2023-02-24T23:36:38Z",
        },
    }
    assert verify_proof(signed, VECTOR_PUBLIC)
    assert verify_proof(signed, decode_multikey(VECTOR_PUBLIC))


def test_legacy_vector_still_verifies() -> None:
    """Proofs from before the @context rule (first FEP vector, early Mitra) are accepted."""
    assert verify_proof(LEGACY_SIGNED, VECTOR_PUBLIC)
    tampered = copy.deepcopy(LEGACY_SIGNED)
    tampered["object"]["content"] = "Goodbye world"
    assert not verify_proof(tampered, VECTOR_PUBLIC)


def test_round_trip_through_json() -> None:
    """A proof made on a document using our tuple AS_CONTEXT survives serialisation."""
    key = Ed25519PrivateKey.generate()
    doc = {
        "@context": AS_CONTEXT,
        "id": "https://c.example/users/alice/statuses/1/activity",
        "type": "Create",
        "actor": "https://c.example/users/alice",
        "object": {
            "id": "https://c.example/users/alice/statuses/1",
            "type": "Note",
            "content": "é ✓ 1.5e3",
        },
    }
    signed = create_proof(doc, key, "https://c.example/users/alice#ed25519-key")
    received = json.loads(json.dumps(signed))
    assert verify_proof(received, key.public_key())
    assert proof_verification_method(received) == "https://c.example/users/alice#ed25519-key"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["object"].update(content="changed"),
        lambda d: d.update(actor="https://evil.example/users/mallory"),
        lambda d: d["proof"].update(created="2030-01-01T00:00:00Z"),
        lambda d: d["proof"].update(verificationMethod="https://evil.example/k"),
        lambda d: d["proof"].update(**{"@context": ["https://www.w3.org/ns/activitystreams"]}),
        lambda d: d.update(**{"@context": "https://www.w3.org/ns/activitystreams"}),
        lambda d: d["proof"].update(proofValue="z" + base58btc_encode(b"\x01" * 64)),
        lambda d: d["proof"].update(proofValue="not-multibase"),
        lambda d: d["proof"].update(proofValue="z0OIl"),
    ],
    ids=[
        "content",
        "actor",
        "created",
        "method",
        "proof-context",
        "doc-context",
        "sig",
        "prefix",
        "alphabet",
    ],
)
def test_tampering_fails(tamper: Any) -> None:
    """Any change to the document or the proof makes verification fail, without raising."""
    key = Ed25519PrivateKey.generate()
    signed = create_proof(CURRENT_DOCUMENT, key, VECTOR_KEY_ID)
    tamper(signed)
    assert not verify_proof(signed, key.public_key())


def test_wrong_key_fails() -> None:
    signed = create_proof(CURRENT_DOCUMENT, Ed25519PrivateKey.generate(), VECTOR_KEY_ID)
    assert not verify_proof(signed, Ed25519PrivateKey.generate().public_key())
    assert not verify_proof(signed, "zNotAMultikey")


def test_ld_signature_beside_proof_is_ignored() -> None:
    """FEP-8b32: an LD signature added after the proof does not break it."""
    key = Ed25519PrivateKey.generate()
    signed = create_proof(CURRENT_DOCUMENT, key, VECTOR_KEY_ID)
    signed["signature"] = {"type": "RsaSignature2017", "signatureValue": "abc"}
    assert verify_proof(signed, key.public_key())


def test_proof_sets_verify_if_any_proof_matches() -> None:
    """With several proofs, the one made by the given key is found."""
    key = Ed25519PrivateKey.generate()
    signed = create_proof(CURRENT_DOCUMENT, key, VECTOR_KEY_ID)
    other = {**signed["proof"], "verificationMethod": "https://x.example/k", "proofValue": "z1"}
    signed["proof"] = [other, signed["proof"]]
    assert verify_proof(signed, key.public_key())
    assert proof_verification_method(signed) == "https://x.example/k"


def test_existing_proof_is_not_replaced() -> None:
    with pytest.raises(ValueError, match="already carries a proof"):
        create_proof(LEGACY_SIGNED, Ed25519PrivateKey.generate(), VECTOR_KEY_ID)


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"proof": "z123"},
        {"proof": {**LEGACY_SIGNED["proof"], "cryptosuite": "eddsa-rdfc-2022"}},
        {"proof": {**LEGACY_SIGNED["proof"], "proofPurpose": "authentication"}},
    ],
)
def test_unusable_proofs_are_ignored(doc: dict[str, Any]) -> None:
    """No eddsa-jcs-2022 assertion proof: no key to fetch, nothing verifies."""
    assert proof_verification_method(doc) is None
    assert not verify_proof(doc, VECTOR_PUBLIC)


def test_base58_round_trip_keeps_leading_zeros() -> None:
    data = b"\x00\x00\x01\x02\xff"
    assert base58btc_decode(base58btc_encode(data)) == data
    assert base58btc_encode(b"") == ""
