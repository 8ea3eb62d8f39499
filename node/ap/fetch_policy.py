"""The federation policy on ActivityPub reads (DESIGN.md section 4).

A blocked domain reads nothing; in ``partners`` and ``closed`` mode only signed requests
from the domains the node talks to read anything but the two node-level actors (``/org``
and ``/actor``: a firm asking for a partnership, and every peer checking our signatures,
must be able to fetch their keys). A refused read answers 404, like a missing object,
so a stranger cannot even tell which accounts exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from federation.errors import SignatureError
from federation.signatures import parse_request_signature
from node.ap.negotiation import not_found, signed_requester, wants_json
from node.appkeys import NODE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Paths of the ActivityPub documents the policy guards.
GUARDED_PREFIXES = ("/users/", "/org/", "/actor/", "/groups/")


def guarded(method: str, path: str) -> bool:
    return method in ("GET", "HEAD") and path.startswith(GUARDED_PREFIXES)


def claimed_domain(request: web.Request) -> str | None:
    """The domain of the key a request says it is signed with, unverified: enough to
    refuse a blocked domain, never to admit anyone."""
    if "Signature" not in request.headers and "Signature-Input" not in request.headers:
        return None
    node = request.app[NODE]
    try:
        signature = parse_request_signature(
            request.method, node.urls.base + request.path_qs, request.headers
        )
    except SignatureError:
        return None
    return urlsplit(signature.key_id).netloc.lower() or None


@web.middleware
async def fetch_policy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not guarded(request.method, request.path) or not wants_json(request):
        return await handler(request)
    node = request.app[NODE]
    policy = node.policy
    claimed = claimed_domain(request)
    if claimed is not None and not await policy.fetch_allowed(node, claimed):
        return not_found()
    if not await policy.fetch_allowed(node, None):
        # Not open: only a verified signer from a domain we talk to reads.
        signer = await signed_requester(request)
        if signer is None or not await policy.fetch_allowed(node, signer.domain):
            return not_found()
    return await handler(request)
