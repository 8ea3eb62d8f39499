"""Parsing incoming ActivityStreams JSON, in the shapes real servers send it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from federation.errors import ValidationError
from federation.vocab import (
    PUBLIC,
    Attachment,
    Mention,
    Place,
    PollOption,
    is_public,
    parse_activity,
    parse_actor,
    parse_datetime,
    parse_object,
)

AS = "https://www.w3.org/ns/activitystreams"
PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2WXJ\n"
    "-----END PUBLIC KEY-----\n"
)

MASTODON_NOTE: dict[str, Any] = {
    "id": "https://mastodon.example/users/alice/statuses/1",
    "type": "Note",
    "summary": None,
    "inReplyTo": "https://gts.example/users/bob/statuses/01HX",
    "published": "2024-05-01T10:00:00Z",
    "url": "https://mastodon.example/@alice/1",
    "attributedTo": "https://mastodon.example/users/alice",
    "to": [PUBLIC],
    "cc": ["https://mastodon.example/users/alice/followers", "https://gts.example/users/bob"],
    "sensitive": False,
    "content": "<p>Hi <span class='h-card'>@bob</span> :blobcat: #Cercle</p>",
    "contentMap": {"en": "<p>Hi @bob :blobcat: #Cercle</p>"},
    "attachment": [
        {
            "type": "Document",
            "mediaType": "image/jpeg",
            "url": "https://files.mastodon.example/media/1.jpg",
            "name": "A cat on a keyboard",
            "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
            "focalPoint": [-0.5, 0.25],
            "width": 1200,
            "height": 800,
        }
    ],
    "tag": [
        {"type": "Mention", "href": "https://gts.example/users/bob", "name": "@bob@gts.example"},
        {"type": "Hashtag", "href": "https://mastodon.example/tags/cercle", "name": "#Cercle"},
        {
            "id": "https://mastodon.example/emojis/42",
            "type": "Emoji",
            "name": ":blobcat:",
            "updated": "2023-01-01T00:00:00Z",
            "icon": {
                "type": "Image",
                "mediaType": "image/png",
                "url": "https://files.mastodon.example/e/blobcat.png",
            },
        },
    ],
}

MASTODON_CREATE: dict[str, Any] = {
    "@context": [
        AS,
        {
            "ostatus": "http://ostatus.org#",
            "sensitive": "as:sensitive",
            "toot": "http://joinmastodon.org/ns#",
        },
    ],
    "id": "https://mastodon.example/users/alice/statuses/1/activity",
    "type": "Create",
    "actor": "https://mastodon.example/users/alice",
    "published": "2024-05-01T10:00:00Z",
    "to": [PUBLIC],
    "cc": ["https://mastodon.example/users/alice/followers"],
    "object": MASTODON_NOTE,
}


# --- activities -----------------------------------------------------------------------------


def test_mastodon_create_parses() -> None:
    """A Mastodon Create(Note) gives a typed activity whose object parses as a Note."""
    activity = parse_activity(MASTODON_CREATE)
    assert activity.type == "Create"
    assert activity.actor == "https://mastodon.example/users/alice"
    assert activity.object_id == MASTODON_NOTE["id"]
    assert activity.to == (PUBLIC,)
    assert activity.published == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert isinstance(activity.object, dict)
    assert parse_object(activity.object).type == "Note"


@pytest.mark.parametrize(
    "actor",
    [
        "https://gts.example/users/bob",
        {"id": "https://gts.example/users/bob", "type": "Person"},
        ["https://gts.example/users/bob"],
        [{"id": "https://gts.example/users/bob"}],
    ],
)
def test_actor_shapes_are_normalised(actor: Any) -> None:
    """A string, an object with an id, or a one-element list all name the same actor."""
    follow = {
        "@context": AS,
        "id": "https://gts.example/users/bob/follow/01HX",
        "type": "Follow",
        "actor": actor,
        "object": "https://c.example/users/alice",
    }
    activity = parse_activity(follow)
    assert activity.actor == "https://gts.example/users/bob"
    assert activity.object == "https://c.example/users/alice"


def test_addressing_accepts_objects_strings_and_lists() -> None:
    """to/cc/audience come back as tuples of ids whatever shape they were sent in."""
    activity = parse_activity(
        {
            "id": "https://lemmy.example/activities/like/1",
            "type": "Like",
            "actor": "https://lemmy.example/u/bob",
            "object": "https://c.example/notes/1",
            "to": PUBLIC,
            "cc": [
                {"id": "https://lemmy.example/c/tech/followers"},
                "https://lemmy.example/c/tech/followers",
            ],
            "audience": "https://lemmy.example/c/tech",
        }
    )
    assert activity.to == (PUBLIC,)
    assert activity.cc == ("https://lemmy.example/c/tech/followers",)
    assert activity.audience == ("https://lemmy.example/c/tech",)


def test_lemmy_announce_of_page() -> None:
    """Lemmy communities announce a Create(Page) with audience and a list-valued attributedTo."""
    page = {
        "type": "Page",
        "id": "https://lemmy.example/post/7",
        "attributedTo": [
            {"type": "Person", "id": "https://lemmy.example/u/bob"},
            {"type": "Group", "id": "https://lemmy.example/c/tech"},
        ],
        "to": ["https://lemmy.example/c/tech", PUBLIC],
        "name": "Cercle 1.0 released",
        "cc": [],
        "content": "<p>Details inside</p>",
        "mediaType": "text/html",
        "attachment": [
            {
                "href": "https://blog.example/cercle-1-0",
                "mediaType": "text/html; charset=utf-8",
                "type": "Link",
            }
        ],
        "sensitive": False,
        "language": {"identifier": "en", "name": "English"},
        "audience": "https://lemmy.example/c/tech",
        "published": "2024-05-01T10:00:00.123456+00:00",
    }
    announce = {
        "@context": ["https://join-lemmy.org/context.json", AS],
        "actor": "https://lemmy.example/c/tech",
        "to": [PUBLIC],
        "object": {
            "id": "https://lemmy.example/activities/create/abc",
            "type": "Create",
            "actor": "https://lemmy.example/u/bob",
            "to": [PUBLIC],
            "object": page,
            "audience": "https://lemmy.example/c/tech",
        },
        "cc": ["https://lemmy.example/c/tech/followers"],
        "type": "Announce",
        "id": "https://lemmy.example/activities/announce/create/def",
    }
    outer = parse_activity(announce)
    inner = parse_activity(outer.object)
    post = parse_object(inner.object)
    assert (outer.type, inner.type, post.type) == ("Announce", "Create", "Page")
    assert post.attributed_to == "https://lemmy.example/u/bob"
    assert post.name == "Cercle 1.0 released"
    assert post.audience == ("https://lemmy.example/c/tech",)
    assert post.attachments == (
        Attachment(
            type="Link",
            url="https://blog.example/cercle-1-0",
            media_type="text/html; charset=utf-8",
        ),
    )
    assert post.published == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (["not", "a", "dict"], "must be a JSON object"),
        ("https://x.example/1", "must be a JSON object"),
        (
            {"id": "https://x.example/1", "type": "Follow", "object": "https://y.example/u"},
            "no actor",
        ),
        (
            {"type": "Follow", "actor": "https://x.example/u", "object": "https://y.example/u"},
            "activity id is missing",
        ),
        (
            {"id": "/follows/1", "type": "Follow", "actor": "https://x.example/u"},
            "absolute http(s) URL",
        ),
        (
            {"id": "urn:uuid:1234", "type": "Follow", "actor": "https://x.example/u"},
            "absolute http(s) URL",
        ),
        (
            {"id": "https://x.example/1", "type": "Teleport", "actor": "https://x.example/u"},
            "unsupported activity type 'Teleport'",
        ),
        ({"id": "https://x.example/1", "actor": "https://x.example/u"}, "no type"),
        (
            {
                "id": "https://x.example/1",
                "type": "Like",
                "actor": ["https://a.example/u", "https://b.example/u"],
            },
            "several actors",
        ),
        (
            {"id": "https://x.example/1", "type": "Like", "actor": "/users/me"},
            "activity actor must be",
        ),
        (
            {"id": "https://x.example/1", "type": "Like", "actor": {"type": "Person"}},
            "actor has no id",
        ),
    ],
)
def test_parse_activity_rejects_with_reason(doc: Any, reason: str) -> None:
    """Malformed activities are refused with a reason the inbox can return as is."""
    with pytest.raises(ValidationError) as caught:
        parse_activity(doc)
    assert reason in caught.value.reason


def test_activity_type_list_picks_known_type() -> None:
    """A type list (extension first) still finds the ActivityStreams type."""
    doc = {
        "id": "https://x.example/1",
        "type": ["litepub:Thing", "Announce"],
        "actor": "https://x.example/u",
    }
    assert parse_activity(doc).type == "Announce"


def test_fedify_activity_with_proof_parses() -> None:
    """Fedify's FEP-8b32 shape (data-integrity context, proof) parses; proof stays in raw."""
    doc = {
        "@context": [AS, "https://w3id.org/security/data-integrity/v1"],
        "id": "https://hollo.example/@alice/01J/activity",
        "type": "Update",
        "actor": "https://hollo.example/@alice",
        "object": {"id": "https://hollo.example/@alice/01J", "type": "Note", "content": "edited"},
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "proofValue": "z"},
    }
    activity = parse_activity(doc)
    assert activity.type == "Update"
    assert "proof" in activity.raw


