"""Mastodon's streaming API: live timelines and notifications over WebSocket and SSE.

``GET /api/v1/streaming`` upgrades to a WebSocket (one connection, any number of
streams, ``{"type": "subscribe", "stream": ...}`` messages); ``/api/v1/streaming/<name>``
serves one stream as server-sent events. Both carry Mastodon's events — ``update``,
``status.update``, ``notification`` (payload: the entity as a JSON string) and
``delete`` (payload: the id).

Services publish ids on ``node.events``; each subscriber renders what it receives for
itself, because a status looks different to each viewer and, above all, not every
viewer may see it: ``viewer_can_see`` is asked again for every event.

Every connection is registered so that shutdown can end it at once; none outlives the
application, and none leaves a task behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from node.api.auth import Auth, bearer_token, require_auth
from node.api.errors import ApiError, forbidden, not_found, unauthorized
from node.api.mastodon.render import Renderer
from node.api.middleware import CORS_HEADERS
from node.api.routing import Handler, route
from node.api.scopes import grants
from node.appkeys import NODE
from node.context import Node
from node.db.models import Actor, Block, Mute, Notification, OAuthToken, Post, UserList
from node.db.types import utcnow
from node.events import Event
from node.posts import viewer_can_see
from node.stream_tickets import TICKET_SCOPES, is_ticket, redeem_ticket

log = logging.getLogger(__name__)

#: SSE comment lines and WebSocket pings this often keep proxies from closing idle streams.
HEARTBEAT_SECONDS = 15.0
#: Rendered events waiting for a slow client; past this the bus drops the oldest.
OUTBOX_LIMIT = 100
SHUTDOWN_GRACE_SECONDS = 5.0
#: Each subscription is a task and a bus queue; no client needs more than a few.
MAX_SUBSCRIPTIONS = 50

STATUS_EVENTS = frozenset({"update", "status.update", "delete"})
ALL_EVENTS = STATUS_EVENTS | {"notification"}
READ_STATUSES = "read:statuses"
READ_NOTIFICATIONS = "read:notifications"

#: SSE paths and the stream each serves.
SSE_PATHS = {
    "user": "user",
    "user/notification": "user:notification",
    "public": "public",
    "public/local": "public:local",
    "public/remote": "public:remote",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
    "list": "list",
}
STREAMS = frozenset(SSE_PATHS.values())


@dataclass(frozen=True)
class Channel:
    """One subscription: ``name`` as the client sees it in each event's ``stream``
    (``["hashtag", "cats"]``), ``source`` the event-bus stream it listens to."""

    name: tuple[str, ...]
    source: str
    events: frozenset[str]


@dataclass(frozen=True)
class Message:
    stream: tuple[str, ...]
    event: str
    payload: str

    def websocket(self) -> str:
        return json.dumps(
            {"stream": list(self.stream), "event": self.event, "payload": self.payload}
        )

    def sse(self) -> bytes:
        return f"event: {self.event}\ndata: {self.payload}\n\n".encode()


# --- which stream ---------------------------------------------------------------------


def stream_scope(stream: str) -> str:
    return READ_NOTIFICATIONS if stream == "user:notification" else READ_STATUSES


async def resolve_channel(
    node: Node, auth: Auth, stream: str | None, params: Mapping[str, str]
) -> Channel:
    """The channel a client asks for, checked against its token: scopes, a user for the
    personal streams, and ownership of a list (someone else's list is a 404)."""
    if not stream:
        raise ApiError(400, "No stream type provided")
    if stream not in STREAMS:
        raise ApiError(400, f"Unknown stream type {stream}")
    if not grants(auth.scopes, stream_scope(stream)):
        raise forbidden()
    me = auth.actor
    if stream in ("user", "user:notification", "list") and me is None:
        raise ApiError(401, "This stream requires an authenticated user")
    if stream == "user":
        assert me is not None
        return Channel(("user",), f"user:{me.id}", ALL_EVENTS)
    if stream == "user:notification":
        assert me is not None
        return Channel(("user:notification",), f"user:{me.id}", frozenset({"notification"}))
    if stream.startswith("public"):
        return Channel((stream,), stream, STATUS_EVENTS)
    if stream.startswith("hashtag"):
        tag = (params.get("tag") or "").strip().lstrip("#")
        if not tag:
            raise ApiError(400, "No tag for stream provided")
        source = (
            f"hashtag:local:{tag.lower()}"
            if stream == "hashtag:local"
            else f"hashtag:{tag.lower()}"
        )
        return Channel((stream, tag), source, STATUS_EVENTS)
    assert me is not None
    raw_id = params.get("list") or ""
    if not raw_id.isdigit() or len(raw_id) > 19:
        raise ApiError(400, "No list for stream provided")
    async with node.reads() as db:
        owner = await db.scalar(select(UserList.owner_id).where(UserList.id == int(raw_id)))
    if owner != me.id:
        raise not_found()
    return Channel(("list", raw_id), f"list:{raw_id}", STATUS_EVENTS)


# --- rendering an event for one subscriber ------------------------------------------


async def _hidden(db: AsyncSession, viewer: Actor, author_ids: set[int]) -> bool:
    """Blocked (either way) and muted accounts stay out of live streams as out of timelines."""
    blocked = await db.scalar(
        select(Block.id)
        .where(
            or_(
                (Block.blocker_id == viewer.id) & Block.blocked_id.in_(author_ids),
                Block.blocker_id.in_(author_ids) & (Block.blocked_id == viewer.id),
            )
        )
        .limit(1)
    )
    if blocked is not None:
        return True
    muted = await db.scalar(
        select(Mute.id)
        .where(
            Mute.actor_id == viewer.id,
            Mute.target_id.in_(author_ids),
            or_(Mute.expires_at.is_(None), Mute.expires_at > utcnow()),
        )
        .limit(1)
    )
    return muted is not None


async def render_event(node: Node, viewer: Actor | None, event: Event) -> tuple[str, str] | None:
    """``(event, payload)`` for this viewer, or None when the viewer must not see it."""
    if event.kind == "delete":
        return "delete", str(event.object_id)
    async with node.reads() as db:
        if event.kind == "notification":
            row = await db.get(Notification, event.object_id)
            if row is None or viewer is None or row.owner_id != viewer.id:
                return None
            (entity,) = await Renderer(node, db, viewer).notifications([row])
            return "notification", json.dumps(entity)
        post = await db.get(Post, event.object_id)
        if post is None or post.deleted_at is not None:
            return None
        if not await viewer_can_see(db, viewer, post):
            return None
        if viewer is not None:
            authors = {post.actor_id}
            if post.reblog_of_id is not None:
                original = await db.get(Post, post.reblog_of_id)
                if original is not None:
                    authors.add(original.actor_id)
            authors.discard(viewer.id)
            if authors and await _hidden(db, viewer, authors):
                return None
        entity = await Renderer(node, db, viewer).status(post)
        return event.kind, json.dumps(entity)


# --- one client connection ------------------------------------------------------------


@dataclass(eq=False)
class Connection:
    """A client's subscriptions, each pumping rendered events into one outbox that the
    transport (WebSocket or SSE) drains. ``None`` in the outbox means: close."""

    node: Node
    viewer: Actor | None
    outbox: asyncio.Queue[Message | None] = field(
        default_factory=lambda: asyncio.Queue(OUTBOX_LIMIT)
    )
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    _pumps: dict[tuple[str, ...], tuple[asyncio.Task[None], AsyncExitStack]] = field(
        default_factory=dict
    )

    async def subscribe(self, channel: Channel) -> None:
        """Registered on the bus before this returns: an event published right after the
        client's handshake (or subscribe message) is not missed."""
        if channel.name in self._pumps:
            return
        stack = AsyncExitStack()
        queue = await stack.enter_async_context(self.node.events.subscribe([channel.source]))
        task = asyncio.create_task(self._pump(channel, queue), name=f"stream {channel.source}")
        self._pumps[channel.name] = (task, stack)

    @property
    def subscription_count(self) -> int:
        return len(self._pumps)

    async def unsubscribe(self, name: tuple[str, ...]) -> None:
        entry = self._pumps.pop(name, None)
        if entry is not None:
            await self._stop_pump(*entry)

    @staticmethod
    async def _stop_pump(task: asyncio.Task[None], stack: AsyncExitStack) -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await stack.aclose()

    async def _pump(self, channel: Channel, queue: asyncio.Queue[Event]) -> None:
        while True:
            event = await queue.get()
            if event.kind not in channel.events:
                continue
            try:
                rendered = await render_event(self.node, self.viewer, event)
            except Exception:
                # One event that fails to render must not end the client's stream.
                log.exception("cannot render %s %s for streaming", event.kind, event.object_id)
                continue
            if rendered is not None:
                await self.outbox.put(Message(channel.name, *rendered))

    def stop(self) -> None:
        """Ask the transport loop to end (from shutdown, not from the loop itself)."""
        while True:
            try:
                self.outbox.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.outbox.get_nowait()

    async def close(self) -> None:
        for name in list(self._pumps):
            await self.unsubscribe(name)
        self.finished.set()


class Registry:
    """The open connections of one application, ended together at shutdown."""

    def __init__(self) -> None:
        self.connections: set[Connection] = set()
        self.sockets: set[web.WebSocketResponse] = set()

    async def shutdown(self, _app: web.Application) -> None:
        for connection in list(self.connections):
            connection.stop()
        for socket in list(self.sockets):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
        waiting = [c.finished.wait() for c in list(self.connections)]
        if waiting:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waiting), SHUTDOWN_GRACE_SECONDS)


