"""The inbox gate, readable top to bottom. Each step has its own status and reason:

1. size and content type                       → 413 / 415
2. federation policy on what the body claims  → 403 (nothing fetched or stored)
2b. signature present, covering the request    → 401
3. body digest matches                         → 401
4. key resolves; signature verifies (a refetch) → 401
5. JSON and ActivityStreams shape              → 400 / 422
5b. per-account / per-domain abuse limits       → 429 + Retry-After
6. the signer is the activity's actor, or it
   forwards it with the actor's FEP-8b32 proof  → 401 (403: unwelcome forwarder)
7. federation mode and domain blocks           → 403
8. idempotency by activity id                  → 202 (nothing re-applied)
9. side effects in one transaction             → 202

Nothing is stored before step 9, so a refused request leaves no trace.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from federation import json_body
from federation.errors import SignatureError, ValidationError
from federation.media_types import is_activitypub_content_type
from federation.vocab import parse_activity
from node.appkeys import NODE
from node.inbox.early_policy import early_refusal
from node.inbox.process import process_activity
from node.inbox.proven_actor import accept_forwarded
from node.inbox.rate_limit import limits_of, too_many
from node.inbox.registry import InboxRefusal
from node.metrics import INBOX_TYPE_KEY
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
    """The whole body, or HTTPRequestEntityTooLarge past ``limit`` bytes. A read returns
    what has arrived so far, so a body that comes in several TCP segments takes several
    (one in the common case: a small activity arrives at once)."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    content = request.content
    body = await content.read(limit + 1)
    while len(body) <= limit and not content.at_eof():
        more = await content.read(limit + 1 - len(body))
        if not more:
            break
        body += more
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
        data = json_body.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        data, malformed = None, f"malformed JSON: {exc}"  # RecursionError: "[[[[..." bomb
    else:
        early = await early_refusal(node, data)
        if early is not None:
            return refuse(403, early)
    try:
        signer = await authenticate(node, request, body)
    except SignatureError as exc:
        return refuse(401, exc.reason)
    if data is None:
        return refuse(400, malformed)
    try:
        activity = parse_activity(data)
    except ValidationError as exc:
        return refuse(422 if isinstance(data, dict) else 400, exc.reason)
    request[INBOX_TYPE_KEY] = activity.type  # the metrics label (node/ops/http.py)
    refusal = limits_of(node).check(signer.uri, host_of(signer.uri), activity)
    if refusal is not None:  # abuse limits (node/inbox/rate_limit.py) → 429 + Retry-After
        return too_many(refusal)
    if activity.actor != signer.uri:
        try:  # forwarded: accepted with a valid proof by its actor (node/inbox/proven_actor.py)
            activity, signer = await accept_forwarded(node, data, activity, signer)
        except InboxRefusal as exc:
            return refuse(exc.status, exc.reason)
    if host_of(activity.id) != host_of(signer.uri):
        return refuse(401, "the activity id is not on its actor's server")
    try:
        result = await process_activity(node, activity, signer, recipient=recipient)
    except InboxRefusal as exc:
        return refuse(exc.status, exc.reason)
    return accepted(result)
