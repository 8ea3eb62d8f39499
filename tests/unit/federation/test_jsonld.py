"""JSON-LD: the offline loader, pyld wrappers and the fast path that keeps pyld off the inbox."""

from __future__ import annotations

import copy
import json
import socket
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

from federation import jsonld
from federation.errors import ValidationError
from federation.jsonld import loader
from federation.vocab import parse_activity, parse_object

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

MASTODON_CREATE: dict[str, Any] = {
    "@context": [
        AS,
        {
            "ostatus": "http://ostatus.org#",
            "atomUri": "ostatus:atomUri",
            "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
            "conversation": "ostatus:conversation",
            "sensitive": "as:sensitive",
            "toot": "http://joinmastodon.org/ns#",
            "votersCount": "toot:votersCount",
            "blurhash": "toot:blurhash",
            "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
            "Hashtag": "as:Hashtag",
        },
    ],
    "id": "https://mastodon.example/users/alice/statuses/1/activity",
    "type": "Create",
    "actor": "https://mastodon.example/users/alice",
    "published": "2024-05-01T10:00:00Z",
    "to": [PUBLIC],
    "cc": ["https://mastodon.example/users/alice/followers"],
    "object": {
        "id": "https://mastodon.example/users/alice/statuses/1",
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "attributedTo": "https://mastodon.example/users/alice",
        "to": [PUBLIC],
        "cc": ["https://mastodon.example/users/alice/followers"],
        "sensitive": False,
        "atomUri": "https://mastodon.example/users/alice/statuses/1",
        "content": "<p>Hello <a href='https://mastodon.example/tags/cercle'>#cercle</a></p>",
        "contentMap": {"en": "<p>Hello #cercle</p>"},
        "attachment": [],
        "tag": [
            {"type": "Hashtag", "href": "https://mastodon.example/tags/cercle", "name": "#cercle"}
        ],
    },
}

PREFIXED_NOTE: dict[str, Any] = {
    "@context": {"as": "https://www.w3.org/ns/activitystreams#"},
    "@id": "https://odd.example/notes/1",
    "@type": "as:Note",
    "as:attributedTo": {"@id": "https://odd.example/users/zoe"},
    "as:content": "written with prefixes",
    "as:to": {"@id": "as:Public"},
}

#: For each bundled context: a document using one of its terms, and the IRI it must expand to.
SAMPLES: dict[str, tuple[dict[str, Any], str]] = {
    "https://www.w3.org/ns/activitystreams": (
        {"@context": AS, "id": "https://x.example/1", "type": "Note", "content": "hi"},
        "https://www.w3.org/ns/activitystreams#content",
    ),
    "https://w3id.org/security/v1": (
        {
            "@context": "https://w3id.org/security/v1",
            "id": "https://x.example/k",
            "publicKeyPem": "-",
        },
        "https://w3id.org/security#publicKeyPem",
    ),
    "https://w3id.org/security/data-integrity/v1": (
        {
            "@context": "https://w3id.org/security/data-integrity/v1",
            "id": "https://x.example/1",
            "digestMultibase": "zQm",
        },
        "https://w3id.org/security#digestMultibase",
    ),
    "https://w3id.org/security/data-integrity/v2": (
        {
            "@context": "https://w3id.org/security/data-integrity/v2",
            "id": "https://x.example/1",
            "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022"},
        },
        "https://w3id.org/security#cryptosuite",
    ),
    "https://w3id.org/security/multikey/v1": (
        {
            "@context": "https://w3id.org/security/multikey/v1",
            "id": "https://x.example/u#key",
            "type": "Multikey",
            "publicKeyMultibase": "z6Mk",
        },
        "https://w3id.org/security#publicKeyMultibase",
    ),
    "https://www.w3.org/ns/did/v1": (
        {
            "@context": "https://www.w3.org/ns/did/v1",
            "id": "https://x.example/u",
            "controller": "https://x.example/c",
        },
        "https://w3id.org/security#controller",
    ),
    "https://w3id.org/identity/v1": (
        {"@context": "https://w3id.org/identity/v1", "creator": "https://x.example/u#main-key"},
        "http://purl.org/dc/terms/creator",
    ),
    "https://purl.archive.org/socialweb/webfinger": (
        {"@context": "https://purl.archive.org/socialweb/webfinger", "webfinger": "a@x.example"},
        "https://purl.archive.org/socialweb/webfinger#webfinger",
    ),
    "https://litepub.social/litepub/context.jsonld": (
        {"@context": "https://litepub.social/litepub/context.jsonld", "directMessage": True},
        "http://litepub.social/ns#directMessage",
    ),
    "https://join-lemmy.org/context.json": (
        {"@context": "https://join-lemmy.org/context.json", "stickied": True},
        "https://join-lemmy.org/ns#stickied",
    ),
    "https://gotosocial.org/ns": (
        {"@context": "https://gotosocial.org/ns", "interactionPolicy": {"canLike": {}}},
        "https://gotosocial.org/ns#interactionPolicy",
    ),
    "https://w3id.org/fep/5711": (
        {"@context": "https://w3id.org/fep/5711", "likesOf": "https://x.example/1"},
        "https://w3id.org/fep/5711#likesOf",
    ),
    "http://joinmastodon.org/ns": (
        {"@context": "http://joinmastodon.org/ns", "blurhash": "LEHV6n"},
        "http://joinmastodon.org/ns#blurhash",
    ),
    "http://schema.org": (
        {"@context": "http://schema.org", "type": "PropertyValue", "value": "v"},
        "http://schema.org/value",
    ),
}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every way out to the network fail loudly, including pyld's default loader."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(pyld_jsonld, "_default_document_loader", refuse)