# --- objects --------------------------------------------------------------------------------


def test_mastodon_note_fields() -> None:
    """Every field a Mastodon Note carries comes out typed."""
    note = parse_object(MASTODON_NOTE)
    assert note.content.startswith("<p>Hi")
    assert note.content_map == {"en": "<p>Hi @bob :blobcat: #Cercle</p>"}
    assert note.summary is None and note.sensitive is False
    assert note.in_reply_to == "https://gts.example/users/bob/statuses/01HX"
    assert note.url == "https://mastodon.example/@alice/1"
    assert note.mentions == (Mention("https://gts.example/users/bob", "@bob@gts.example"),)
    assert note.hashtags == ("Cercle",)
    assert note.emojis[0].shortcode == "blobcat"
    assert note.emojis[0].url == "https://files.mastodon.example/e/blobcat.png"
    assert note.attachments == (
        Attachment(
            type="Document",
            url="https://files.mastodon.example/media/1.jpg",
            media_type="image/jpeg",
            name="A cat on a keyboard",
            blurhash="UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
            width=1200,
            height=800,
            focal_point=(-0.5, 0.25),
        ),
    )


def test_content_falls_back_to_content_map() -> None:
    """Pleroma-style documents with only contentMap still have content."""
    doc = {**MASTODON_NOTE, "contentMap": {"fr": "<p>Bonjour</p>"}}
    del doc["content"]
    assert parse_object(doc).content == "<p>Bonjour</p>"
    assert parse_object({"id": "https://x.example/n", "type": "Note"}).content == ""


