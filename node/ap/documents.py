"""Outgoing ActivityStreams documents built from stored rows.

The shapes follow what Mastodon emits, since that is what every peer is tested against.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from federation.vocab import AS_CONTEXT, PUBLIC
from node.db.ids import new_id
from node.db.models import Actor, Post
from node.urls import Urls

AS2 = "https://www.w3.org/ns/activitystreams"
ACTOR_CONTEXT: list[Any] = [
    *AS_CONTEXT,
    "https://w3id.org/security/multikey/v1",
    "https://w3id.org/security/data-integrity/v1",
]


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def actor_document(actor: Actor, *, public_members_url: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": actor.uri,
        "type": actor.type,
        "preferredUsername": actor.username,
        "name": actor.display_name or actor.username,
        "summary": actor.summary or "",
        "url": actor.url or actor.uri,
        "inbox": actor.inbox,
        "outbox": actor.outbox,
        "followers": actor.followers_url,
        "following": actor.following_url,
        "endpoints": {"sharedInbox": actor.shared_inbox},
        "manuallyApprovesFollowers": actor.manually_approves,
        "discoverable": actor.discoverable,
        "published": iso(actor.created_at),
        "publicKey": {
            "id": actor.public_key_id,
            "owner": actor.uri,
            "publicKeyPem": actor.public_key_pem,
        },
    }
    if actor.ed25519_public_multibase:
        doc["assertionMethod"] = [
            {
                "id": f"{actor.uri}#ed25519-key",
                "type": "Multikey",
                "controller": actor.uri,
                "publicKeyMultibase": actor.ed25519_public_multibase,
            }
        ]
    if actor.avatar_url:
        doc["icon"] = {"type": "Image", "url": actor.avatar_url}
    header = (actor.raw or {}).get("image") if actor.local else None
    if isinstance(header, dict) and header.get("url"):
        doc["image"] = {"type": "Image", "url": header["url"]}
    if public_members_url:
        doc["cercle:members"] = public_members_url
    if actor.local and actor.raw:
        # Account moves (node/moderation/moves.py) keep these in the local actor's raw.
        for key in ("alsoKnownAs", "movedTo"):
            if actor.raw.get(key):
                doc[key] = actor.raw[key]
    return doc


def note_document(
    post: Post, author: Actor, *, in_reply_to_uri: str | None = None
) -> dict[str, Any]:
    return {
        "id": post.uri,
        "type": post.type,
        "attributedTo": author.uri,
        "content": post.content,
        "summary": post.summary or None,
        "sensitive": post.sensitive,
        "published": iso(post.published),
        **({"updated": iso(post.edited_at)} if post.edited_at else {}),
        "url": post.url or post.uri,
        "inReplyTo": in_reply_to_uri or post.in_reply_to_uri,
        "to": list(post.to),
        "cc": list(post.cc),
        "tag": list(post.tags),
        "attachment": list(post.attachments),
        **({"location": post.place} if post.place else {}),
        # FEP-1b12: the group a post belongs to (it is addressed to the group first).
        **({"audience": post.to[0]} if post.audience == "group" and post.to else {}),
    }


def with_context(doc: dict[str, Any]) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, **doc}


def create_activity(post: Post, author: Actor) -> dict[str, Any]:
    note = note_document(post, author)
    return with_context(
        {
            "id": f"{post.uri}/activity",
            "type": "Create",
            "actor": author.uri,
            "published": note["published"],
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        }
    )


def update_note_activity(post: Post, author: Actor) -> dict[str, Any]:
    note = note_document(post, author)
    return with_context(
        {
            "id": f"{post.uri}#updates/{new_id()}",
            "type": "Update",
            "actor": author.uri,
            "to": note["to"],
            "cc": note["cc"],
            "object": note,
        }
    )


def delete_activity(post: Post, author: Actor) -> dict[str, Any]:
    return with_context(
        {
            "id": f"{post.uri}#delete",
            "type": "Delete",
            "actor": author.uri,
            "to": list(post.to),
            "cc": list(post.cc),
            "object": {"id": post.uri, "type": "Tombstone"},
        }
    )


def announce_activity(boost: Post, booster: Actor, original_uri: str) -> dict[str, Any]:
    return with_context(
        {
            "id": f"{boost.uri}/activity",
            "type": "Announce",
            "actor": booster.uri,
            "published": iso(boost.published),
            "to": list(boost.to),
            "cc": list(boost.cc),
            "object": original_uri,
        }
    )


def follow_activity(urls: Urls, follower: Actor, followee: Actor) -> dict[str, Any]:
    return with_context(
        {
            "id": urls.activity(new_id()),
            "type": "Follow",
            "actor": follower.uri,
            "object": followee.uri,
        }
    )


def respond_activity(
    urls: Urls, kind: str, responder: Actor, follow_uri: str, follower_uri: str
) -> dict[str, Any]:
    """Accept or Reject of a Follow, embedding the Follow as Mastodon expects."""
    return with_context(
        {
            "id": urls.activity(new_id()),
            "type": kind,
            "actor": responder.uri,
            "object": {
                "id": follow_uri,
                "type": "Follow",
                "actor": follower_uri,
                "object": responder.uri,
            },
        }
    )


def undo_activity(urls: Urls, actor: Actor, inner: dict[str, Any]) -> dict[str, Any]:
    inner = {k: v for k, v in inner.items() if k != "@context"}
    return with_context(
        {"id": urls.activity(new_id()), "type": "Undo", "actor": actor.uri, "object": inner}
    )


def like_activity(urls: Urls, actor: Actor, post_uri: str) -> dict[str, Any]:
    return with_context(
        {"id": urls.activity(new_id()), "type": "Like", "actor": actor.uri, "object": post_uri}
    )


def update_actor_activity(urls: Urls, actor: Actor) -> dict[str, Any]:
    return {
        "@context": ACTOR_CONTEXT,
        "id": urls.activity(new_id()),
        "type": "Update",
        "actor": actor.uri,
        "to": [PUBLIC],
        "object": {k: v for k, v in actor_document(actor).items() if k != "@context"},
    }


def ordered_collection(
    uri: str, total: int, first: str | None, *, items: list[Any] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS2,
        "id": uri,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if items is not None:
        doc["orderedItems"] = items
    elif first:
        doc["first"] = first
    return doc


def ordered_page(
    uri: str, part_of: str, items: list[Any], next_url: str | None, prev_url: str | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": AS2,
        "id": uri,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    }
    if next_url:
        doc["next"] = next_url
    if prev_url:
        doc["prev"] = prev_url
    return doc
