"""A fake remote server for the ingest benchmark: one actor, its key, its signed Creates.

Only the sender is fake; everything it sends is what a Mastodon-shaped server sends (a
public Create(Note) mentioning a local account, draft-cavage signed over ``(request-target)
host date digest content-type``), so the node under test runs its real inbox path.
The peer serves its actor document over loopback because the node fetches the key once,
with a signed GET, exactly as it would from a real peer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from federation.signatures import generate_rsa_key, public_key_to_pem, sign_request

AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AP_CONTENT_TYPE = "application/activity+json"
# Part of Mastodon's real context, so parsing sees a realistic compacted document.
CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "votersCount": "toot:votersCount",
    },
]


@dataclass
class FakePeer:
    """One remote actor at ``http://127.0.0.1:<port>/users/<username>``."""

    port: int
    username: str = "remote"
    key: rsa.RSAPrivateKey | None = None

    def __post_init__(self) -> None:
        if self.key is None:
            self.key = generate_rsa_key()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def actor_uri(self) -> str:
        return f"{self.base_url}/users/{self.username}"

    @property
    def key_id(self) -> str:
        return f"{self.actor_uri}#main-key"

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        assert self.key is not None
        return self.key

    def public_key_pem(self) -> str:
        return public_key_to_pem(self.private_key)

    def actor_document(self) -> dict[str, Any]:
        uri = self.actor_uri
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": uri,
            "type": "Person",
            "preferredUsername": self.username,
            "name": "Remote Bench",
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers",
            "following": f"{uri}/following",
            "url": f"{self.base_url}/@{self.username}",
            "manuallyApprovesFollowers": False,
            "endpoints": {"sharedInbox": f"{self.base_url}/inbox"},
            "publicKey": {"id": self.key_id, "owner": uri, "publicKeyPem": self.public_key_pem()},
        }

    def create_note(
        self, serial: str, mention_uri: str, mention_name: str, published: datetime
    ) -> dict[str, Any]:
        """A public Create(Note) mentioning a local account, as Mastodon shapes it.

        ``published`` has Mastodon's one-second precision; give each note its own second,
        as a real server's posts have (the node derives post ids from it).
        """
        uri = self.actor_uri
        note_id = f"{uri}/statuses/{serial}"
        to = [AS_PUBLIC]
        cc = [f"{uri}/followers", mention_uri]
        published_text = published.strftime("%Y-%m-%dT%H:%M:%SZ")
        content = (
            f'<p><span class="h-card" translate="no"><a href="{mention_uri}" '
            f'class="u-url mention">@<span>{mention_name}</span></a></span> '
            f"benchmark note {serial}: the harbour at dusk, boats coming in one by one.</p>"
        )
        return {
            "@context": CONTEXT,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": uri,
            "published": published_text,
            "to": to,
            "cc": cc,
            "object": {
                "id": note_id,
                "type": "Note",
                "summary": None,
                "inReplyTo": None,
                "published": published_text,
                "url": f"{self.base_url}/@{self.username}/{serial}",
                "attributedTo": uri,
                "to": to,
                "cc": cc,
                "sensitive": False,
                "atomUri": note_id,
                "conversation": f"tag:127.0.0.1,2026-01-15:objectId={serial}",
                "content": content,
                "contentMap": {"en": content},
                "attachment": [],
                "tag": [{"type": "Mention", "href": mention_uri, "name": f"@{mention_name}"}],
                "replies": None,
            },
        }

    def signed_post(self, url: str, activity: dict[str, Any]) -> bytes:
        """The complete HTTP/1.1 request, signed now: what goes on the wire, byte for byte.

        Pre-building the bytes keeps the sender's cost per request tiny, so the rate the
        benchmark reports is the server's and not the load generator's.
        """
        body = json.dumps(activity, separators=(",", ":")).encode("utf-8")
        headers = sign_request(
            "cavage",
            method="POST",
            url=url,
            headers={"Content-Type": AP_CONTENT_TYPE},
            body=body,
            key_id=self.key_id,
            private_key=self.private_key,
        )
        headers["Accept"] = "application/json"
        headers["Content-Length"] = str(len(body))
        path = url.split("/", 3)[3]
        head = f"POST /{path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode("latin-1") + b"\r\n" + body

    def app(self) -> web.Application:
        """The peer's web side: only its actor document (and the key id URL, same doc)."""
        document = json.dumps(self.actor_document())

        async def actor(_request: web.Request) -> web.Response:
            return web.Response(text=document, content_type=AP_CONTENT_TYPE)

        app = web.Application()
        app.router.add_get(f"/users/{self.username}", actor)
        return app
