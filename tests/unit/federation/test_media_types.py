"""Content negotiation: servers get ActivityPub JSON, browsers get HTML."""

from __future__ import annotations

import pytest

from federation.media_types import (
    ACTIVITY_JSON,
    AP_ACCEPT,
    LD_JSON_AS,
    is_activitypub_content_type,
    is_json_content_type,
    parse_media_type,
    wants_activitypub,
)

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/*", False),
        (FIREFOX, False),
        ("text/html", False),
        (ACTIVITY_JSON, True),
        (LD_JSON_AS, True),
        (AP_ACCEPT, True),
        ("application/ld+json", True),
        ('application/ld+json; profile="http://www.w3.org/ns/activitystreams"', True),
        ("Application/Activity+JSON", True),
        ("application/activity+json, */*;q=0.1", True),
        ("application/activity+json;q=0", False),
        ("text/html, application/activity+json;q=0.5", False),
        ("text/html;q=0.5, application/activity+json", True),
        ("text/html, application/activity+json", True),
        ("application/activity+json;q=nonsense", False),
        ('application/ld+json; profile="a,b"; q=0.9, text/html;q=0.8', True),
        ("application/json", False),
    ],
)
def test_wants_activitypub(accept: str | None, expected: bool) -> None:
    """q-values decide; wildcards alone never mean ActivityPub, so browsers get HTML."""
    assert wants_activitypub(accept) is expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (ACTIVITY_JSON, True),
        (f"{ACTIVITY_JSON}; charset=utf-8", True),
        (LD_JSON_AS, True),
        ("application/ld+json", True),
        ('application/ld+json; profile="https://example.com/other"', True),
        ("application/json", True),  # Pleroma and some relays
        ("application/jrd+json", False),
        ("text/html", False),
        ("", False),
        (None, False),
    ],
)
def test_is_activitypub_content_type(content_type: str | None, expected: bool) -> None:
    assert is_activitypub_content_type(content_type) is expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json", True),
        ("application/jrd+json; charset=utf-8", True),
        (ACTIVITY_JSON, True),
        ("text/json", False),
        ("text/html", False),
        (None, False),
    ],
)
def test_is_json_content_type(content_type: str | None, expected: bool) -> None:
    assert is_json_content_type(content_type) is expected


def test_parse_media_type_keeps_profile_case_and_unquotes() -> None:
    mime, params = parse_media_type('Application/LD+JSON; Profile="https://W3.org/ns/x"')
    assert mime == "application/ld+json"
    assert params == {"profile": "https://W3.org/ns/x"}
