"""Media types of the federation protocol, and content negotiation on them.

ActivityPub names two equivalent media types for its documents: ``application/activity+json``
and ``application/ld+json; profile="https://www.w3.org/ns/activitystreams"``. Every actor and
object URL is served both as HTML (for browsers) and as JSON (for servers), so the choice
between them must parse ``Accept`` properly: q-values decide, and a browser's ``*/*`` must
never be mistaken for a request for JSON.
"""

from __future__ import annotations

import functools

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
#: What Cercle sends when it fetches an ActivityPub document (the same as Mastodon).
AP_ACCEPT = f"{ACTIVITY_JSON}, {LD_JSON_AS}"
JRD_JSON = "application/jrd+json"
XRD_XML = "application/xrd+xml"

_AP_TYPES = frozenset({ACTIVITY_JSON, "application/ld+json"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split on ``sep`` except inside a quoted-string (a profile may hold commas)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/subtype; k=v`` into the lower-cased type and its parameters.

    Parameter names are lower-cased; values lose their quotes but keep their case (a profile
    URL is case-sensitive).
    """
    pieces = _split_outside_quotes(value, ";")
    mime = pieces[0].strip().lower()
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, eq, raw = piece.partition("=")
        if not eq:
            continue
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[name.strip().lower()] = raw
    return mime, params


def _quality(params: dict[str, str]) -> float:
    """The q-value of a media range; a malformed one counts as 0 (RFC 9110 §12.4.2)."""
    try:
        q = float(params.get("q", "1"))
    except ValueError:
        return 0.0
    return q if 0.0 <= q <= 1.0 else 0.0


def wants_activitypub(accept_header: str | None) -> bool:
    """Whether a request's ``Accept`` asks for the ActivityPub JSON rather than HTML.

    True when ``application/activity+json`` or ``application/ld+json`` (with the ActivityStreams
    profile, another profile, or none — servers in the wild send all three) has a non-zero
    q-value at least as high as any explicitly named HTML type. Wildcards (``*/*``,
    ``application/*``) never count as asking for ActivityPub: browsers send them, and they
    must get the HTML page.
    """
    if not accept_header:
        return False
    best_ap = 0.0
    best_html = 0.0
    for media_range in _split_outside_quotes(accept_header, ","):
        if not media_range.strip():
            continue
        mime, params = parse_media_type(media_range)
        q = _quality(params)
        if mime in _AP_TYPES:
            best_ap = max(best_ap, q)
        elif mime in _HTML_TYPES:
            best_html = max(best_html, q)
    return best_ap > 0.0 and best_ap >= best_html


def is_json_content_type(content_type: str | None) -> bool:
    """Whether a response body is some JSON: ``application/json`` or any ``application/*+json``.

    Used for documents that are JSON but not ActivityStreams (WebFinger's JRD, NodeInfo).
    """
    if not content_type:
        return False
    mime, _ = parse_media_type(content_type)
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )


@functools.lru_cache(maxsize=256)
def is_activitypub_content_type(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` announces an ActivityPub document.

    Accepts ``application/activity+json``, ``application/ld+json`` with any profile or none,
    and also plain ``application/json``: Pleroma and some relays label their inbox POSTs and
    documents that way, and refusing them would break federation with them. The body is
    validated as an activity afterwards anyway; the type is only a first filter.

    Memoised (bounded; a pure function of the header): every inbox POST asks, and peers
    send the same few values.
    """
    if not content_type:
        return False
    mime, _ = parse_media_type(content_type)
    return mime in _AP_TYPES or mime == "application/json"
