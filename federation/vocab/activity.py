"""Incoming activities: validated once here so inbox handlers can trust every field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from federation.errors import ValidationError
from federation.jsonld import normalize
from federation.vocab.constants import ACTIVITY_TYPES
from federation.vocab.values import (
    id_of,
    ids_of,
    parse_datetime,
    require_mapping,
    require_url,
    type_names,
)


@dataclass(frozen=True, slots=True)
class Activity:
    """One received activity.

    ``object`` stays as sent (an id string, an embedded object as a dict, or None for the
    rare intransitive activity) because what it must be depends on the type: a Follow's is an
    actor id, a Create's a Note to parse with :func:`federation.vocab.parse_object`.
    ``raw`` is the document as parsed (after :func:`federation.jsonld.normalize`); verify
    signatures and proofs on the bytes received, never on ``raw``.
    """

    id: str
    type: str
    actor: str
    object: str | dict[str, Any] | None
    target: str | None = None
    origin: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bto: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    published: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def object_id(self) -> str | None:
        """The id of ``object`` whatever its shape."""
        return id_of(self.object)

    @property
    def recipients(self) -> tuple[str, ...]:
        """to, cc, bto, bcc and audience together, without duplicates."""
        return tuple(dict.fromkeys((*self.to, *self.cc, *self.bto, *self.bcc, *self.audience)))


def _single_actor(value: Any) -> str:
    if isinstance(value, list):
        actors = ids_of(value)
        if len(actors) > 1:
            raise ValidationError("activity has several actors; exactly one is supported")
        value = actors[0] if actors else None
    if value is None:
        raise ValidationError("activity has no actor")
    actor = id_of(value)
    if actor is None:
        raise ValidationError("activity actor has no id")
    return require_url(actor, "activity actor")


def _activity_type(value: Any) -> str:
    names = type_names(value)
    if not names:
        raise ValidationError("activity has no type")
    for name in names:
        if name in ACTIVITY_TYPES:
            return name
    raise ValidationError(f"unsupported activity type {names[0]!r}"[:120])


def _object(value: Any, kind: str = "") -> str | dict[str, Any] | None:
    if isinstance(value, list) and kind == "Flag" and value:
        # Mastodon's Flag lists the reported account then its posts: ``object`` keeps the
        # first, the handler reads the whole list from ``raw``.
        value = value[:1]
    if isinstance(value, list):
        if len(value) != 1:
            raise ValidationError("activity object must be a single value")
        value = value[0]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise ValidationError(f"activity object has an unexpected shape ({type(value).__name__})")


def parse_activity(doc: Any) -> Activity:
    """Validate an incoming activity and return it typed.

    Requires a JSON object whose ``type`` is a known activity type, whose ``id`` is an
    absolute http(s) URL and which has exactly one actor (a string, an object with an id, or
    a one-element list). Addressing fields are normalised to tuples of ids whatever their
    shape. Raises ValidationError with the reason otherwise.
    """
    doc = normalize(require_mapping(doc, "activity"))
    kind = _activity_type(doc.get("type"))
    activity_id = require_url(doc.get("id"), "activity id")
    return Activity(
        id=activity_id,
        type=kind,
        actor=_single_actor(doc.get("actor")),
        object=_object(doc.get("object"), kind),
        target=id_of(doc.get("target")),
        origin=id_of(doc.get("origin")),
        to=ids_of(doc.get("to")),
        cc=ids_of(doc.get("cc")),
        bto=ids_of(doc.get("bto")),
        bcc=ids_of(doc.get("bcc")),
        audience=ids_of(doc.get("audience")),
        published=parse_datetime(doc.get("published")),
        raw=doc,
    )
