"""FEP-8b32 integrity proofs on our outgoing posts, and the actor keys that check them.

A proof lets a post be trusted whoever delivers it. Cercle needs that for threads that
stay in their audience (docs/federation.md): a reply to a circle or partners post goes to
the original author's node only, which forwards it to the rest of the audience; those
readers cannot fetch the reply from the replier's node (it does not know them), so the
reply must carry its author's signature itself.

Which Creates carry a proof: those of every audience but public and unlisted. Anybody
may refetch an open post from its origin, so a forwarder never needs a proof for one, and
leaving them as they were keeps the bulk of our traffic (public posts to Mastodon) and the
public fan-out cost unchanged. Restricted posts are few and are signed once per post, not
per recipient. Peers that do not know FEP-8b32 (Mastodon, GoToSocial) ignore ``proof``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag

from federation.errors import ValidationError
from federation.integrity import create_proof
from federation.jsonld import AS_URL, DATA_INTEGRITY_V1_URL, MASTODON_TERMS, SECURITY_V1_URL
from federation.signatures.keys import load_private_key_pem
from federation.vocab import parse_actor
from node import audience as aud
from node.db.models import Actor

if TYPE_CHECKING:  # imported where used: an idle node signs nothing
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

#: The @context of a signed activity: ours, plus the terms of the proof (FEP-8b32).
SIGNED_CONTEXT: tuple[Any, ...] = (AS_URL, SECURITY_V1_URL, DATA_INTEGRITY_V1_URL, MASTODON_TERMS)


def verification_method(actor_uri: str) -> str:
    """The id of a local actor's Multikey, as node/ap/documents.py publishes it."""
    return f"{actor_uri}#ed25519-key"


def wants_proof(audience: str) -> bool:
    return audience not in aud.OPEN_AUDIENCES


@functools.lru_cache(maxsize=1024)
def _private_key(pem: str) -> Ed25519PrivateKey:
    """Parsed once per key (bounded; a pure function of the PEM): parsing costs more than
    signing, as ``Node.signer`` notes for the RSA keys."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = load_private_key_pem(pem)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def with_proof(activity: dict[str, Any], author: Actor) -> dict[str, Any]:
    """``activity`` with its author's eddsa-jcs-2022 proof; unchanged for an actor without
    an Ed25519 key (none of ours: every local actor gets one at creation)."""
    if not author.ed25519_private_pem:
        return activity
    signed = {**activity, "@context": list(SIGNED_CONTEXT)}
    return create_proof(
        signed, _private_key(author.ed25519_private_pem), verification_method(author.uri)
    )


def signed_for_audience(activity: dict[str, Any], author: Actor, audience: str) -> dict[str, Any]:
    return with_proof(activity, author) if wants_proof(audience) else activity


def assertion_key(actor: Actor, method: str) -> str | None:
    """The ``publicKeyMultibase`` of ``actor``'s assertion method ``method``, or None when
    ``method`` is not one of the actor's own keys (a proof by somebody else's key proves
    nothing about the actor)."""
    if urldefrag(method).url != actor.uri:
        return None
    if actor.local:
        ours = verification_method(actor.uri)
        return actor.ed25519_public_multibase if method == ours else None
    try:
        doc = parse_actor(actor.raw or {})
    except ValidationError:
        return None
    key = doc.multikey(method)
    if key is None or key.controller != actor.uri:
        return None
    return key.public_key_multibase
