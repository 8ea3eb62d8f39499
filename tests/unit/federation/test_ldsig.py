"""RsaSignature2017 Linked Data Signatures, checked against activities Mastodon really signed.

The two signed activities and the actor key come from Smithereen's test resources
(``src/test/resources/ld-signature/``): a Create and a Delete signed by mastodon.social in 2019.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from federation.ldsig import ld_signature_creator, sign_ld_signature, verify_ld_signature

MASTODON_KEY_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2WXJIHS9XSSwe25JEr+C\n"
    "w2Kf24tZ/6QMDCpEsMPO25/aS0hiCIEgLTZZa9oBnZfqYgIkDRctjEta7TMv4Mmd\n"
    "KZDZNR1RBAHyPpQblEs+6CSDv4mwvE4W8+j4ihD8RTB1l1NFlJzJyV49rXCfGu4S\n"
    "ZC02A7CgjrqDTKuNMOLWhagWOsWv4x9ltKvakT5cxhjcTbtfZUmHQlBSTaZLnuEx\n"
    "SbWsIq/8U5xPDCVF21vyP/p+4zvA8daw7rlv4ErB/YMWoje6QGq7nRTRp3mi4zTp\n"
    "SLTv474juz7SOIeI7thXdePCFsP3Oaq7iMV9PQn+COCNAIwSzBxWumz4W/C3PeFD\n"
    "+wIDAQAB\n"
    "-----END PUBLIC KEY-----\n"
)

MASTODON_SIGNED_DELETE: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri"},
    ],
    "id": "https://mastodon.social/users/grishka/statuses/103206329966868106#delete",
    "type": "Delete",
    "actor": "https://mastodon.social/users/grishka",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
    "object": {
        "id": "https://mastodon.social/users/grishka/statuses/103206329966868106",
        "type": "Tombstone",
        "atomUri": "https://mastodon.social/users/grishka/statuses/103206329966868106",
    },
    "signature": {
        "type": "RsaSignature2017",
        "creator": "https://mastodon.social/users/grishka#main-key",
        "created": "2019-11-26T21:27:29Z",
        "signatureValue": (
            "T9F6LvPXs9IFox6l+M94LxUqm09U+b688/JNKW1xp+y672ZuEaox+YdTlVjoFPdS"
            "egR2vEYh65YrRxO8xx6o8Hg5VDlq4iXYwEzPvuEC1v5Usw0hGf5YAZzeBveVba8h"
            "5m6ivRzEMYIQFQF3WL0/cMJZ3ffQyd2geCHjLhOFCh7PyovUfF5ZDD9/Duqtrb9/"
            "E2CW/CekElumtwi77iDX4d0KIf1v+jxR2r6x7wpIc+5TJTyWhoKZMF13jxmvXYVa"
            "VUDYuCNT8+pfIK4cBAlXg6Wv9EQz1hNU/nAiRqsCmUnhTBa61eL6VY8eKGulSGQ5"
            "S0sNXr+Lo0ilo1+lRKKbpQ=="
        ),
    },
}

MASTODON_SIGNED_CREATE: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        {
            "ostatus": "http://ostatus.org#",
            "atomUri": "ostatus:atomUri",
            "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
            "conversation": "ostatus:conversation",
            "sensitive": "as:sensitive",
            "toot": "http://joinmastodon.org/ns#",
            "votersCount": "toot:votersCount",
        },
    ],
    "id": "https://mastodon.social/users/grishka/statuses/103206329966868106/activity",
    "type": "Create",
    "actor": "https://mastodon.social/users/grishka",
    "published": "2019-11-26T21:26:58Z",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
    "cc": ["https://mastodon.social/users/grishka/followers"],
    "object": {
        "id": "https://mastodon.social/users/grishka/statuses/103206329966868106",
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "published": "2019-11-26T21:26:58Z",
        "url": "https://mastodon.social/@grishka/103206329966868106",
        "attributedTo": "https://mastodon.social/users/grishka",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["https://mastodon.social/users/grishka/followers"],
        "sensitive": False,
        "atomUri": "https://mastodon.social/users/grishka/statuses/103206329966868106",
        "inReplyToAtomUri": None,
        "conversation": "tag:mastodon.social,2019-11-26:objectId=138037425:objectType=Conversation",
        "content": "<p>This is a test toot. Please ignore.</p>",
        "contentMap": {"en": "<p>This is a test toot. Please ignore.</p>"},
        "attachment": [],
        "tag": [],
        "replies": {
            "id": "https://mastodon.social/users/grishka/statuses/103206329966868106/replies",
            "type": "Collection",
            "first": {
                "type": "CollectionPage",
                "next": "https://mastodon.social/users/grishka/statuses/103206329966868106/replies?only_other_accounts=true&page=true",
                "partOf": "https://mastodon.social/users/grishka/statuses/103206329966868106/replies",
                "items": [],
            },
        },
    },
    "signature": {
        "type": "RsaSignature2017",
        "creator": "https://mastodon.social/users/grishka#main-key",
        "created": "2019-11-26T21:26:59Z",
        "signatureValue": (
            "cGLWBNNxjrA+Rz+LXTmje+DBOZjT4NnRBeoZ17as+DIdhCabl4bTHz22BS+NOEoZ"
            "R+kE8BWO6JruykpwJR7stQsIOoB+cuwm1jBEVJndEpTv97vFanakQvwLgAzp/pUI"
            "Am3v0bLb2ObTYZ+oaEJdo2JjVH/2yyHoRR8HdzkLtZbfYtGuappjbLU0pTZthBRM"
            "XtXx7ap0tWGgJRS3Vz+EI98UBG03bMauBY99SFBYr+CJ+PQ5ZHX1r8avIwKn/EoM"
            "jHXH3W/c+GCYp0RCihu0ylZ5LWiuoGEFJ9Ll4WnW6JSvKDR5XzaFjPrwX/0Q1buQ"
            "/h7V9ry7LLdPw7GLfT9Jkg=="
        ),
    },
}

OUR_NOTE: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {"sensitive": "as:sensitive"},
    ],
    "id": "https://c.example/users/alice/statuses/9/activity",
    "type": "Create",
    "actor": "https://c.example/users/alice",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
    "object": {
        "id": "https://c.example/users/alice/statuses/9",
        "type": "Note",
        "attributedTo": "https://c.example/users/alice",
        "content": "<p>Forward me</p>",
        "sensitive": False,
    },
}


@pytest.fixture(scope="module")
def mastodon_key() -> RSAPublicKey:
    key = load_pem_public_key(MASTODON_KEY_PEM.encode())
    assert isinstance(key, RSAPublicKey)
    return key


@pytest.fixture(scope="module")
def private_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    "doc", [MASTODON_SIGNED_CREATE, MASTODON_SIGNED_DELETE], ids=["create", "delete"]
)
def test_real_mastodon_signatures_verify(doc: dict[str, Any], mastodon_key: RSAPublicKey) -> None:
    """Our canonicalisation matches Mastodon's byte for byte, with our bundled contexts."""
    assert verify_ld_signature(doc, mastodon_key)
    assert ld_signature_creator(doc) == "https://mastodon.social/users/grishka#main-key"


