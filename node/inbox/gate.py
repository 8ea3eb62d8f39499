"""The inbox gate, readable top to bottom. Each step has its own status and reason:

1. size and content type                       → 413 / 415
2. signature present, covering the request     → 401
3. body digest matches                         → 401
4. key resolves; signature verifies (a refetch) → 401
5. JSON and ActivityStreams shape              → 400 / 422
6. the signer is the activity's actor          → 401
7. federation mode and domain blocks           → 403
8. idempotency by activity id                  → 202 (nothing re-applied)
9. side effects in one transaction             → 202

Nothing is stored before step 9, so a refused request leaves no trace.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from federation.errors import SignatureError, ValidationError
from federation.media_types import is_activitypub_content_type
from federation.vocab import parse_activity
from node.appkeys import NODE
from node.inbox.process import process_activity
from node.inbox.registry import InboxRefusal
from node.remote_actors import host_of
from node.signed_requests import authenticate

log = logging.getLogger(__name__)


#: The 202 bodies, encoded once: what ``web.json_response`` would build every time.
_ACCEPTED = {word: json.dumps({"status": word}) for word in ("applied", "duplicate", "ignored")}


def accepted(result: str) -> web.Response:
    text = _ACCEPTED.get(result) or json.dumps({"status": result})
    return web.Response(text=text, status=202, content_type="application/json")


def refuse(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return body


async def inbox_view(request: web.Request) -> web.Response:
    node = request.app[NODE]
    recipient = request.match_info.get("username")
    try:
        body = await read_body(request, node.settings.max_body_bytes)
    except web.HTTPRequestEntityTooLarge:
        return refuse(413, f"body larger than {node.settings.max_body_bytes} bytes")
    if not is_activitypub_content_type(request.headers.get("Content-Type")):
        return refuse(415, "expected an application/activity+json body")
    try:
        signer = await authenticate(node, request, body)
    except SignatureError as exc:
        return refuse(401, exc.reason)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return refuse(400, f"malformed JSON: {exc}")
    try:
        activity = parse_activity(data)
    except ValidationError as exc:
        return refuse(422 if isinstance(data, dict) else 400, exc.reason)
    if activity.actor != signer.uri:
        return refuse(401, f"signed by {signer.uri}, not by the activity's actor {activity.actor}")
    if host_of(activity.id) != host_of(signer.uri):
        return refuse(401, "the activity id is not on its actor's server")
    try:
        result = await process_activity(node, activity, signer, recipient=recipient)
    except InboxRefusal as exc:
        return refuse(exc.status, exc.reason)
    return accepted(result)
