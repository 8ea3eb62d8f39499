"""Content negotiation and signed-GET identification for ActivityPub read paths."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from federation.errors import FetchError, SignatureError, ValidationError
from federation.media_types import ACTIVITY_JSON, wants_activitypub
from node.appkeys import NODE
from node.db.models import Actor
from node.signed_requests import authenticate


def wants_json(request: web.Request) -> bool:
    return wants_activitypub(request.headers.get("Accept"))


def activity_response(doc: dict[str, Any], *, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(doc, separators=(",", ":")).encode(),
        status=status,
        content_type=ACTIVITY_JSON,
        headers={"Vary": "Accept, Signature", "Cache-Control": "max-age=60"},
    )


def not_found() -> web.Response:
    return web.json_response({"error": "not found"}, status=404)


#: The verified signer of a GET, once found: the fetch policy and the view both ask.
REQUESTER = web.RequestKey("cercle_signed_requester", object)


async def signed_requester(request: web.Request) -> Actor | None:
    """The actor that signed this GET, or None (unsigned or unverifiable): callers then
    treat the request as anonymous, so non-public objects answer 404."""
    if REQUESTER in request:
        found = request[REQUESTER]
        return found if isinstance(found, Actor) else None
    actor: Actor | None = None
    if "Signature" in request.headers or "Signature-Input" in request.headers:
        try:
            actor = await authenticate(request.app[NODE], request, b"")
        except (SignatureError, FetchError, ValidationError):
            actor = None
    request[REQUESTER] = actor
    return actor
