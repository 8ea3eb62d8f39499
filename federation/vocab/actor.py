"""Actor documents (Person, Service, Application, Group, Organization) read into typed values.

The keys matter most: ``publicKey`` (RSA, for HTTP signatures and LD signatures) and the
Multikeys in ``assertionMethod`` (FEP-521a, for integrity proofs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from federation.errors import ValidationError
from federation.jsonld import normalize
from federation.vocab.constants import ACTOR_TYPES
from federation.vocab.values import (
    as_bool,
    as_list,
    id_of,
    ids_of,
    is_absolute_http_url,
    language_text,
    link_href,
    parse_datetime,
    require_mapping,
    require_url,
    text,
    type_names,
)


@dataclass(frozen=True, slots=True)
class PublicKeyRef:
    """A ``publicKey`` entry: key id, owner (defaults to the actor) and PEM text."""

    id: str
    owner: str
    pem: str


@dataclass(frozen=True, slots=True)
class MultikeyRef:
    """A ``Multikey`` verification method from ``assertionMethod`` (FEP-521a)."""

    id: str
    controller: str
    public_key_multibase: str


@dataclass(frozen=True, slots=True)
class ProfileField:
    """A Mastodon profile field (``PropertyValue``); ``value`` is remote HTML."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ActorDocument:
    """An actor as published by its server. ``summary`` and field values are remote HTML."""

    id: str
    type: str
    inbox: str
    preferred_username: str | None = None
    name: str | None = None
    summary: str | None = None
    outbox: str | None = None
    followers: str | None = None
    following: str | None = None
    featured: str | None = None
    shared_inbox: str | None = None
    url: str | None = None
    icon_url: str | None = None
    header_url: str | None = None
    manually_approves_followers: bool = False
    discoverable: bool | None = None
    public_keys: tuple[PublicKeyRef, ...] = ()
    multikeys: tuple[MultikeyRef, ...] = ()
    also_known_as: tuple[str, ...] = ()
    moved_to: str | None = None
    published: datetime | None = None
    fields: tuple[ProfileField, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def public_key(self, key_id: str) -> PublicKeyRef | None:
        """The ``publicKey`` entry with this id, if the actor publishes it."""
        return next((key for key in self.public_keys if key.id == key_id), None)

    def multikey(self, key_id: str) -> MultikeyRef | None:
        """The Multikey with this id, if the actor lists it in ``assertionMethod``."""
        return next((key for key in self.multikeys if key.id == key_id), None)


def _public_keys(value: Any, actor_id: str) -> tuple[PublicKeyRef, ...]:
    keys = []
    for item in as_list(value):
        if not isinstance(item, Mapping):
            continue  # a bare key URL: nothing to verify with until it is fetched
        key_id, pem = text(item.get("id")), text(item.get("publicKeyPem"))
        if key_id and pem:
            keys.append(PublicKeyRef(key_id, id_of(item.get("owner")) or actor_id, pem))
    return tuple(keys)


def _multikeys(value: Any, actor_id: str) -> tuple[MultikeyRef, ...]:
    keys = []
    for item in as_list(value):
        if not isinstance(item, Mapping) or "Multikey" not in type_names(item.get("type")):
            continue
        key_id, multibase = text(item.get("id")), text(item.get("publicKeyMultibase"))
        if key_id and multibase:
            controller = id_of(item.get("controller")) or actor_id
            keys.append(MultikeyRef(key_id, controller, multibase))
    return tuple(keys)


def _fields(value: Any) -> tuple[ProfileField, ...]:
    found = []
    for item in as_list(value):
        if isinstance(item, Mapping) and "PropertyValue" in type_names(item.get("type")):
            name, val = text(item.get("name")), text(item.get("value"))
            if name is not None and val is not None:
                found.append(ProfileField(name, val))
    return tuple(found)


def _image_url(value: Any) -> str | None:
    """``icon``/``image``: an Image object (its ``url``), a URL string, or a list of either."""
    for item in as_list(value):
        url = link_href(item.get("url")) if isinstance(item, Mapping) else link_href(item)
        if url:
            return url
    return None


def _optional_url(value: Any) -> str | None:
    found = id_of(value)
    return found if is_absolute_http_url(found) else None


def parse_actor(doc: Any) -> ActorDocument:
    """Validate an actor document and return it typed.

    Requires a JSON object of an actor type (:data:`ACTOR_TYPES`) with absolute http(s)
    ``id`` and ``inbox``. ``publicKey`` may be one object or a list; only entries with a PEM
    are kept. Raises ValidationError with the reason otherwise.
    """
    doc = normalize(require_mapping(doc, "actor"))
    names = type_names(doc.get("type"))
    kind = next((name for name in names if name in ACTOR_TYPES), None)
    if kind is None:
        shown = names[0] if names else "(none)"
        raise ValidationError(f"unsupported actor type {shown!r}"[:120])
    actor_id = require_url(doc.get("id"), "actor id")
    endpoints = doc.get("endpoints")
    shared_inbox = endpoints.get("sharedInbox") if isinstance(endpoints, Mapping) else None
    return ActorDocument(
        id=actor_id,
        type=kind,
        inbox=require_url(id_of(doc.get("inbox")), "actor inbox"),
        preferred_username=text(doc.get("preferredUsername")) or None,
        name=language_text(doc, "name") or None,
        summary=language_text(doc, "summary") or None,
        outbox=_optional_url(doc.get("outbox")),
        followers=_optional_url(doc.get("followers")),
        following=_optional_url(doc.get("following")),
        featured=_optional_url(doc.get("featured")),
        shared_inbox=_optional_url(shared_inbox),
        url=link_href(doc.get("url"), prefer_media_type="text/html"),
        icon_url=_image_url(doc.get("icon")),
        header_url=_image_url(doc.get("image")),
        manually_approves_followers=as_bool(doc.get("manuallyApprovesFollowers")) is True,
        discoverable=as_bool(doc.get("discoverable")),
        public_keys=_public_keys(doc.get("publicKey"), actor_id),
        multikeys=_multikeys(doc.get("assertionMethod"), actor_id),
        also_known_as=ids_of(doc.get("alsoKnownAs")),
        moved_to=id_of(doc.get("movedTo")),
        published=parse_datetime(doc.get("published")),
        fields=_fields(doc.get("attachment")),
        raw=doc,
    )
