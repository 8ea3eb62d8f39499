"""Who signed an incoming request: the signature, digest and key steps shared by the
inbox gate and by authorised fetch on GET paths."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.errors import FetchError, SignatureError, ValidationError
from federation.signatures import parse_request_signature
from federation.signatures.digest import verify_body_digest
from federation.signatures.keys import load_public_key_pem
from node.context import Node
from node.db.models import Actor
from node.remote_actors import actor_for_key


async def authenticate(node: Node, request: web.Request, body: bytes) -> Actor:
    """Steps 2 to 4: the actor whose key signed this request, or SignatureError."""
    url = node.settings.base_url + request.path_qs
    signature = parse_request_signature(request.method, url, request.headers)
    if verify_body_digest(request.headers, body) is None and body:
        raise SignatureError("a Digest or Content-Digest header is required")
    if not signature.covers_body_digest and body:
        raise SignatureError("the signature does not cover the body digest")
    try:
        actor = await actor_for_key(node, signature.key_id)
    except (FetchError, ValidationError) as exc:
        raise SignatureError(f"key {signature.key_id} does not resolve: {exc.reason}") from exc
    if signature.verify(_public_key(actor)):
        return actor
    # The peer may have rotated its key: fetch it again once.
    try:
        actor = await actor_for_key(node, signature.key_id, refresh=True)
    except (FetchError, ValidationError) as exc:
        raise SignatureError(f"key {signature.key_id} does not resolve: {exc.reason}") from exc
    if signature.verify(_public_key(actor)):
        return actor
    raise SignatureError("signature does not verify")


def _public_key(actor: Actor) -> Any:
    return load_public_key_pem(actor.public_key_pem)
