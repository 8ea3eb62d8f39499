"""Key material for local actors: RSA-2048 for HTTP signatures (Mastodon compatibility)
and Ed25519 for object integrity proofs (FEP-521a / FEP-8b32)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from federation.fetch import Signer
from federation.signatures.keys import (
    ed25519_to_multibase,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    private_key_to_pem,
    public_key_to_pem,
)
from node.db.models import Actor


@dataclass(frozen=True)
class ActorKeys:
    public_key_pem: str
    private_key_pem: str
    ed25519_public_multibase: str
    ed25519_private_pem: str


def new_actor_keys() -> ActorKeys:
    rsa_key = generate_rsa_key()
    ed_key = generate_ed25519_key()
    return ActorKeys(
        public_key_pem=public_key_to_pem(rsa_key.public_key()),
        private_key_pem=private_key_to_pem(rsa_key),
        ed25519_public_multibase=ed25519_to_multibase(ed_key.public_key()),
        ed25519_private_pem=private_key_to_pem(ed_key),
    )


class PemSigner(Signer):
    """A :class:`Signer` that parses its PEM at its first signature, then keeps the key.

    A serving node builds the Application actor's signer at start-up, for key fetches it may
    never make; parsing there would import ``cryptography`` (≈ 7 MB) into every idle node.
    """

    def __init__(self, key_id: str, pem: str) -> None:
        object.__setattr__(self, "key_id", key_id)
        object.__setattr__(self, "_pem", pem)
        object.__setattr__(self, "_key", None)

    @property
    def private_key(self) -> Any:  # type: ignore[override]
        if self._key is None:
            object.__setattr__(self, "_key", load_private_key_pem(self._pem))
        return self._key


def signer_for(actor: Actor) -> Signer:
    """The HTTP-signature signer of a local actor."""
    if not actor.private_key_pem:
        raise ValueError(f"{actor.uri} is not a local actor: it has no private key")
    return PemSigner(actor.public_key_id, actor.private_key_pem)
