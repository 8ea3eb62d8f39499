"""ActivityStreams vocabulary: incoming JSON parsed into typed, validated, frozen values.

``parse_activity``, ``parse_object`` and ``parse_actor`` accept what Mastodon, Misskey,
GoToSocial, Pleroma/Akkoma, Lemmy and Fedify send, normalise the many shapes a property can
take (a string, an object with an id, a list) and raise
:class:`federation.errors.ValidationError` with a readable reason on malformed input. A
document with unusual JSON-LD compaction is first compacted by
:func:`federation.jsonld.normalize`; the common case never touches pyld.

Outgoing documents are built by the application; only the ``@context`` values we send live
here (re-exported from :mod:`federation.jsonld`).
"""

from federation.jsonld import ACTOR_CONTEXT, AS_CONTEXT, MASTODON_TERMS
from federation.vocab.activity import Activity, parse_activity
from federation.vocab.actor import (
    ActorDocument,
    MultikeyRef,
    ProfileField,
    PublicKeyRef,
    parse_actor,
)
from federation.vocab.constants import (
    ACTIVITY_TYPES,
    ACTOR_TYPES,
    OBJECT_TYPES,
    PUBLIC,
    is_public,
)
from federation.vocab.objects import (
    APObject,
    Attachment,
    Emoji,
    Mention,
    Place,
    Poll,
    PollOption,
    parse_object,
)
from federation.vocab.values import is_absolute_http_url, parse_datetime

__all__ = [
    "ACTIVITY_TYPES",
    "ACTOR_CONTEXT",
    "ACTOR_TYPES",
    "AS_CONTEXT",
    "MASTODON_TERMS",
    "OBJECT_TYPES",
    "PUBLIC",
    "APObject",
    "Activity",
    "ActorDocument",
    "Attachment",
    "Emoji",
    "Mention",
    "MultikeyRef",
    "Place",
    "Poll",
    "PollOption",
    "ProfileField",
    "PublicKeyRef",
    "is_absolute_http_url",
    "is_public",
    "parse_activity",
    "parse_actor",
    "parse_datetime",
    "parse_object",
]