def test_tampered_mastodon_activity_fails(mastodon_key: RSAPublicKey) -> None:
    tampered = copy.deepcopy(MASTODON_SIGNED_CREATE)
    tampered["object"]["content"] = "<p>Something else entirely.</p>"
    assert not verify_ld_signature(tampered, mastodon_key)


def test_sign_then_verify(private_key: RSAPrivateKey) -> None:
    """Our signatures verify, also after a JSON round trip, and carry Mastodon's fields."""
    created = datetime(2024, 5, 1, 10, tzinfo=UTC)
    signed = sign_ld_signature(
        OUR_NOTE, private_key, "https://c.example/users/alice#main-key", created=created
    )
    assert set(signed["signature"]) == {"type", "creator", "created", "signatureValue"}
    assert signed["signature"]["created"] == "2024-05-01T10:00:00Z"
    assert "signature" not in OUR_NOTE
    assert verify_ld_signature(json.loads(json.dumps(signed)), private_key.public_key())


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["object"].update(content="<p>Changed</p>"),
        lambda d: d.update(actor="https://evil.example/users/mallory"),
        lambda d: d["signature"].update(creator="https://evil.example/users/mallory#main-key"),
        lambda d: d["signature"].update(created="2030-01-01T00:00:00Z"),
        lambda d: d["signature"].update(signatureValue="AAAA"),
        lambda d: d["signature"].update(signatureValue="***not base64***"),
    ],
    ids=["content", "actor", "creator", "created", "value", "garbage"],
)
def test_tampering_fails(tamper: Any, private_key: RSAPrivateKey) -> None:
    """A change to the document or the signature options breaks the signature."""
    signed = sign_ld_signature(OUR_NOTE, private_key, "https://c.example/users/alice#main-key")
    tamper(signed)
    assert not verify_ld_signature(signed, private_key.public_key())


def test_meaningless_change_still_verifies(private_key: RSAPrivateKey) -> None:
    """URDNA2015 ignores key order and undefined terms, as Mastodon's does."""
    signed = sign_ld_signature(OUR_NOTE, private_key, "https://c.example/users/alice#main-key")
    reordered = dict(reversed(list(signed.items())))
    reordered["notInAnyContext"] = "ignored by canonicalisation"
    assert verify_ld_signature(reordered, private_key.public_key())


def test_wrong_key_fails(private_key: RSAPrivateKey, mastodon_key: RSAPublicKey) -> None:
    signed = sign_ld_signature(OUR_NOTE, private_key, "https://c.example/users/alice#main-key")
    assert not verify_ld_signature(signed, mastodon_key)


@pytest.mark.parametrize(
    "doc",
    [
        {**OUR_NOTE},
        {**OUR_NOTE, "signature": "abc"},
        {**OUR_NOTE, "signature": {"type": "Ed25519Signature2018", "signatureValue": "abc"}},
        {
            **OUR_NOTE,
            "@context": 5,
            "signature": {"type": "RsaSignature2017", "signatureValue": "abc"},
        },
    ],
    ids=["none", "string", "other-type", "bad-context"],
)
def test_missing_or_foreign_signature_is_false(
    doc: dict[str, Any], private_key: RSAPrivateKey
) -> None:
    """No RsaSignature2017, or a document pyld rejects: False, never an exception."""
    assert not verify_ld_signature(doc, private_key.public_key())
