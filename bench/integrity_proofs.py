"""What a FEP-8b32 proof costs: signing a restricted post's Create, checking a forwarded one.

Every post that is neither public nor unlisted is signed once when it is made
(node/integrity_keys.py), and a forwarded reply is checked once by each node receiving it
(node/inbox/proven_actor.py). The figures are calls per CPU-second on a Create the size
of a short circle reply with our full ``@context``; key parsing is shown apart, since the
parsed key is cached.

Run alone: ``.venv/bin/python -m bench.integrity_proofs``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bench.crypto_rates import rate
from federation.integrity import verify_proof
from federation.signatures.keys import load_private_key_pem
from node.ap.documents import create_activity
from node.db.models import Actor, Post
from node.integrity_keys import with_proof
from node.keys import new_actor_keys

SECONDS = 3.0


def _author() -> Actor:
    keys = new_actor_keys()
    return Actor(
        uri="https://a.example/users/alice",
        local=True,
        username="alice",
        ed25519_public_multibase=keys.ed25519_public_multibase,
        ed25519_private_pem=keys.ed25519_private_pem,
    )


def _create(author: Actor) -> dict[str, object]:
    bob = "https://b.example/users/bob"
    post = Post(
        id=1,
        uri=f"{author.uri}/statuses/1",
        url="https://a.example/@alice/1",
        type="Note",
        content="<p>Count me in for Thursday, <span>@bob</span>: I will bring the figures.</p>",
        summary="",
        sensitive=False,
        published=datetime(2026, 11, 28, tzinfo=UTC),
        in_reply_to_uri="https://b.example/users/bob/statuses/9",
        to=[bob],
        cc=[],
        tags=[{"type": "Mention", "href": bob, "name": "@bob@b.example"}],
        attachments=[],
        place=None,
    )
    return create_activity(post, author)


def main() -> None:
    author = _author()
    activity = _create(author)
    signed = with_proof(activity, author)
    public = author.ed25519_public_multibase or ""
    pem = author.ed25519_private_pem or ""
    sign = rate(lambda: with_proof(activity, author), SECONDS)
    verify = rate(lambda: verify_proof(signed, public), SECONDS)
    parse = rate(lambda: load_private_key_pem(pem), SECONDS)
    print(f"sign a Create (with_proof, key cached): {sign:,.0f} /CPU-s")
    print(f"verify a forwarded Create (verify_proof): {verify:,.0f} /CPU-s")
    print(f"parse the Ed25519 PEM (what the cache saves): {parse:,.0f} /CPU-s")


if __name__ == "__main__":
    main()