REGISTRY = web.AppKey("streaming_registry", Registry)


# --- authentication -------------------------------------------------------------------


def _protocol_token(request: web.Request) -> str | None:
    """Browsers cannot set headers on a WebSocket, so Mastodon also takes the token as
    the ``Sec-WebSocket-Protocol`` value (and echoes it back, as the protocol requires)."""
    if bearer_token(request):
        return None
    value = request.headers.get("Sec-WebSocket-Protocol", "")
    return value.split(",", 1)[0].strip() or None


async def _ticket_auth(request: web.Request, ticket: str) -> Auth:
    """A web page's streaming ticket (node/stream_tickets.py) in place of an OAuth token:
    the signed-in user, limited to the ticket's read scopes, with no token row behind it."""
    found = await redeem_ticket(request.app[NODE], ticket)
    if found is None:
        raise unauthorized("The streaming ticket is invalid or has expired")
    user, actor = found
    return Auth(
        token=OAuthToken(token_hash="", scopes=TICKET_SCOPES, user_id=user.id),
        app=None,
        user=user,
        actor=actor,
    )


async def _authenticate(request: web.Request, token: str | None, scope: str | None) -> Auth:
    """A token is required for every stream, as in Mastodon 4: 401 without one."""
    ticket = token or bearer_token(request)
    if ticket is not None and is_ticket(ticket):
        auth = await _ticket_auth(request, ticket)
        if scope is not None and not grants(auth.scopes, scope):
            raise forbidden()
        return auth
    if token is not None:
        request = request.clone(headers={**request.headers, "Authorization": f"Bearer {token}"})
    if scope is not None:
        return await require_auth(request, scope, user=False)
    try:
        return await require_auth(request, READ_STATUSES, user=False)
    except ApiError as exc:
        if exc.status != 403:
            raise
        return await require_auth(request, READ_NOTIFICATIONS, user=False)