def test_misskey_quote_and_private_fields() -> None:
    """Misskey's quote lands in quote_url; _misskey_content and source stay in raw only."""
    doc = {
        "id": "https://misskey.example/notes/9abc",
        "type": "Note",
        "attributedTo": "https://misskey.example/users/9xyz",
        "content": "<p>look at this</p>",
        "_misskey_content": "look at this",
        "source": {"content": "look at this", "mediaType": "text/x.misskeymarkdown"},
        "_misskey_quote": "https://mastodon.example/users/alice/statuses/1",
        "quoteUrl": "https://mastodon.example/users/alice/statuses/1",
        "published": "2024-05-01T10:00:00.123Z",
        "to": [PUBLIC],
        "sensitive": False,
    }
    note = parse_object(doc)
    assert note.quote_url == "https://mastodon.example/users/alice/statuses/1"
    assert note.content == "<p>look at this</p>"
    assert note.raw["_misskey_content"] == "look at this"


@pytest.mark.parametrize("key", ["quoteUrl", "quoteUri", "_misskey_quote", "quote"])
def test_each_quote_spelling(key: str) -> None:
    """Pleroma (quoteUrl), Fedibird (quoteUri), Misskey and FEP-044f (quote) are all read."""
    doc = {"id": "https://x.example/n/1", "type": "Note", key: "https://y.example/n/2"}
    assert parse_object(doc).quote_url == "https://y.example/n/2"


