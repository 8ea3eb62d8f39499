"""A minimal remote ActivityPub server on loopback, for tests that must control what a
peer sends (payload shapes from other software, bad signatures). Our own nodes are
never faked: this stands in only for third-party servers."""

from __future__ import annotations

import json
import socket
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web

from federation.signatures import sign_request
from federation.signatures.keys import (
    ed25519_to_multibase,
    generate_ed25519_key,
    generate_rsa_key,
    public_key_to_pem,
)
from tests.harness import bind_loopback

AS2 = "https://www.w3.org/ns/activitystreams"


class FakePeer:
    """Serves actor documents (with real keys) and signs what tests send from them."""

    def __init__(self) -> None:
        self.key = generate_rsa_key()
        self.ed_key = generate_ed25519_key()
        self.sock: socket.socket = bind_loopback()
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.documents: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self.inbox_status = 202
        self.runner: web.AppRunner | None = None

    def actor_uri(self, username: str = "alice") -> str:
        return f"{self.base}/users/{username}"

    def add_actor(self, username: str = "alice", doc: dict[str, Any] | None = None) -> str:
        uri = self.actor_uri(username)
        self.documents[f"/users/{username}"] = doc or {
            "@context": [AS2, "https://w3id.org/security/v1"],
            "id": uri,
            "type": "Person",
            "preferredUsername": username,
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "following": f"{uri}/following",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {
                "id": f"{uri}#main-key",
                "owner": uri,
                "publicKeyPem": self.public_pem,
            },
        }
        return uri

    @property
    def public_pem(self) -> str:
        return public_key_to_pem(self.key.public_key())

    @property
    def public_multibase(self) -> str:
        return ed25519_to_multibase(self.ed_key.public_key())

    async def start(self) -> FakePeer:
        app = web.Application()
        app.router.add_get("/{path:.*}", self._get)
        app.router.add_post("/{path:.*}", self._post)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _get(self, request: web.Request) -> web.Response:
        doc = self.documents.get(request.path)
        if doc is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.Response(text=json.dumps(doc), content_type="application/activity+json")

    async def _post(self, request: web.Request) -> web.Response:
        self.received.append(json.loads(await request.read()))
        return web.Response(status=self.inbox_status)

    def signed(
        self,
        url: str,
        body: bytes,
        *,
        key_id: str | None = None,
        scheme: str = "cavage",
        private_key: Any = None,
        now: datetime | None = None,
    ) -> dict[str, str]:
        return sign_request(
            scheme,  # type: ignore[arg-type]
            method="POST",
            url=url,
            headers={"Content-Type": "application/activity+json"},
            body=body,
            key_id=key_id or f"{self.actor_uri()}#main-key",
            private_key=private_key or self.key,
            now=now,
        )

    async def post(
        self, url: str, activity: dict[str, Any] | bytes, **sign_options: Any
    ) -> tuple[int, dict[str, Any]]:
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        headers = self.signed(url, body, **sign_options)
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            try:
                payload = await response.json(content_type=None)
            except (json.JSONDecodeError, aiohttp.ContentTypeError):
                payload = {}
            return response.status, payload