def _keys(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*(_keys(item) for item in node)) if node else set()
    if isinstance(node, dict):
        return set(node).union(*(_keys(value) for value in node.values()))
    return set()


def test_samples_cover_every_bundled_file() -> None:
    """Each bundled file has a sample below, so none can silently fail to load."""
    assert {loader.normalize_context_url(u) for u in SAMPLES} == {
        loader.normalize_context_url(u) for u in loader.bundled_context_urls()
    }


@pytest.mark.parametrize("url", sorted(SAMPLES))
@pytest.mark.usefixtures("no_network")
def test_bundled_context_expands_offline(url: str) -> None:
    """Every bundled context loads and gives its terms their published meaning, offline."""
    doc, expected_iri = SAMPLES[url]
    assert expected_iri in _keys(jsonld.expand(doc))


@pytest.mark.parametrize(
    ("url", "file_url"),
    [
        ("http://www.w3.org/ns/activitystreams", AS),
        ("https://www.w3.org/ns/activitystreams#", AS),
        ("https://schema.org/", "http://schema.org"),
        ("https://w3id.org/security/v1/", "https://w3id.org/security/v1"),
        (
            "https://pleroma.example/schemas/litepub-0.1.jsonld",
            "https://litepub.social/litepub/context.jsonld",
        ),
    ],
)
def test_url_matching_is_tolerant(url: str, file_url: str) -> None:
    """Scheme, trailing '#'/'/' and Pleroma's per-instance Litepub path all find the file."""
    assert loader.context_document(url) == loader.context_document(file_url)
    assert loader.is_known_context(url)


@pytest.mark.usefixtures("no_network")
def test_unknown_context_is_served_empty_never_fetched() -> None:
    """An unknown URL is answered with {} so the rest of the document is still processed."""
    assert loader.context_document("https://evil.example/ctx.jsonld") == {"@context": {}}
    assert not loader.is_known_context("https://evil.example/ctx.jsonld")


@pytest.mark.usefixtures("no_network")
def test_unknown_context_does_not_break_a_valid_note() -> None:
    """A Note citing an unknown extension context still expands and parses."""
    note = {
        "@context": [AS, "https://unknown.example/ns/v7"],
        "id": "https://a.example/notes/1",
        "type": "Note",
        "attributedTo": "https://a.example/users/ann",
        "content": "still readable",
        "weirdExtension": 42,
    }
    expanded = jsonld.expand(note)
    assert expanded[0]["https://www.w3.org/ns/activitystreams#content"] == [
        {"@value": "still readable"}
    ]
    assert parse_object(note).content == "still readable"