# --- transports -----------------------------------------------------------------------


def _is_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


async def websocket(request: web.Request) -> web.StreamResponse:
    """One socket, many streams. A bad token is refused before the upgrade (HTTP 401);
    a bad subscription later is answered with Mastodon's ``{"error", "status"}``."""
    if not _is_upgrade(request):
        return await _sse(request, request.query.get("stream"))
    node = request.app[NODE]
    registry = request.app[REGISTRY]
    protocol_token = _protocol_token(request)
    initial = request.query.get("stream")
    auth = await _authenticate(request, protocol_token, stream_scope(initial) if initial else None)
    socket = web.WebSocketResponse(
        heartbeat=HEARTBEAT_SECONDS, protocols=(protocol_token,) if protocol_token else ()
    )
    connection = Connection(node, auth.actor)
    registry.connections.add(connection)
    writer: asyncio.Task[None] | None = None
    try:
        if initial:
            await connection.subscribe(await resolve_channel(node, auth, initial, request.query))
        await socket.prepare(request)
        registry.sockets.add(socket)
        writer = asyncio.create_task(_write_socket(connection, socket))
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                await _on_client_message(node, auth, connection, socket, message.data)
    finally:
        registry.sockets.discard(socket)
        registry.connections.discard(connection)
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        await connection.close()
        if socket.prepared and not socket.closed:
            await socket.close()
    return socket


