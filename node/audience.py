"""Who may see a post, and how a post is addressed: the two pure functions every read
and every delivery path goes through (DESIGN.md section 3).

No I/O here: callers gather the facts (who follows whom, who the post was for, which
domains are partners, which groups the reader belongs to) and pass them in, so the rules
can be tested exhaustively without a server.

| audience     | who may see it                                       |
|--------------|------------------------------------------------------|
| public       | anyone                                               |
| unlisted     | anyone (kept out of public timelines)                |
| followers    | the author's accepted followers                      |
| organisation | accounts of the author's node                        |
| partners     | accounts of the author's node and of partner nodes   |
| circle       | the people in the chosen circles when it was posted  |
| group        | the group's members (anyone, for a public group)     |
| direct       | the mentioned people                                 |

The author and the people mentioned always see a post.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from federation.vocab import PUBLIC, is_public

PUBLIC_AUDIENCE = "public"
UNLISTED = "unlisted"
FOLLOWERS = "followers"
ORGANISATION = "organisation"
PARTNERS = "partners"
CIRCLE = "circle"
GROUP = "group"
DIRECT = "direct"

AUDIENCES = (PUBLIC_AUDIENCE, UNLISTED, FOLLOWERS, ORGANISATION, PARTNERS, CIRCLE, GROUP, DIRECT)
#: Audiences anyone may read, signed in or not, over any path.
OPEN_AUDIENCES = frozenset({PUBLIC_AUDIENCE, UNLISTED})
#: Audiences that never leave this node.
LOCAL_ONLY_AUDIENCES = frozenset({ORGANISATION})
#: Audiences whose readers are a fixed list of people (``PostFacts.recipient_ids``).
LISTED_AUDIENCES = frozenset({CIRCLE, DIRECT})


@dataclass(frozen=True)
class PostFacts:
    audience: str
    author_id: int
    author_local: bool
    mentioned_ids: frozenset[int] = frozenset()
    deleted: bool = False
    #: circle posts: the people it was for (sent to, or received as an addressee here)
    recipient_ids: frozenset[int] = frozenset()
    #: the author's server (``host[:port]``), for the partners audience
    author_domain: str = ""
    #: partners posts: the domains that are partners of the author's node
    partner_domains: frozenset[str] = frozenset()
    #: group posts: the group actor, and whether the group shows its posts to anyone
    group_id: int | None = None
    group_public: bool = False


@dataclass(frozen=True)
class Viewer:
    """The reader: ``actor_id`` None for anonymous; ``following`` the ids of the actors
    the reader follows (accepted); ``groups`` the groups it is an accepted member of."""

    actor_id: int | None = None
    local: bool = False
    domain: str = ""
    following: frozenset[int] = field(default_factory=frozenset)
    groups: frozenset[int] = field(default_factory=frozenset)


ANONYMOUS = Viewer()


def can_see(viewer: Viewer, post: PostFacts) -> bool:
    if post.deleted:
        return False
    if post.audience in OPEN_AUDIENCES:
        return True
    if post.audience == GROUP and post.group_public:
        return True
    if viewer.actor_id is None:
        return False
    if viewer.actor_id == post.author_id or viewer.actor_id in post.mentioned_ids:
        return True
    if post.audience == FOLLOWERS:
        return post.author_id in viewer.following
    if post.audience == ORGANISATION:
        return post.author_local and viewer.local
    if post.audience == PARTNERS:
        # Our own firm's posts, and partners' posts delivered to our firm (stored here as
        # partners posts only when their sender is an active partner).
        if viewer.local:
            return True
        return bool(viewer.domain) and (
            viewer.domain == post.author_domain or viewer.domain in post.partner_domains
        )
    if post.audience == CIRCLE:
        return viewer.actor_id in post.recipient_ids
    if post.audience == GROUP:
        return post.group_id is not None and post.group_id in viewer.groups
    return False


def addressing(
    audience: str,
    *,
    followers_url: str,
    mentioned_uris: Iterable[str] = (),
    partner_org_uris: Iterable[str] = (),
    group_uri: str | None = None,
    group_public: bool = False,
) -> tuple[list[str], list[str]]:
    """``(to, cc)`` of an outgoing post, as Mastodon addresses the same visibility.

    Circle posts name none of their recipients (they go to each one's personal inbox);
    organisation posts are never federated, so they are addressed to nobody. A post in a
    public group is also addressed to the public, so that servers that know nothing of
    groups (Mastodon) show the group's boost of it.
    """
    mentioned = list(dict.fromkeys(mentioned_uris))
    if audience == PUBLIC_AUDIENCE:
        return [PUBLIC], [followers_url, *mentioned]
    if audience == UNLISTED:
        return [followers_url], [PUBLIC, *mentioned]
    if audience == FOLLOWERS:
        return [followers_url], mentioned
    if audience in (DIRECT, CIRCLE):
        return mentioned, []
    if audience == ORGANISATION:
        return [], []
    if audience == PARTNERS:
        return list(dict.fromkeys(partner_org_uris)), mentioned
    if audience == GROUP:
        if group_uri is None:
            raise ValueError("a group post needs its group")
        return [group_uri], [PUBLIC, *mentioned] if group_public else mentioned
    raise ValueError(f"unknown audience {audience!r}")


def audience_from_addressing(
    to: Iterable[str],
    cc: Iterable[str],
    *,
    followers_url: str | None,
    local_org_uri: str | None = None,
    group_uris: Iterable[str] = (),
    audience_field: Iterable[str] = (),
) -> str:
    """The audience of a received post, read from its addressing.

    ``local_org_uri`` is our Organization actor: a post addressed to it comes from a
    partner firm (Cercle's partners audience). ``group_uris`` are the known Group actors
    among the addressees, ``audience_field`` the post's AS2 ``audience`` (FEP-1b12).
    """
    to_list, cc_list = list(to), list(cc)
    everyone = to_list + cc_list
    groups = set(group_uris)
    if groups and (groups & set(to_list) or groups & set(audience_field)):
        return GROUP
    if any(is_public(a) for a in to_list):
        return PUBLIC_AUDIENCE
    if any(is_public(a) for a in cc_list):
        return UNLISTED
    if groups & set(cc_list):
        return GROUP
    if followers_url and followers_url in everyone:
        return FOLLOWERS
    if local_org_uri and local_org_uri in everyone:
        return PARTNERS
    return DIRECT


def is_federated(audience: str) -> bool:
    return audience not in LOCAL_ONLY_AUDIENCES