def test_malformed_context_url_is_just_unknown() -> None:
    """A URL urlsplit cannot parse is treated as unknown, not as an error."""
    assert loader.context_document("http://[::1/ctx") == {"@context": {}}
    assert jsonld.needs_compaction({"@context": [AS, "http://[::1/ctx"], "type": "Note"}) is False


def test_context_documents_are_fresh_copies() -> None:
    """Changing a returned document cannot change what the loader serves next time."""
    first = loader.context_document(AS)
    first["@context"]["id"] = "@type"
    assert loader.context_document(AS)["@context"]["id"] == "@id"


def test_mastodon_create_needs_no_compaction() -> None:
    """The common case stays on the fast path: known contexts plus harmless inline terms."""
    assert not jsonld.needs_compaction(MASTODON_CREATE)
    assert jsonld.normalize(MASTODON_CREATE) is MASTODON_CREATE


@pytest.mark.parametrize(
    "context",
    [
        ["https://join-lemmy.org/context.json", AS],
        [AS, "https://pleroma.example/schemas/litepub-0.1.jsonld", {"@language": "und"}],
        ["https://w3id.org/security/v1", AS, {"gts": "https://gotosocial.org/ns#"}],
        [AS, "https://w3id.org/security/data-integrity/v1", "https://unknown.example/ctx"],
        "https://litepub.social/litepub/context.jsonld",
    ],
)
def test_usual_contexts_need_no_compaction(context: Any) -> None:
    """Lemmy, Pleroma, GoToSocial and Fedify-style contexts are read directly."""
    doc = {**MASTODON_CREATE, "@context": context}
    assert not jsonld.needs_compaction(doc)


@pytest.mark.parametrize(
    "doc",
    [
        PREFIXED_NOTE,
        {**MASTODON_CREATE, "@context": "https://w3id.org/security/v1"},
        {**MASTODON_CREATE, "@context": [AS, None]},
        {**MASTODON_CREATE, "@context": [AS, {"text": "as:content"}], "text": "aliased"},
        {**MASTODON_CREATE, "@context": [AS, {"content": "http://other.example/body"}]},
        {**MASTODON_CREATE, "https://www.w3.org/ns/activitystreams#summary": "full IRI key"},
    ],
    ids=["prefixed", "no-as", "null", "alias-used", "redefined", "iri-key"],
)
def test_unusual_compaction_is_detected(doc: dict[str, Any]) -> None:
    """Keys that would read differently than they mean send the document through pyld."""
    assert jsonld.needs_compaction(doc)


def test_alias_defined_but_unused_stays_fast() -> None:
    """Lemmy's older inline context aliases ``expires``; harmless until a key uses it."""
    doc = {**MASTODON_CREATE, "@context": [AS, {"expires": "as:endTime"}]}
    assert not jsonld.needs_compaction(doc)
    assert jsonld.needs_compaction({**doc, "expires": "2024-06-01T00:00:00Z"})


def test_prefixed_embedded_object_is_detected() -> None:
    """The scan looks inside embedded objects, where ``as:`` keys hide too."""
    doc = copy.deepcopy(MASTODON_CREATE)
    doc["object"]["as:summary"] = "cw"
    assert jsonld.needs_compaction(doc)


def test_embedded_documents_bring_their_own_context() -> None:
    """FEP-8b32 embeds signed objects with their own @context: usual ones stay fast."""
    doc = copy.deepcopy(MASTODON_CREATE)
    doc["object"]["@context"] = [AS, "https://w3id.org/security/data-integrity/v1"]
    assert not jsonld.needs_compaction(doc)
    doc["object"]["@context"] = [AS, {"preferredUsername": "http://other.example/handle"}]
    assert not jsonld.needs_compaction(doc)  # redefined, but no key uses it
    doc["object"]["preferredUsername"] = "now it matters"
    assert jsonld.needs_compaction(doc)
    doc["object"]["@context"] = None
    assert jsonld.needs_compaction(doc)