def test_question_poll() -> None:
    """A Mastodon poll: options with vote counts, end time, voters."""
    question = {
        "id": "https://mastodon.example/users/alice/statuses/2",
        "type": "Question",
        "content": "<p>Lunch?</p>",
        "endTime": "2024-05-02T10:00:00Z",
        "votersCount": 7,
        "anyOf": [
            {"type": "Note", "name": "Pizza", "replies": {"type": "Collection", "totalItems": 4}},
            {"type": "Note", "name": "Salad", "replies": {"type": "Collection", "totalItems": 5}},
        ],
    }
    poll = parse_object(question).poll
    assert poll is not None
    assert poll.multiple is True
    assert poll.options == (PollOption("Pizza", 4), PollOption("Salad", 5))
    assert poll.end_time == datetime(2024, 5, 2, 10, tzinfo=UTC)
    assert poll.voters_count == 7 and poll.closed is False
    closed = parse_object({**question, "closed": "2024-05-02T10:00:00Z"}).poll
    assert closed is not None and closed.closed and closed.closed_at is not None


def test_location_place() -> None:
    """A location becomes a Place with coordinates."""
    doc = {
        "id": "https://x.example/n/3",
        "type": "Note",
        "location": {
            "type": "Place",
            "name": "HQ",
            "latitude": 48.85,
            "longitude": 2.35,
            "radius": 100,
            "units": "m",
        },
    }
    assert parse_object(doc).location == Place("HQ", 48.85, 2.35, 100.0, "m")


def test_tombstone_parses() -> None:
    """A Tombstone needs only an id and a type."""
    tomb = parse_object({"id": "https://x.example/n/4", "type": "Tombstone", "formerType": "Note"})
    assert tomb.is_tombstone and tomb.id == "https://x.example/n/4"


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (None, "must be a JSON object"),
        ({"id": "https://x.example/n", "type": "Person"}, "unsupported object type 'Person'"),
        ({"type": "Note", "content": "no id"}, "object id is missing"),
        ({"id": "note-1", "type": "Note"}, "absolute http(s) URL"),
    ],
)
def test_parse_object_rejects_with_reason(doc: Any, reason: str) -> None:
    """Malformed objects are refused with a clear reason."""
    with pytest.raises(ValidationError) as caught:
        parse_object(doc)
    assert reason in caught.value.reason


def test_url_prefers_html_link() -> None:
    """PeerTube lists several url Links; the HTML page wins."""
    doc = {
        "id": "https://tube.example/videos/watch/1",
        "type": "Video",
        "url": [
            {"type": "Link", "mediaType": "video/mp4", "href": "https://tube.example/1.mp4"},
            {"type": "Link", "mediaType": "text/html", "href": "https://tube.example/w/1"},
        ],
    }
    assert parse_object(doc).url == "https://tube.example/w/1"


# --- actors ---------------------------------------------------------------------------------

MASTODON_ACTOR: dict[str, Any] = {
    "@context": [
        AS,
        "https://w3id.org/security/v1",
        {
            "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            "toot": "http://joinmastodon.org/ns#",
            "featured": {"@id": "toot:featured", "@type": "@id"},
            "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
            "movedTo": {"@id": "as:movedTo", "@type": "@id"},
            "schema": "http://schema.org#",
            "PropertyValue": "schema:PropertyValue",
            "value": "schema:value",
            "discoverable": "toot:discoverable",
        },
    ],
    "id": "https://mastodon.example/users/alice",
    "type": "Person",
    "following": "https://mastodon.example/users/alice/following",
    "followers": "https://mastodon.example/users/alice/followers",
    "inbox": "https://mastodon.example/users/alice/inbox",
    "outbox": "https://mastodon.example/users/alice/outbox",
    "featured": "https://mastodon.example/users/alice/collections/featured",
    "preferredUsername": "alice",
    "name": "Alice",
    "summary": "<p>Engineer</p>",
    "url": "https://mastodon.example/@alice",
    "manuallyApprovesFollowers": False,
    "discoverable": True,
    "published": "2022-05-11T00:00:00Z",
    "alsoKnownAs": ["https://old.example/users/alice"],
    "publicKey": {
        "id": "https://mastodon.example/users/alice#main-key",
        "owner": "https://mastodon.example/users/alice",
        "publicKeyPem": PEM,
    },
    "attachment": [
        {
            "type": "PropertyValue",
            "name": "Site",
            "value": "<a href='https://alice.example'>alice.example</a>",
        }
    ],
    "endpoints": {"sharedInbox": "https://mastodon.example/inbox"},
    "icon": {
        "type": "Image",
        "mediaType": "image/png",
        "url": "https://files.mastodon.example/a.png",
    },
    "image": {
        "type": "Image",
        "mediaType": "image/png",
        "url": "https://files.mastodon.example/h.png",
    },
}


