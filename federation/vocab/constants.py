"""ActivityStreams names Cercle recognises, and the public collection."""

from __future__ import annotations

from typing import Final

PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"

#: The spellings of the public collection seen in the wild: the full IRI, its compacted form
#: (what JSON-LD compaction produces) and the bare term.
_PUBLIC_SPELLINGS: Final = frozenset({PUBLIC, "as:Public", "Public"})

#: Activity types accepted by :func:`federation.vocab.parse_activity`: the ActivityStreams
#: vocabulary plus extensions that Pleroma/Misskey (EmojiReact), Mastodon/FEP-044f
#: (QuoteRequest), GoToSocial (LikeRequest, ReplyRequest, AnnounceRequest) and Lemmy (Lock)
#: send. Whether an inbox *does* something with a type is node/'s business.
ACTIVITY_TYPES: Final = frozenset(
    {
        "Accept",
        "Add",
        "Announce",
        "Arrive",
        "Block",
        "Create",
        "Delete",
        "Dislike",
        "Flag",
        "Follow",
        "Ignore",
        "Invite",
        "Join",
        "Leave",
        "Like",
        "Listen",
        "Move",
        "Offer",
        "Read",
        "Reject",
        "Remove",
        "TentativeAccept",
        "TentativeReject",
        "Travel",
        "Undo",
        "Update",
        "View",
        "EmojiReact",
        "QuoteRequest",
        "LikeRequest",
        "ReplyRequest",
        "AnnounceRequest",
        "Lock",
    }
)

ACTOR_TYPES: Final = frozenset({"Person", "Service", "Application", "Group", "Organization"})

#: Content object types accepted by :func:`federation.vocab.parse_object` (ChatMessage is
#: Pleroma's direct-chat type).
OBJECT_TYPES: Final = frozenset(
    {
        "Note",
        "Article",
        "Question",
        "Page",
        "Image",
        "Video",
        "Audio",
        "Document",
        "Event",
        "Place",
        "Tombstone",
        "ChatMessage",
    }
)


def is_public(address: object) -> bool:
    """True when ``address`` names the public collection, in any of its usual spellings."""
    return isinstance(address, str) and address in _PUBLIC_SPELLINGS
