"""Who may see a post, and how a post is addressed: the two pure functions every read
and every delivery path goes through (DESIGN.md section 3).

No I/O here: callers gather the facts (who follows whom, who is mentioned) and pass them
in, so the rules can be tested exhaustively without a server.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from federation.vocab import PUBLIC, is_public

PUBLIC_AUDIENCE = "public"
UNLISTED = "unlisted"
FOLLOWERS = "followers"
ORGANISATION = "organisation"
DIRECT = "direct"

AUDIENCES = (PUBLIC_AUDIENCE, UNLISTED, FOLLOWERS, ORGANISATION, DIRECT)
#: Audiences anyone may read, signed in or not, over any path.
OPEN_AUDIENCES = frozenset({PUBLIC_AUDIENCE, UNLISTED})
#: Audiences that never leave this node.
LOCAL_ONLY_AUDIENCES = frozenset({ORGANISATION})


@dataclass(frozen=True)
class PostFacts:
    audience: str
    author_id: int
    author_local: bool
    mentioned_ids: frozenset[int] = frozenset()
    deleted: bool = False


@dataclass(frozen=True)
class Viewer:
    """The reader: ``actor_id`` None for anonymous; ``following`` the ids of the actors
    the reader follows (accepted follows only)."""

    actor_id: int | None = None
    local: bool = False
    following: frozenset[int] = field(default_factory=frozenset)


ANONYMOUS = Viewer()


def can_see(viewer: Viewer, post: PostFacts) -> bool:
    if post.deleted:
        return False
    if post.audience in OPEN_AUDIENCES:
        return True
    if viewer.actor_id is None:
        return False
    if viewer.actor_id == post.author_id or viewer.actor_id in post.mentioned_ids:
        return True
    if post.audience == FOLLOWERS:
        return post.author_id in viewer.following
    if post.audience == ORGANISATION:
        return viewer.local and post.author_local
    return False


def addressing(
    audience: str, *, followers_url: str, mentioned_uris: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """``(to, cc)`` of an outgoing post, as Mastodon addresses the same visibility."""
    mentioned = list(dict.fromkeys(mentioned_uris))
    if audience == PUBLIC_AUDIENCE:
        return [PUBLIC], [followers_url, *mentioned]
    if audience == UNLISTED:
        return [followers_url], [PUBLIC, *mentioned]
    if audience == FOLLOWERS:
        return [followers_url], mentioned
    if audience == DIRECT:
        return mentioned, []
    if audience == ORGANISATION:
        return [], []
    raise ValueError(f"unknown audience {audience!r}")


def audience_from_addressing(
    to: Iterable[str], cc: Iterable[str], *, followers_url: str | None
) -> str:
    """The audience of a received post, read from its addressing as Mastodon reads it."""
    to_list, cc_list = list(to), list(cc)
    if any(is_public(a) for a in to_list):
        return PUBLIC_AUDIENCE
    if any(is_public(a) for a in cc_list):
        return UNLISTED
    if followers_url and followers_url in to_list + cc_list:
        return FOLLOWERS
    return DIRECT


def is_federated(audience: str) -> bool:
    return audience not in LOCAL_ONLY_AUDIENCES
