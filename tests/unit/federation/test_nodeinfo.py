"""NodeInfo documents against the required keys and types of the 2.1 and 2.0 schemas."""

from __future__ import annotations

import pytest

from federation.nodeinfo import build_nodeinfo, build_nodeinfo_links

TOP_LEVEL = {
    "version",
    "software",
    "protocols",
    "services",
    "openRegistrations",
    "usage",
    "metadata",
}


def _nodeinfo(version: str = "2.1", **overrides: object) -> dict:
    kwargs: dict = {
        "version": version,
        "software_name": "cercle",
        "software_version": "0.1.0",
        "repository": "https://example.org/cercle.git",
        "homepage": "https://cercle.example.org",
        "users_total": 12,
        "active_month": 5,
        "active_halfyear": 9,
        "local_posts": 340,
        "open_registrations": False,
        "metadata": {"nodeName": "Acme"},
    }
    kwargs.update(overrides)
    return build_nodeinfo(**kwargs)


def test_links_point_at_both_schemas() -> None:
    links = build_nodeinfo_links("https://acme.example/")["links"]
    assert links == [
        {
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
            "href": "https://acme.example/nodeinfo/2.1",
        },
        {
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
            "href": "https://acme.example/nodeinfo/2.0",
        },
    ]


@pytest.mark.parametrize("version", ["2.1", "2.0"])
def test_document_has_exactly_the_schema_keys_with_their_types(version: str) -> None:
    """Both schemas set additionalProperties: false, so extra keys are as wrong as missing ones."""
    doc = _nodeinfo(version)
    assert set(doc) == TOP_LEVEL
    assert doc["version"] == version
    assert doc["protocols"] == ["activitypub"]
    assert doc["services"] == {"inbound": [], "outbound": []}
    assert isinstance(doc["openRegistrations"], bool)
    assert set(doc["usage"]) <= {"users", "localPosts", "localComments"}
    users = doc["usage"]["users"]
    assert set(users) <= {"total", "activeHalfyear", "activeMonth"}
    assert all(isinstance(v, int) and v >= 0 for v in users.values())
    assert doc["usage"]["localPosts"] == 340
    assert isinstance(doc["metadata"], dict)
    assert all(isinstance(v, str) for v in doc["software"].values())


def test_repository_and_homepage_only_in_2_1() -> None:
    assert set(_nodeinfo("2.1")["software"]) == {"name", "version", "repository", "homepage"}
    assert set(_nodeinfo("2.0")["software"]) == {"name", "version"}
    assert set(_nodeinfo("2.1", repository=None, homepage=None)["software"]) == {
        "name",
        "version",
    }


@pytest.mark.parametrize(
    "overrides",
    [
        {"version": "1.0"},
        {"software_name": "Cercle"},
        {"software_name": "cercle server"},
        {"users_total": -1},
        {"local_posts": -5},
    ],
)
def test_values_the_schema_would_reject_raise(overrides: dict) -> None:
    with pytest.raises(ValueError):
        _nodeinfo(**overrides)