async def _write_socket(connection: Connection, socket: web.WebSocketResponse) -> None:
    while (message := await connection.outbox.get()) is not None:
        try:
            await socket.send_str(message.websocket())
        except ConnectionError:
            return


async def _on_client_message(
    node: Node, auth: Auth, connection: Connection, socket: web.WebSocketResponse, text: str
) -> None:
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        await socket.send_json({"error": "Invalid JSON", "status": 400})
        return
    if not isinstance(message, dict) or message.get("type") not in ("subscribe", "unsubscribe"):
        await socket.send_json({"error": "Unknown message type", "status": 400})
        return
    params = {k: str(v) for k, v in message.items() if isinstance(v, str | int)}
    try:
        channel = await resolve_channel(node, auth, params.get("stream"), params)
    except ApiError as exc:
        await socket.send_json({"error": exc.message, "status": exc.status})
        return
    if message["type"] == "subscribe":
        if connection.subscription_count >= MAX_SUBSCRIPTIONS:
            await socket.send_json({"error": "Too many subscriptions", "status": 400})
            return
        await connection.subscribe(channel)
    else:
        await connection.unsubscribe(channel.name)


async def _sse(request: web.Request, stream: str | None) -> web.StreamResponse:
    """One stream as ``text/event-stream``; the token comes as ``access_token`` in the
    query (EventSource cannot send headers) or as an Authorization header."""
    node = request.app[NODE]
    registry = request.app[REGISTRY]
    auth = await _authenticate(request, None, stream_scope(stream or ""))
    channel = await resolve_channel(node, auth, stream, request.query)
    response = web.StreamResponse(
        headers={
            **CORS_HEADERS,
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    connection = Connection(node, auth.actor)
    registry.connections.add(connection)
    try:
        await connection.subscribe(channel)
        await response.prepare(request)
        await response.write(b":)\n\n")
        while True:
            try:
                message = await asyncio.wait_for(connection.outbox.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await response.write(b":thump\n\n")
                continue
            if message is None:
                break
            await response.write(message.sse())
    except ConnectionError:
        pass  # the client went away; nothing to tell it
    finally:
        registry.connections.discard(connection)
        await connection.close()
    return response


def _sse_handler(stream: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _sse(request, stream)

    return handler


async def health(_request: web.Request) -> web.Response:
    return web.Response(text="OK")


def setup_routes(app: web.Application) -> None:
    registry = Registry()
    app[REGISTRY] = registry
    app.on_shutdown.append(registry.shutdown)
    route(app, "GET", "/api/v1/streaming/health", health)
    route(app, "GET", "/api/v1/streaming", websocket)
    for path, stream in SSE_PATHS.items():
        route(app, "GET", f"/api/v1/streaming/{path}", _sse_handler(stream))
