"""Remote actors: fetched once, cached in the actors table, refreshed when a key fails.

The actors table is the key cache: a signature's keyId maps to ``public_key_id``.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any
from urllib.parse import urldefrag, urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.errors import FetchError, ValidationError
from federation.vocab import ActorDocument, parse_actor
from federation.webfinger import parse_handle, resolve_handle
from node.context import Node, transaction
from node.db.models import Actor
from node.db.types import utcnow
from node.errors import CercleError, NotFound
from node.settings import host_is_loopback

REFRESH_AFTER = timedelta(days=1)


@functools.lru_cache(maxsize=4096)
def host_of(uri: str) -> str:
    """``host[:port]`` of a URL, the unit of federation policy (blocks, breaker).

    Memoised (bounded; a pure function): the inbox asks it about the same actors on
    every request."""
    return urlsplit(uri).netloc.lower()


def apply_actor_document(actor: Actor, doc: ActorDocument) -> None:
    """Copy a parsed remote actor document onto its cached row."""
    actor.type = doc.type
    actor.username = doc.preferred_username or actor.username or doc.id.rsplit("/", 1)[-1]
    actor.domain = host_of(doc.id)
    actor.display_name = doc.name or ""
    actor.summary = doc.summary or ""
    actor.inbox = doc.inbox
    actor.outbox = doc.outbox or ""
    actor.followers_url = doc.followers or ""
    actor.following_url = doc.following or ""
    actor.shared_inbox = doc.shared_inbox
    actor.url = doc.url
    actor.avatar_url = doc.icon_url
    actor.manually_approves = bool(doc.manually_approves_followers)
    actor.discoverable = bool(doc.discoverable)
    if doc.public_keys:
        key = doc.public_keys[0]
        actor.public_key_id = key.id
        actor.public_key_pem = key.pem
    if doc.multikeys:
        actor.ed25519_public_multibase = doc.multikeys[0].public_key_multibase
    actor.raw = dict(doc.raw)
    actor.fetched_at = utcnow()


async def upsert_actor_document(db: AsyncSession, doc: ActorDocument) -> Actor:
    actor = await db.scalar(select(Actor).where(Actor.uri == doc.id))
    if actor is None:
        actor = Actor(uri=doc.id, local=False, username="", domain=host_of(doc.id))
        db.add(actor)
    elif actor.local:
        return actor
    apply_actor_document(actor, doc)
    await db.flush()
    return actor


async def fetch_actor_document(node: Node, uri: str) -> ActorDocument:
    data = await node.require_fetcher().get_json(uri)
    try:
        return parse_actor(data)
    except ValidationError as exc:
        raise FetchError(f"{uri} is not a usable actor: {exc.reason}") from exc


async def get_or_fetch_actor(node: Node, uri: str, *, refresh: bool = False) -> Actor:
    """The cached actor for ``uri``, fetched (signed GET) when unknown, stale or ``refresh``."""
    async with node.reads() as db:
        actor = await db.scalar(select(Actor).where(Actor.uri == uri))
    if actor is not None and (actor.local or not _stale(actor, refresh)):
        return actor
    doc = await fetch_actor_document(node, uri)
    return await store_actor_document(node, doc)


def _stale(actor: Actor, refresh: bool) -> bool:
    if refresh:
        return True
    return actor.fetched_at is None or utcnow() - actor.fetched_at > REFRESH_AFTER


async def cached_key_owner(node: Node, key_id: str) -> Actor | None:
    async with node.reads() as db:
        return await db.scalar(select(Actor).where(Actor.public_key_id == key_id))


async def fetch_key_owner(node: Node, key_id: str) -> tuple[ActorDocument, str]:
    """The actor document publishing ``key_id`` and the key's PEM, fetched (signed GET).

    Mastodon's key ids are ``actor#main-key`` (the fetch returns the actor); GoToSocial's
    are ``actor/main-key`` (the fetch returns a key document naming its ``owner``).
    Nothing is stored here: the caller stores the actor only once a signature verified.
    """
    url = urldefrag(key_id).url
    data = await node.require_fetcher().get_json(url)
    owner = _key_owner(data, key_id)
    if owner is not None and owner != data.get("id"):
        doc = await fetch_actor_document(node, owner)
    elif isinstance(data.get("id"), str) and data["id"] != url and "inbox" not in data:
        # GoToSocial answers a key URL with a stub of its actor: fetch the whole actor.
        doc = await fetch_actor_document(node, data["id"])
    else:
        try:
            doc = parse_actor(data)
        except ValidationError as exc:
            raise FetchError(f"{url} is not an actor or a key: {exc.reason}") from exc
    for key in doc.public_keys:
        if key.id == key_id:
            return doc, key.pem
    raise FetchError(f"actor {doc.id} does not publish key {key_id}")


async def store_actor_document(node: Node, doc: ActorDocument) -> Actor:
    """Store a fetched actor; the key owners remembered for it are stale from then on.

    Two requests may meet the same new actor at once (a follow and the first activity
    from it, two web processes): both find no row and both insert. The one that loses
    the race on ``uq_actors_uri`` updates the row the other made instead of failing.
    """
    try:
        async with transaction(node) as db:
            actor = await upsert_actor_document(db, doc)
    except IntegrityError:
        async with transaction(node) as db:
            actor = await upsert_actor_document(db, doc)
    node.key_owners.forget_actor(doc.id)
    return actor


def _key_owner(data: dict[str, Any], key_id: str) -> str | None:
    if "publicKeyPem" in data:
        owner = data.get("owner") or data.get("controller")
        return owner if isinstance(owner, str) else None
    return None


async def resolve_account(node: Node, handle_or_url: str) -> Actor:
    """A local or remote actor from ``user@host``, ``@user@host`` or an actor URL."""
    text = handle_or_url.strip()
    if text.startswith(("http://", "https://")):
        async with node.reads() as db:
            actor = await db.scalar(select(Actor).where(Actor.uri == text))
        if actor is not None and actor.local:
            return actor
        try:
            return await get_or_fetch_actor(node, text)
        except FetchError as exc:
            raise CercleError(f"cannot reach {text}: {exc.reason}") from exc
    try:
        username, host = parse_handle(text)
    except ValueError as exc:
        raise CercleError(str(exc)) from exc
    if host.lower() == node.settings.domain.lower():
        async with node.reads() as db:
            actor = await db.scalar(
                select(Actor).where(Actor.local.is_(True), Actor.username == username.lower())
            )
        if actor is None:
            raise NotFound(f"no account {username}@{host} on this node")
        return actor
    scheme = "http" if node.settings.dev and host_is_loopback(host) else "https"
    try:
        uri = await resolve_handle(node.require_fetcher(), f"{username}@{host}", scheme=scheme)
        return await get_or_fetch_actor(node, uri)
    except FetchError as exc:
        raise CercleError(f"cannot resolve {username}@{host}: {exc.reason}") from exc
