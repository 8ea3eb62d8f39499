"""Key id → the actor owning it and its parsed key, held in memory by the Node.

Every signed request names a key, and finding its owner in the actors table cost a
fresh read session (≈ 1 ms, more than the rest of the inbox's work on an activity
together). Peers send many requests with the same few keys, so the owner is kept here.

Freshness, in order of how quickly a change is seen:

* a signature that does not verify with the cached key drops the entry, and the caller
  looks again (database, then the peer: the key may have been rotated);
* an actor Update or Delete applied here, and every actor document stored here, replace
  or drop the actor's entries (``forget_actor``, ``remember``);
* entries expire after ``ttl`` seconds, so what another process (another web process on
  PostgreSQL, ``cercle worker``) changed in the actors table is seen within that time.

The cached ``Actor`` is a detached row shared by concurrent requests: treat it as
read-only (handlers that change an actor load it in their own session).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from node.db.models import Actor

#: Peers an instance hears from in a day are in the thousands; beyond this the oldest go.
MAX_ENTRIES = 10_000
#: How long another process's change to an actor row may go unseen here.
TTL_SECONDS = 60.0


@dataclass
class KeyFetch:
    """One fetch of a key shared by every request that needs it meanwhile: a burst from
    a peer we do not know yet fetches its key once and stores its actor once (two
    concurrent first inserts of one actor would also collide on PostgreSQL)."""

    task: asyncio.Future[Any]
    started: float = field(default_factory=time.monotonic)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    actor: Actor | None = None


@dataclass(frozen=True, slots=True)
class KeyOwner:
    actor: Actor
    #: the parsed public key: parsing a PEM costs as much as verifying with it
    key: Any
    expires_at: float


class KeyOwnerCache:
    """Bounded and per node (two nodes in one process, as in the tests, never share it)."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES, ttl: float = TTL_SECONDS) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._by_key: dict[str, KeyOwner] = {}
        #: actor uri → its cached key ids, so that forgetting an actor is no scan
        self._keys_of: dict[str, set[str]] = {}
        #: key id → the fetch in flight (see ``node.signed_requests``)
        self.fetching: dict[str, KeyFetch] = {}

    def get(self, key_id: str) -> KeyOwner | None:
        owner = self._by_key.get(key_id)
        if owner is not None and owner.expires_at < time.monotonic():
            self.forget(key_id)
            return None
        return owner

    def remember(self, key_id: str, actor: Actor, key: Any) -> KeyOwner:
        """Cache ``actor`` as the owner of ``key_id``; the other keys it held are dropped
        (a key rotated away must stop verifying at once, not when its entry expires)."""
        self.forget_actor(actor.uri)
        self.forget(key_id)
        if len(self._by_key) >= self.max_entries:
            # Insertion order: the oldest entry goes first.
            self.forget(next(iter(self._by_key)))
        owner = KeyOwner(actor=actor, key=key, expires_at=time.monotonic() + self.ttl)
        self._by_key[key_id] = owner
        self._keys_of.setdefault(actor.uri, set()).add(key_id)
        return owner

    def forget(self, key_id: str) -> None:
        owner = self._by_key.pop(key_id, None)
        if owner is None:
            return
        keys = self._keys_of.get(owner.actor.uri)
        if keys is not None:
            keys.discard(key_id)
            if not keys:
                del self._keys_of[owner.actor.uri]

    def forget_actor(self, actor_uri: str) -> None:
        """Drop every key of ``actor_uri``: after an actor Update or Delete, a refetch."""
        for key_id in list(self._keys_of.get(actor_uri, ())):
            self.forget(key_id)

    def __len__(self) -> int:
        return len(self._by_key)