@pytest.mark.usefixtures("no_network")
def test_normalize_makes_prefixed_document_parse() -> None:
    """After compaction the prefixed Note reads like any other."""
    note = parse_object(jsonld.normalize(PREFIXED_NOTE))
    assert note.id == "https://odd.example/notes/1"
    assert note.type == "Note"
    assert note.content == "written with prefixes"
    assert note.attributed_to == "https://odd.example/users/zoe"
    assert note.to == ("as:Public",)


@pytest.mark.usefixtures("no_network")
def test_parse_activity_normalizes_by_itself() -> None:
    """parse_activity runs the fast check and compacts only when it must."""
    activity = parse_activity(
        {
            "@context": {"as": "https://www.w3.org/ns/activitystreams#"},
            "@id": "https://odd.example/likes/1",
            "@type": "as:Like",
            "as:actor": {"@id": "https://odd.example/users/zoe"},
            "as:object": {"@id": "https://a.example/notes/1"},
        }
    )
    assert (activity.type, activity.actor, activity.object_id) == (
        "Like",
        "https://odd.example/users/zoe",
        "https://a.example/notes/1",
    )


@pytest.mark.usefixtures("no_network")
def test_compact_keeps_unknown_terms_readable() -> None:
    """ActivityStreams' ``@vocab: _:`` carries undefined terms through compaction."""
    compacted = jsonld.compact({**MASTODON_CREATE["object"], "@context": AS, "mystery": 1})
    assert compacted["mystery"] == 1
    assert compacted["content"].startswith("<p>Hello")


@pytest.mark.usefixtures("no_network")
def test_canonize_ignores_key_order_and_undefined_terms() -> None:
    """URDNA2015 output depends on meaning only, as LD signatures require."""
    note = {"@context": AS, "id": "https://x.example/1", "type": "Note", "content": "c"}
    reordered = dict(reversed(list(note.items())))
    assert jsonld.canonize(note) == jsonld.canonize(reordered)
    assert jsonld.canonize(note) == jsonld.canonize({**note, "undefinedTerm": "x"})
    assert '"c"' in jsonld.canonize(note)


def test_pyld_errors_become_validation_errors() -> None:
    """A context pyld rejects gives our ValidationError, not a pyld exception."""
    with pytest.raises(ValidationError, match="JSON-LD"):
        jsonld.expand({"@context": 42, "id": "https://x.example/1"})


def test_sent_contexts_are_read_only_and_serialisable() -> None:
    """AS_CONTEXT can be embedded in any outgoing dict but not changed by accident."""
    terms = jsonld.AS_CONTEXT[2]
    with pytest.raises(TypeError):
        terms["sensitive"] = "x"  # type: ignore[index]
    encoded = json.loads(json.dumps({"@context": jsonld.ACTOR_CONTEXT}))
    assert encoded["@context"][0] == AS
    assert copy.deepcopy(terms) == dict(terms)
    expected = {"manuallyApprovesFollowers", "toot", "discoverable", "sensitive", "Hashtag"}
    expected |= {"featured", "Emoji", "focalPoint", "blurhash", "votersCount", "indexable"}
    assert expected | {"memorial"} <= set(terms)


@pytest.mark.usefixtures("no_network")
def test_actor_context_expands_assertion_method() -> None:
    """The actor context gives ``assertionMethod`` and Multikey fields their security IRIs."""
    actor = {
        "@context": jsonld.ACTOR_CONTEXT,
        "id": "https://c.example/users/alice",
        "type": "Person",
        "assertionMethod": [
            {
                "id": "https://c.example/users/alice#ed25519-key",
                "type": "Multikey",
                "controller": "https://c.example/users/alice",
                "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            }
        ],
    }
    keys = _keys(jsonld.expand(actor))
    assert "https://w3id.org/security#assertionMethod" in keys
    assert "https://w3id.org/security#publicKeyMultibase" in keys