def test_mastodon_actor() -> None:
    """Mastodon's Person: keys, endpoints, images, profile fields."""
    actor = parse_actor(MASTODON_ACTOR)
    assert (actor.type, actor.preferred_username, actor.name) == ("Person", "alice", "Alice")
    assert actor.inbox == "https://mastodon.example/users/alice/inbox"
    assert actor.shared_inbox == "https://mastodon.example/inbox"
    assert actor.public_keys[0].id == "https://mastodon.example/users/alice#main-key"
    assert actor.public_key("https://mastodon.example/users/alice#main-key") is not None
    assert actor.icon_url == "https://files.mastodon.example/a.png"
    assert actor.header_url == "https://files.mastodon.example/h.png"
    assert actor.fields[0].name == "Site"
    assert actor.discoverable is True and actor.manually_approves_followers is False
    assert actor.also_known_as == ("https://old.example/users/alice",)
    assert actor.featured == "https://mastodon.example/users/alice/collections/featured"


def test_gotosocial_actor() -> None:
    """GoToSocial lists security v1 first and locks accounts by default."""
    doc = {
        "@context": [
            "https://w3id.org/security/v1",
            AS,
            {
                "discoverable": "toot:discoverable",
                "toot": "http://joinmastodon.org/ns#",
                "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
            },
        ],
        "id": "https://gts.example/users/bob",
        "type": "Person",
        "preferredUsername": "bob",
        "inbox": "https://gts.example/users/bob/inbox",
        "outbox": "https://gts.example/users/bob/outbox",
        "followers": "https://gts.example/users/bob/followers",
        "following": "https://gts.example/users/bob/following",
        "featured": "https://gts.example/users/bob/collections/featured",
        "manuallyApprovesFollowers": True,
        "discoverable": False,
        "publicKey": {
            "id": "https://gts.example/users/bob/main-key",
            "owner": "https://gts.example/users/bob",
            "publicKeyPem": PEM,
        },
        "url": "https://gts.example/@bob",
        "published": "2023-03-01T09:30:00Z",
    }
    actor = parse_actor(doc)
    assert actor.manually_approves_followers is True
    assert actor.public_keys[0].id == "https://gts.example/users/bob/main-key"
    assert actor.shared_inbox is None


def test_misskey_actor_with_vcard_keys() -> None:
    """Misskey sends vcard-prefixed keys and a Service type for bots; both are fine."""
    doc = {
        "@context": [
            AS,
            "https://w3id.org/security/v1",
            {
                "Key": "sec:Key",
                "misskey": "https://misskey-hub.net/ns#",
                "isCat": "misskey:isCat",
                "vcard": "http://www.w3.org/2006/vcard/ns#",
            },
        ],
        "type": "Service",
        "id": "https://misskey.example/users/9xyz",
        "inbox": "https://misskey.example/users/9xyz/inbox",
        "outbox": "https://misskey.example/users/9xyz/outbox",
        "followers": "https://misskey.example/users/9xyz/followers",
        "sharedInbox": "https://misskey.example/inbox",
        "endpoints": {"sharedInbox": "https://misskey.example/inbox"},
        "preferredUsername": "bot",
        "name": None,
        "summary": None,
        "_misskey_summary": None,
        "isCat": False,
        "vcard:bday": "2000-01-01",
        "vcard:Address": "Tokyo",
        "publicKey": {
            "id": "https://misskey.example/users/9xyz#main-key",
            "type": "Key",
            "owner": "https://misskey.example/users/9xyz",
            "publicKeyPem": PEM,
        },
        "icon": None,
        "image": None,
    }
    actor = parse_actor(doc)
    assert (actor.type, actor.name, actor.icon_url) == ("Service", None, None)
    assert actor.shared_inbox == "https://misskey.example/inbox"


