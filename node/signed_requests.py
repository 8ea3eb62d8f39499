"""Who signed an incoming request: the signature, digest and key steps shared by the
inbox gate and by authorised fetch on GET paths."""

from __future__ import annotations

from aiohttp import web

from federation.errors import FetchError, SignatureError, ValidationError
from federation.signatures import parse_request_signature
from federation.signatures.digest import verify_body_digest
from node.context import Node
from node.db.models import Actor
from node.remote_actors import cached_key_owner, fetch_key_owner, store_actor_document


async def authenticate(node: Node, request: web.Request, body: bytes) -> Actor:
    """Steps 2 to 4: the actor whose key signed this request, or SignatureError.

    The cached key is tried first; on failure the key is fetched again once (the peer
    may have rotated it). A fetched actor is stored only after its signature verified.
    """
    url = node.settings.base_url + request.path_qs
    signature = parse_request_signature(request.method, url, request.headers)
    if body:
        if verify_body_digest(request.headers, body) is None:
            raise SignatureError("a Digest or Content-Digest header is required")
        if not signature.covers_body_digest:
            raise SignatureError("the signature does not cover the body digest")
    cached = await cached_key_owner(node, signature.key_id)
    if cached is not None and signature.verify(node.public_key(cached.public_key_pem)):
        return cached
    if cached is not None and cached.local:
        raise SignatureError("signature does not verify")
    try:
        doc, pem = await fetch_key_owner(node, signature.key_id)
    except (FetchError, ValidationError) as exc:
        raise SignatureError(f"key {signature.key_id} does not resolve: {exc.reason}") from exc
    if not signature.verify(node.public_key(pem)):
        raise SignatureError("signature does not verify")
    return await store_actor_document(node, doc)
