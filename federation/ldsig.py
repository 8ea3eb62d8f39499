"""Linked Data Signatures (``RsaSignature2017``) as Mastodon makes and checks them.

Mastodon signs public activities it sends so that a server forwarding them (a reply's
audience, a relay) can pass them on verifiably. The scheme, from Mastodon's
``app/lib/activitypub/linked_data_signature.rb``:

- options = the ``signature`` object without ``type``, ``id`` and ``signatureValue``, with
  ``@context`` set to ``https://w3id.org/identity/v1``;
- to-be-signed = hex(SHA-256(URDNA2015(options))) + hex(SHA-256(URDNA2015(document without
  ``signature``))), as ASCII;
- ``signatureValue`` = base64(RSA PKCS#1 v1.5 SHA-256 signature of to-be-signed).

Canonicalisation runs pyld through the offline loader (:func:`federation.jsonld.canonize`),
so the contexts are ours and nothing is fetched. This is slow (milliseconds per document);
use it only for forwarded activities, never for every inbox POST.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from federation.errors import ValidationError
from federation.jsonld import IDENTITY_V1_URL, canonize

log = logging.getLogger(__name__)

SIGNATURE_TYPE: Final = "RsaSignature2017"


def _hex_digest(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonize(document).encode("utf-8")).hexdigest()


def _to_be_signed(doc: Mapping[str, Any], signature: Mapping[str, Any]) -> bytes:
    options = {k: v for k, v in signature.items() if k not in ("type", "id", "signatureValue")}
    options["@context"] = IDENTITY_V1_URL
    document = {key: value for key, value in doc.items() if key != "signature"}
    return (_hex_digest(options) + _hex_digest(document)).encode("ascii")


def ld_signature_creator(doc: Mapping[str, Any]) -> str | None:
    """The key id (``creator``) of ``doc``'s RsaSignature2017, or None if it has none."""
    signature = doc.get("signature")
    if not isinstance(signature, Mapping) or signature.get("type") != SIGNATURE_TYPE:
        return None
    creator = signature.get("creator")
    return creator if isinstance(creator, str) and creator else None


def sign_ld_signature(
    doc: Mapping[str, Any],
    private_key: RSAPrivateKey,
    creator: str,
    *,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Return a copy of ``doc`` with an RsaSignature2017 ``signature``.

    ``creator`` is the signing key's id (``https://host/users/alice#main-key``). Any existing
    signature is replaced. Raises ValidationError if the document cannot be canonicalised.
    """
    moment = (created or datetime.now(UTC)).astimezone(UTC)
    signature: dict[str, Any] = {
        "type": SIGNATURE_TYPE,
        "creator": creator,
        "created": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    data = _to_be_signed(doc, signature)
    value = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    signature["signatureValue"] = base64.b64encode(value).decode("ascii")
    unsigned = {key: item for key, item in doc.items() if key != "signature"}
    return {**unsigned, "signature": signature}


def verify_ld_signature(doc: Mapping[str, Any], public_key: RSAPublicKey) -> bool:
    """True when ``doc`` carries an RsaSignature2017 that verifies with ``public_key``.

    The caller must also check that the key belongs to the activity's actor (fetch the key
    named by :func:`ld_signature_creator`). Never raises on bad input: a document pyld
    cannot canonicalise, or a malformed signature, simply does not verify.
    """
    signature = doc.get("signature")
    if not isinstance(signature, Mapping) or signature.get("type") != SIGNATURE_TYPE:
        return False
    encoded = signature.get("signatureValue")
    if not isinstance(encoded, str):
        return False
    try:
        value = base64.b64decode(encoded, validate=False)
        data = _to_be_signed(doc, signature)
        public_key.verify(value, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValidationError, binascii.Error, ValueError, TypeError) as error:
        log.debug("LD signature rejected: %s", error)
        return False
    return True