def test_lemmy_group_and_person() -> None:
    """Lemmy communities are Groups; its users have list-free, simple documents."""
    context = ["https://join-lemmy.org/context.json", AS]
    group = {
        "@context": context,
        "type": "Group",
        "id": "https://lemmy.example/c/tech",
        "preferredUsername": "tech",
        "inbox": "https://lemmy.example/c/tech/inbox",
        "followers": "https://lemmy.example/c/tech/followers",
        "attributedTo": "https://lemmy.example/c/tech/moderators",
        "postingRestrictedToMods": False,
        "publicKey": {
            "id": "https://lemmy.example/c/tech#main-key",
            "owner": "https://lemmy.example/c/tech",
            "publicKeyPem": PEM,
        },
        "endpoints": {"sharedInbox": "https://lemmy.example/inbox"},
    }
    person = {
        "@context": context,
        "type": "Person",
        "id": "https://lemmy.example/u/bob",
        "preferredUsername": "bob",
        "inbox": "https://lemmy.example/u/bob/inbox",
        "outbox": "https://lemmy.example/u/bob/outbox",
        "matrixUserId": "@bob:matrix.example",
        "publicKey": {
            "id": "https://lemmy.example/u/bob#main-key",
            "owner": "https://lemmy.example/u/bob",
            "publicKeyPem": PEM,
        },
        "published": "2023-06-01T12:00:00.123456+00:00",
    }
    assert parse_actor(group).type == "Group"
    assert parse_actor(person).published == datetime(2023, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_public_key_list_and_multikeys() -> None:
    """publicKey may be a list; FEP-521a Multikeys come from assertionMethod."""
    doc = copy.deepcopy(MASTODON_ACTOR)
    doc["publicKey"] = [
        {"id": "https://mastodon.example/users/alice#main-key", "publicKeyPem": PEM},
        "https://mastodon.example/users/alice#unresolved-key",
    ]
    doc["assertionMethod"] = [
        {
            "id": "https://mastodon.example/users/alice#ed25519-key",
            "type": "Multikey",
            "controller": "https://mastodon.example/users/alice",
            "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        }
    ]
    doc["movedTo"] = "https://new.example/users/alice"
    actor = parse_actor(doc)
    assert len(actor.public_keys) == 1
    assert actor.public_keys[0].owner == "https://mastodon.example/users/alice"
    key = actor.multikey("https://mastodon.example/users/alice#ed25519-key")
    assert key is not None and key.public_key_multibase.startswith("z6Mk")
    assert actor.moved_to == "https://new.example/users/alice"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"type": "Note"}, "unsupported actor type 'Note'"),
        ({"inbox": None}, "actor inbox is missing"),
        ({"inbox": "/inbox"}, "actor inbox must be"),
        ({"id": "alice"}, "actor id must be"),
    ],
)
def test_parse_actor_rejects_with_reason(changes: dict[str, Any], reason: str) -> None:
    """An actor without a usable id, inbox or actor type is refused."""
    with pytest.raises(ValidationError) as caught:
        parse_actor({**MASTODON_ACTOR, **changes})
    assert reason in caught.value.reason


# --- small readers --------------------------------------------------------------------------


@pytest.mark.parametrize("address", [PUBLIC, "as:Public", "Public"])
def test_public_spellings(address: str) -> None:
    """The public collection is recognised however it was compacted."""
    assert is_public(address)


def test_not_public() -> None:
    assert not is_public("https://mastodon.example/users/alice/followers")
    assert not is_public(None)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01T10:00:00Z",
        "2024-05-01T12:00:00+02:00",
        "2024-05-01T10:00:00.000Z",
        "2024-05-01T10:00:00.000000000Z",
        "2024-05-01t10:00:00z",
        "2024-05-01T10:00:00",
    ],
)
def test_datetime_tolerance(value: str) -> None:
    """Z, offsets, fractional seconds of any length and naive times all parse to UTC."""
    assert parse_datetime(value) == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_bad_datetime_reads_as_absent() -> None:
    assert parse_datetime("yesterday") is None
    assert parse_datetime(1714557600) is None
