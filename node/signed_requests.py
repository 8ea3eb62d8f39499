"""Who signed an incoming request: the signature, digest and key steps shared by the
inbox gate and by authorised fetch on GET paths."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from federation.errors import FetchError, SignatureError, ValidationError
from federation.signatures import RequestSignature, parse_request_signature
from federation.signatures.digest import verify_body_digest
from node.context import Node
from node.db.models import Actor
from node.key_owners import KeyFetch
from node.remote_actors import cached_key_owner, fetch_key_owner, store_actor_document

#: A fetched key serves the requests arriving this long after the fetch began; later
#: ones fetch again (a key may rotate; a forged signature must not pin an old copy).
FETCH_REUSE_SECONDS = 10.0


async def authenticate(node: Node, request: web.Request, body: bytes) -> Actor:
    """Steps 2 to 4: the actor whose key signed this request, or SignatureError.

    The key's owner is looked up in memory first (``node.key_owners``), then in the
    actors table; when the signature does not verify with what was found, the key is
    fetched again once (the peer may have rotated it). A fetched actor is stored only
    after a signature verified with its key.
    """
    url = node.urls.base + request.path_qs  # settings.base_url re-derives the scheme per call
    signature = parse_request_signature(request.method, url, request.headers)
    if body:
        if verify_body_digest(request.headers, body) is None:
            raise SignatureError("a Digest or Content-Digest header is required")
        if not signature.covers_body_digest:
            raise SignatureError("the signature does not cover the body digest")
    key_id = signature.key_id
    remembered = node.key_owners.get(key_id)
    if remembered is not None:
        if signature.verify(remembered.key):
            return remembered.actor
        # Perhaps rotated: another process may have stored the new key already.
        node.key_owners.forget(key_id)
    stored = await _stored_owner(node, signature)
    if stored is not None:
        return stored
    return await _fetched_owner(node, signature)


async def _fetched_owner(node: Node, signature: RequestSignature) -> Actor:
    """Fetch the key (once for all the requests waiting for it), verify, store."""
    key_id = signature.key_id
    remembered = node.key_owners.get(key_id)  # stored by a fetch that ended meanwhile
    if remembered is not None and signature.verify(remembered.key):
        return remembered.actor
    flight = node.key_owners.fetching.get(key_id)
    if flight is None or time.monotonic() - flight.started > FETCH_REUSE_SECONDS:
        flight = KeyFetch(asyncio.ensure_future(fetch_key_owner(node, key_id)))
        node.key_owners.fetching[key_id] = flight
    try:
        # Shielded: one waiter giving up (its client went away) cancels no one else's.
        doc, pem = await asyncio.shield(flight.task)
    except (FetchError, ValidationError) as exc:
        _land(node, key_id, flight)
        raise SignatureError(f"key {key_id} does not resolve: {exc.reason}") from exc
    except Exception:
        _land(node, key_id, flight)
        raise
    key = node.public_key(pem)
    if not signature.verify(key):
        _land(node, key_id, flight)  # the next request fetches afresh
        raise SignatureError("signature does not verify")
    async with flight.lock:
        if flight.actor is None:
            flight.actor = await store_actor_document(node, doc)
            node.key_owners.remember(key_id, flight.actor, key)
            _land(node, key_id, flight)
    return flight.actor


def _land(node: Node, key_id: str, flight: KeyFetch) -> None:
    """Later requests start their own fetch; those already waiting keep this one."""
    if node.key_owners.fetching.get(key_id) is flight:
        del node.key_owners.fetching[key_id]


async def _stored_owner(node: Node, signature: RequestSignature) -> Actor | None:
    """The owner from the actors table when its key verifies; SignatureError for a local
    key that does not (ours are never refetched); None to fetch the key."""
    actor = await cached_key_owner(node, signature.key_id)
    if actor is None:
        return None
    key = node.public_key(actor.public_key_pem)
    if signature.verify(key):
        node.key_owners.remember(signature.key_id, actor, key)
        return actor
    if actor.local:
        raise SignatureError("signature does not verify")
    return None
