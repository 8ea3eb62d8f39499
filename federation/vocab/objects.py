"""Content objects (Note, Article, Question, Page, media, Tombstone) read into typed values.

Only what Cercle shows or stores is lifted out; everything else stays in ``raw`` (including
Misskey's ``_misskey_content`` and ``source``, which we never render).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from federation.errors import ValidationError
from federation.jsonld import normalize
from federation.vocab.constants import ACTOR_TYPES, OBJECT_TYPES
from federation.vocab.values import (
    as_bool,
    as_float,
    as_int,
    as_list,
    first_type,
    id_of,
    ids_of,
    language_map,
    language_text,
    link_href,
    parse_datetime,
    require_mapping,
    require_url,
    text,
    type_names,
)


class Mention(NamedTuple):
    """A ``Mention`` tag: the mentioned actor's id and the handle as written (``@bob@host``)."""

    href: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Emoji:
    """A custom emoji used in the text; ``shortcode`` is its name without colons."""

    shortcode: str
    url: str
    media_type: str | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A media attachment (Image, Video, Audio, Document...)."""

    type: str
    url: str
    media_type: str | None = None
    name: str | None = None
    blurhash: str | None = None
    width: int | None = None
    height: int | None = None
    focal_point: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """A ``location``: a name and/or coordinates (radius in ``units``, AS default metres)."""

    name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    radius: float | None = None
    units: str | None = None


@dataclass(frozen=True, slots=True)
class PollOption:
    """One answer of a Question, with its vote count (``replies.totalItems``)."""

    name: str
    votes: int = 0


@dataclass(frozen=True, slots=True)
class Poll:
    """The poll part of a Question: ``oneOf`` (single choice) or ``anyOf`` (multiple)."""

    options: tuple[PollOption, ...]
    multiple: bool = False
    end_time: datetime | None = None
    closed: bool = False
    closed_at: datetime | None = None
    voters_count: int | None = None


@dataclass(frozen=True, slots=True)
class APObject:
    """A content object as received. ``content`` is remote HTML: sanitise before storing."""

    id: str
    type: str
    attributed_to: str | None = None
    content: str = ""
    content_map: Mapping[str, str] = field(default_factory=dict, compare=False)
    summary: str | None = None
    sensitive: bool = False
    name: str | None = None
    in_reply_to: str | None = None
    url: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bto: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[str, ...] = ()
    emojis: tuple[Emoji, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    location: Place | None = None
    quote_url: str | None = None
    poll: Poll | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_tombstone(self) -> bool:
        return self.type == "Tombstone"


#: Actor types that can author a post (a Group listed beside its poster is the venue).
_AUTHOR_TYPES = ACTOR_TYPES - {"Group"}


def _attributed_to(value: Any) -> str | None:
    """The author's id.

    PeerTube lists several attributions (the account and its channel, a Group): the first
    non-Group actor wins, else the first id.
    """
    items = as_list(value)
    for item in items:
        if isinstance(item, Mapping) and first_type(item.get("type"), _AUTHOR_TYPES):
            found = id_of(item)
            if found:
                return found
    return id_of(items[0]) if items else None


def _tags(doc: Mapping[str, Any]) -> tuple[tuple[Mention, ...], tuple[str, ...], tuple[Emoji, ...]]:
    mentions: list[Mention] = []
    hashtags: dict[str, None] = {}
    emojis: list[Emoji] = []
    for tag in as_list(doc.get("tag")):
        if not isinstance(tag, Mapping):
            continue
        kinds = type_names(tag.get("type"))
        name = text(tag.get("name"))
        if "Mention" in kinds:
            href = text(tag.get("href")) or id_of(tag)
            if href:
                mentions.append(Mention(href, name))
        elif "Hashtag" in kinds and name:
            hashtags.setdefault(name.removeprefix("#"))
        elif "Emoji" in kinds and name:
            icon = tag.get("icon")
            url = link_href(icon.get("url")) if isinstance(icon, Mapping) else link_href(icon)
            if url:
                media_type = text(icon.get("mediaType")) if isinstance(icon, Mapping) else None
                emojis.append(Emoji(name.strip(":"), url, media_type, text(tag.get("id"))))
    return tuple(mentions), tuple(hashtags), tuple(emojis)


def _focal_point(value: Any) -> tuple[float, float] | None:
    if isinstance(value, list) and len(value) == 2:
        x, y = as_float(value[0]), as_float(value[1])
        if x is not None and y is not None:
            return (x, y)
    return None


def _attachment(item: Any) -> Attachment | None:
    if isinstance(item, str):
        return Attachment(type="Document", url=item) if item else None
    if not isinstance(item, Mapping):
        return None
    names = type_names(item.get("type"))
    if "PropertyValue" in names:
        return None  # profile fields travel in ``attachment`` too; they are not media
    url_value = item.get("url")
    url = link_href(url_value) or text(item.get("href"))
    if not url:
        return None
    media_type = text(item.get("mediaType"))
    if media_type is None and isinstance(url_value, Mapping):
        media_type = text(url_value.get("mediaType"))
    return Attachment(
        type=names[0] if names else "Document",
        url=url,
        media_type=media_type,
        name=text(item.get("name")) or text(item.get("summary")),
        blurhash=text(item.get("blurhash")),
        width=as_int(item.get("width")),
        height=as_int(item.get("height")),
        focal_point=_focal_point(item.get("focalPoint")),
    )


def _place(value: Any) -> Place | None:
    for item in as_list(value):
        if not isinstance(item, Mapping):
            continue
        place = Place(
            name=language_text(item, "name"),
            latitude=as_float(item.get("latitude")),
            longitude=as_float(item.get("longitude")),
            radius=as_float(item.get("radius")),
            units=text(item.get("units")),
        )
        if place != Place():
            return place
    return None


def _quote_url(doc: Mapping[str, Any]) -> str | None:
    for key in ("quote", "quoteUrl", "quoteUri", "_misskey_quote"):
        found = id_of(doc.get(key))
        if found:
            return found
    return None


def _poll(doc: Mapping[str, Any]) -> Poll | None:
    multiple = "anyOf" in doc and "oneOf" not in doc
    choices = as_list(doc.get("anyOf" if multiple else "oneOf"))
    options = []
    for choice in choices:
        if not isinstance(choice, Mapping):
            continue
        name = language_text(choice, "name")
        if name is None:
            continue
        replies = choice.get("replies")
        votes = as_int(replies.get("totalItems")) if isinstance(replies, Mapping) else None
        options.append(PollOption(name, votes or 0))
    closed_value = doc.get("closed")
    closed_at = parse_datetime(closed_value)
    return Poll(
        options=tuple(options),
        multiple=multiple,
        end_time=parse_datetime(doc.get("endTime")),
        closed=closed_at is not None or as_bool(closed_value) is True,
        closed_at=closed_at,
        voters_count=as_int(doc.get("votersCount")),
    )


def parse_object(doc: Any) -> APObject:
    """Validate a content object and return it typed.

    Requires a JSON object with a known object type (:data:`OBJECT_TYPES`) and an absolute
    http(s) ``id``. A Tombstone needs nothing more. ``content`` falls back to the first value
    of ``contentMap``; ``summary`` and ``name`` likewise. Raises ValidationError otherwise.
    """
    doc = normalize(require_mapping(doc, "object"))
    names = type_names(doc.get("type"))
    kind = next((name for name in names if name in OBJECT_TYPES), None)
    if kind is None:
        shown = names[0] if names else "(none)"
        raise ValidationError(f"unsupported object type {shown!r}"[:120])
    object_id = require_url(doc.get("id"), "object id")
    if kind == "Tombstone":
        return APObject(id=object_id, type=kind, raw=doc)
    mentions, hashtags, emojis = _tags(doc)
    return APObject(
        id=object_id,
        type=kind,
        attributed_to=_attributed_to(doc.get("attributedTo")),
        content=language_text(doc, "content") or "",
        content_map=language_map(doc, "content"),
        summary=language_text(doc, "summary") or None,
        sensitive=as_bool(doc.get("sensitive")) is True,
        name=language_text(doc, "name"),
        in_reply_to=id_of(doc.get("inReplyTo")),
        url=link_href(doc.get("url"), prefer_media_type="text/html"),
        published=parse_datetime(doc.get("published")),
        updated=parse_datetime(doc.get("updated")),
        to=ids_of(doc.get("to")),
        cc=ids_of(doc.get("cc")),
        bto=ids_of(doc.get("bto")),
        bcc=ids_of(doc.get("bcc")),
        audience=ids_of(doc.get("audience")),
        mentions=mentions,
        hashtags=hashtags,
        emojis=emojis,
        attachments=tuple(a for a in map(_attachment, as_list(doc.get("attachment"))) if a),
        location=_place(doc.get("location")),
        quote_url=_quote_url(doc),
        poll=_poll(doc) if kind == "Question" else None,
        raw=doc,
    )
