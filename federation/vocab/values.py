"""Readers for the shapes one ActivityStreams property can take.

A property may arrive as a string, an object with an ``id``, a Link with an ``href``, or a
list of any of these; a date with ``Z``, an offset or fractional seconds. These helpers turn
each shape into one plain Python value so the parsers can stay short.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from federation.errors import ValidationError

#: ``\s`` in a str pattern is exactly ``str.isspace`` (both use Py_UNICODE_ISSPACE), and
#: one regex search costs a fraction of a generator over the characters.
_WHITESPACE = re.compile(r"\s")
#: ``dict`` first: ``isinstance`` then answers parsed JSON without the slower ABC check.
_MAPPINGS = (dict, Mapping)
_AS_PREFIXES = ("https://www.w3.org/ns/activitystreams#", "as:")


def is_absolute_http_url(value: object) -> bool:
    """True for an absolute ``http``/``https`` URL with a host (policy on plain http is node/'s)."""
    if not isinstance(value, str) or not value or _WHITESPACE.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def require_url(value: object, what: str) -> str:
    """Return ``value`` if it is an absolute http(s) URL, else raise ValidationError."""
    if is_absolute_http_url(value):
        return str(value)
    if value is None:
        raise ValidationError(f"{what} is missing")
    raise ValidationError(f"{what} must be an absolute http(s) URL, got {_short(value)}")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def id_of(value: Any) -> str | None:
    """The id a property refers to: a string, an object's ``id`` or a Link's ``href``."""
    if isinstance(value, str):
        return value or None
    if value is None:  # absent properties are the common case: skip the ABC check
        return None
    if isinstance(value, _MAPPINGS):
        for key in ("id", "href"):
            found = value.get(key)
            if isinstance(found, str) and found:
                return found
        return None
    if isinstance(value, list) and value:
        return id_of(value[0])
    return None


def ids_of(value: Any) -> tuple[str, ...]:
    """Every id a property refers to, in order, without duplicates."""
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    found: dict[str, None] = {}
    for item in items:
        ident = id_of(item) if not isinstance(item, list) else None
        if ident:
            found.setdefault(ident)
    return tuple(found)


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: None gives [], a single value gives [value]."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def type_names(value: Any) -> tuple[str, ...]:
    """The ``type`` of an object as local names (``as:Note`` and the full IRI give ``Note``)."""
    names = []
    for item in as_list(value):
        if isinstance(item, str):
            name = item
            for prefix in _AS_PREFIXES:
                name = name.removeprefix(prefix)
            names.append(name)
    return tuple(names)


def first_type(value: Any, known: frozenset[str]) -> str | None:
    """The first of an object's types found in ``known``."""
    return next((name for name in type_names(value) if name in known), None)


def text(value: Any) -> str | None:
    """A string property; anything else (numbers, objects, null) reads as absent."""
    return value if isinstance(value, str) else None


def language_text(doc: Mapping[str, Any], key: str) -> str | None:
    """``key`` (e.g. ``content``), falling back to the first value of ``keyMap``."""
    plain = text(doc.get(key))
    if plain is not None:
        return plain
    mapped = doc.get(f"{key}Map")
    if mapped is not None and isinstance(mapped, _MAPPINGS):
        return next((v for v in mapped.values() if isinstance(v, str)), None)
    return None


def language_map(doc: Mapping[str, Any], key: str) -> dict[str, str]:
    """``keyMap`` (language tag -> text), keeping only string values."""
    mapped = doc.get(f"{key}Map")
    if mapped is None or not isinstance(mapped, _MAPPINGS):
        return {}
    return {lang: v for lang, v in mapped.items() if isinstance(lang, str) and isinstance(v, str)}


def as_bool(value: Any) -> bool | None:
    """A JSON boolean (some servers send ``"true"``); anything else reads as absent."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    return None


def as_int(value: Any) -> int | None:
    """A non-negative integer such as a width or a vote count."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and value >= 0 else None


def as_float(value: Any) -> float | None:
    """A finite number (coordinates, radius); numeric strings are accepted."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def parse_datetime(value: Any) -> datetime | None:
    """An xsd:dateTime as an aware UTC datetime.

    Tolerates ``Z`` or a numeric offset, any number of fractional digits, a lower-case
    ``t``/``z`` and a missing offset (read as UTC). Garbage reads as absent rather than
    rejecting the whole document: a bad ``published`` is not worth losing a post over.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().upper())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def link_href(value: Any, prefer_media_type: str | None = None) -> str | None:
    """The URL of a ``url``-like property: a string, a Link's ``href`` or a list of them.

    With ``prefer_media_type``, a Link of that media type wins (PeerTube lists several).
    """
    candidates = as_list(value)
    if prefer_media_type:
        for item in candidates:
            if isinstance(item, Mapping) and item.get("mediaType") == prefer_media_type:
                href = text(item.get("href"))
                if href:
                    return href
    for item in candidates:
        if isinstance(item, str) and item:
            return item
        if isinstance(item, Mapping):
            href = text(item.get("href")) or text(item.get("url"))
            if href:
                return href
    return None


def require_mapping(doc: Any, what: str) -> Mapping[str, Any]:
    """Return ``doc`` if it is a JSON object, else raise ValidationError."""
    if not isinstance(doc, Mapping):
        raise ValidationError(f"{what} must be a JSON object, got {type(doc).__name__}")
    return doc
