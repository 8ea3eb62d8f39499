"""Mastodon entities (Account, Status, Notification, Relationship…) rendered in batches.

A timeline page of 40 statuses is rendered with a fixed number of statements whatever
its size, all sent on one hand-off to the database driver (``node.db.one_hop``):
authors, boosted originals, the viewer's favourites/boosts/bookmarks, mentions, media and
polls are each loaded once for the whole page, as plain records (``node.db.rows``).
Rendering reads posts and accounts by attribute, so ORM objects and records both do.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from node.context import Node
from node.db.models import (
    Actor,
    Bookmark,
    Follow,
    Like,
    MediaAttachment,
    Mention,
    Notification,
    Pin,
    Poll,
    PollVote,
    Post,
    User,
)
from node.db.models.follows import ACCEPTED
from node.db.one_hop import Reads, one_hop
from node.db.rows import (
    ACTORS_WITH_STATS,
    MEDIA_OF,
    POLLS_OF,
    POSTS_BY_ID,
    STATS_OF,
    MediaRow,
    PollRow,
    PostRow,
    actor_with_stats,
    ids_param,
)
from node.db.types import utcnow
from node.moderation.state import add_moderation_fields
from node.places import place_entity

VISIBILITY = {
    "public": "public",
    "unlisted": "unlisted",
    "followers": "private",
    "direct": "direct",
}


def visibility_of(audience: str) -> str:
    """Stock clients know five visibilities; Cercle's other audiences show as limited."""
    return VISIBILITY.get(audience, "limited")


def iso(value: datetime | None) -> str | None:
    """Mastodon's timestamps: UTC, milliseconds, ``Z`` (``2026-11-27T09:30:00.000Z``)."""
    if value is None:
        return None
    if value.tzinfo is UTC:  # what the database hands back: the common case, made cheap
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def plain_text(content: str) -> str:
    """The text of a post's HTML, for edits of posts that have no stored source."""
    text = re.sub(r"<br\s*/?>", "\n", content)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


def _stats(values: Any) -> dict[str, Any]:
    """The counters of one account from a ``STATS_COLUMNS`` row (None: no row, zeros)."""
    followers, following, statuses, last = values or (0, 0, 0, None)
    return {
        "followers": followers or 0,
        "following": following or 0,
        "statuses": statuses or 0,
        "last": last,
    }


@dataclass(frozen=True, slots=True)
class StatusKey:
    """What loading a status's surroundings needs from it, read beforehand so that the
    loading needs nothing from the ORM (it runs on the driver's thread)."""

    id: int
    actor_id: int
    reblog_of_id: int | None
    in_reply_to_id: int | None
    #: a local post with uploads (attaching one also writes ``attachments``)
    has_uploads: bool
    is_question: bool

    @classmethod
    def of(cls, post: Any) -> StatusKey:
        return cls(
            post.id,
            post.actor_id,
            post.reblog_of_id,
            post.in_reply_to_id,
            bool(post.local and post.attachments),
            post.type == "Question",
        )


def _page_facts_query() -> Any:
    """``(kind, post id, value)`` rows for everything a page needs to know about its posts
    besides the posts: who each mentions (value: the account id), and what the viewer did
    to them — favourited, boosted, bookmarked, pinned, voted (value: the choice). One
    UNION ALL instead of six round trips; the boost lookup is served by the
    ``(actor_id, reblog_of_id)`` index. Without a viewer, ``:viewer`` is NULL and only
    mentions come back."""
    viewer = bindparam("viewer")
    none = cast(null(), BigInteger)

    def kind(name: str) -> Any:
        return literal_column(f"'{name}'")

    return union_all(
        select(kind("mention"), Mention.post_id, Mention.actor_id).where(
            Mention.post_id.in_(ids_param())
        ),
        select(kind("fav"), Like.post_id, none).where(
            Like.actor_id == viewer, Like.post_id.in_(ids_param())
        ),
        select(kind("boost"), Post.reblog_of_id, none).where(
            Post.actor_id == viewer, Post.reblog_of_id.in_(ids_param()), Post.deleted_at.is_(None)
        ),
        select(kind("bookmark"), Bookmark.post_id, none).where(
            Bookmark.actor_id == viewer, Bookmark.post_id.in_(ids_param())
        ),
        select(kind("pin"), Pin.post_id, none).where(
            Pin.actor_id == viewer, Pin.post_id.in_(ids_param())
        ),
        select(kind("vote"), PollVote.post_id, PollVote.choice).where(
            PollVote.actor_id == viewer, PollVote.post_id.in_(ids_param())
        ),
    )


PAGE_FACTS = _page_facts_query()


@dataclass
class PageFacts:
    """What ``PAGE_FACTS`` tells about a page's posts, by post id."""

    mentions: dict[int, list[int]] = field(default_factory=dict)
    state: dict[str, set[int]] = field(
        default_factory=lambda: {k: set() for k in ("fav", "boost", "bookmark", "pin")}
    )
    votes: dict[int, list[int]] = field(default_factory=dict)


@dataclass
class Surroundings:
    """What rendering a page of statuses needs besides its posts (``read_statuses``)."""

    #: boosted originals and replied-to posts that are not on the page, by id
    related: dict[int, Any]
    facts: PageFacts
    media: dict[int, list[Any]]
    polls: dict[int, Any]


class Renderer:
    """Renders entities for one request's viewer, loading what they need in batches.

    A timeline page costs a fixed number of statements whatever its size, all on one
    hand-off to the database driver (``read_statuses`` runs in ``one_hop``): the boosted
    originals and replied-to posts, the mentions and the viewer's favourites, boosts,
    bookmarks, pins and votes (one UNION ALL), the authors and mentioned accounts with
    their counters (one join), and media and polls only for pages that have some. Through
    the ORM each statement cost four hand-offs to the SQLite driver's thread and 0.3 to
    0.5 ms before SQLite did any work; now a page's reads cost about one of those.
    """

    def __init__(
        self, node: Node, db: AsyncSession | AsyncConnection, viewer: Actor | None
    ) -> None:
        self.node = node
        self.db = db
        self.viewer = viewer
        self.viewer_id = viewer.id if viewer is not None else None
        # Settings.base_url is computed on each access; it is read for every entity.
        self.base_url = node.settings.base_url
        #: accounts loaded so far (``Actor`` or ``ActorRow``) and their counters
        self._actors: dict[int, Any] = {}
        self._stats: dict[int, dict[str, Any]] = {}

    # --- accounts -----------------------------------------------------------------

    def acct(self, actor: Actor) -> str:
        return actor.username if actor.local else f"{actor.username}@{actor.domain}"

    def avatar(self, actor: Actor) -> str:
        return actor.avatar_url or f"{self.base_url}/static/avatar.png"

    def header(self, actor: Actor) -> str:
        header = (actor.raw or {}).get("image")
        if isinstance(header, dict) and isinstance(header.get("url"), str):
            return header["url"]
        return f"{self.base_url}/static/header.png"

    def read_stats(self, reads: Reads, ids: Iterable[int]) -> None:
        """The counters ``actor_stats`` keeps (counting posts per author here would read
        every post of every author on the page) for the accounts not known yet."""
        missing = [i for i in ids if i not in self._stats]
        if missing:
            for actor_id, *values in reads.all(STATS_OF, {"ids": missing}):
                self._stats[actor_id] = _stats(values)

    def _counts(self, actors: list[Any]) -> dict[int, dict[str, Any]]:
        """Statuses, followers, following and the last post's date for each account
        (``read_stats`` or ``read_actors`` having loaded them)."""
        counts: dict[int, dict[str, Any]] = {}
        for actor in actors:
            counts[actor.id] = dict(self._stats.get(actor.id) or _stats(None))
            if not actor.local and actor.raw:
                # Remote counts are the peer's; we only see what reached us.
                for key, field in (("followers", "followers"), ("following", "following")):
                    total = actor.raw.get(f"{field}Count") or actor.raw.get(f"{field}_count")
                    if isinstance(total, int):
                        counts[actor.id][key] = total
        return counts

    def render_accounts(self, actors: Iterable[Any]) -> list[dict[str, Any]]:
        """Accounts whose counters are loaded already (``read_stats``/``read_actors``)."""
        actor_list = list(actors)
        counts = self._counts(actor_list)
        return [self._account(a, counts[a.id]) for a in actor_list]

    async def accounts(self, actors: Iterable[Actor]) -> list[dict[str, Any]]:
        actor_list = list(actors)
        if any(a.id not in self._stats for a in actor_list):
            ids = [a.id for a in actor_list]
            await one_hop(self.db, lambda reads: self.read_stats(reads, ids))
        rendered = self.render_accounts(actor_list)
        await add_moderation_fields(self, actor_list, rendered)
        return rendered

    async def account(self, actor: Actor) -> dict[str, Any]:
        return (await self.accounts([actor]))[0]

    def _account(self, actor: Actor, counts: dict[str, Any]) -> dict[str, Any]:
        last = counts["last"]
        avatar, header = self.avatar(actor), self.header(actor)
        fields = []
        for item in ((actor.raw or {}).get("attachment") or []) if not actor.local else []:
            if isinstance(item, dict) and item.get("type") == "PropertyValue":
                fields.append(
                    {
                        "name": str(item.get("name", "")),
                        "value": str(item.get("value", "")),
                        "verified_at": None,
                    }
                )
        return {
            "id": str(actor.id),
            "username": actor.username,
            "acct": self.acct(actor),
            "display_name": actor.display_name or "",
            "locked": actor.manually_approves,
            "bot": actor.type in ("Service", "Application"),
            "discoverable": actor.discoverable,
            "indexable": actor.discoverable,
            "group": actor.type == "Group",
            "created_at": iso(actor.created_at),
            "note": actor.summary or "",
            "url": actor.url or actor.uri,
            "uri": actor.uri,
            "avatar": avatar,
            "avatar_static": avatar,
            "header": header,
            "header_static": header,
            "followers_count": counts["followers"],
            "following_count": counts["following"],
            "statuses_count": counts["statuses"],
            "last_status_at": last.date().isoformat() if last else None,
            "hide_collections": False,
            "noindex": not actor.discoverable,
            "emojis": [],
            "roles": [],
            "fields": fields,
        }

    async def credential_account(self, actor: Actor, user: User) -> dict[str, Any]:
        """verify_credentials: the account plus its editable ``source``."""
        account = await self.account(actor)
        account["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": None,
            "note": actor.summary or "",
            "fields": [],
            "follow_requests_count": int(
                await self.db.scalar(
                    select(func.count())
                    .select_from(Follow)
                    .where(Follow.followee_id == actor.id, Follow.state != ACCEPTED)
                )
                or 0
            ),
        }
        account["role"] = {
            "id": "1" if user.is_admin else "0",
            "name": "Admin" if user.is_admin else "",
            "color": "",
            "permissions": "1" if user.is_admin else "0",
            "highlighted": user.is_admin,
        }
        return account

    # --- statuses -----------------------------------------------------------------

    def read_actors(self, reads: Reads, ids: Iterable[int]) -> None:
        """The accounts not loaded yet, with their counters, in one statement."""
        missing = list({i for i in ids if i not in self._actors})
        if missing:
            for row in reads.all(ACTORS_WITH_STATS, {"ids": missing}):
                actor, values = actor_with_stats(row)
                self._actors[actor.id] = actor
                self._stats[actor.id] = _stats(values)

    def _read_page_facts(self, reads: Reads, ids: list[int]) -> PageFacts:
        facts = PageFacts()
        if not ids:
            return facts
        for kind, post_id, value in reads.all(PAGE_FACTS, {"ids": ids, "viewer": self.viewer_id}):
            if kind == "mention":
                facts.mentions.setdefault(post_id, []).append(value)
            elif kind == "vote":
                facts.votes.setdefault(post_id, []).append(value)
            else:
                facts.state[kind].add(post_id)
        return facts

    def _mention(self, actor_id: int) -> dict[str, Any]:
        actor = self._actors[actor_id]
        return {
            "id": str(actor.id),
            "username": actor.username,
            "url": actor.url or actor.uri,
            "acct": self.acct(actor),
        }

    def read_statuses(self, reads: Reads, page: list[StatusKey]) -> Surroundings:
        """Everything rendering ``page`` needs besides its posts, in a fixed number of
        statements: the boosted originals and replied-to posts (and the originals'
        parents), mentions and the viewer's state, the accounts with their counters, and
        media and polls when a post has some. Plain code over ``reads``: it runs in
        ``one_hop``."""
        keys = {k.id: k for k in page}
        wanted = {k.reblog_of_id for k in page if k.reblog_of_id}
        wanted |= {k.in_reply_to_id for k in page if k.in_reply_to_id}
        related = self._read_posts(reads, wanted - keys.keys())
        for post in related.values():
            keys.setdefault(post.id, StatusKey.of(post))
        originals = [keys[k.reblog_of_id] for k in page if k.reblog_of_id in keys]
        # An original's parent is rarely known by then: one more small statement if needed.
        parents_left = {o.in_reply_to_id for o in originals if o.in_reply_to_id}
        related.update(self._read_posts(reads, parents_left - keys.keys()))
        page_ids = {k.id for k in page}
        every = page + [o for o in originals if o.id not in page_ids]
        facts = self._read_page_facts(reads, [k.id for k in every])
        mentioned = [a for people in facts.mentions.values() for a in people]
        self.read_actors(reads, [k.actor_id for k in every] + mentioned)
        # Uploads are attached to local posts only, and attaching one also writes the
        # post's ``attachments``; a poll makes its post a Question. Pages with neither
        # (most of them) skip those two statements.
        media: dict[int, list[Any]] = {}
        with_media = [k.id for k in every if k.has_uploads]
        if with_media:
            for row in reads.all(MEDIA_OF, {"ids": with_media}):
                item = MediaRow(*row)
                media.setdefault(item.post_id or 0, []).append(item)
        questions = [k.id for k in every if k.is_question]
        polls = {}
        if questions:
            polls = {row[0]: PollRow(*row) for row in reads.all(POLLS_OF, {"ids": questions})}
        return Surroundings(related, facts, media, polls)

    @staticmethod
    def _read_posts(reads: Reads, ids: set[int]) -> dict[int, Any]:
        if not ids:
            return {}
        return {row[0]: PostRow(*row) for row in reads.all(POSTS_BY_ID, {"ids": list(ids)})}

    async def statuses(self, posts: Iterable[Any]) -> list[dict[str, Any]]:
        """``posts`` (``Post`` or ``PostRow``) as Mastodon statuses, in order."""
        page = list(posts)
        if not page:
            return []
        keys = [StatusKey.of(p) for p in page]
        around = await one_hop(self.db, lambda reads: self.read_statuses(reads, keys))
        return self.render_statuses(page, around)

    def render_statuses(self, page: list[Any], around: Surroundings) -> list[dict[str, Any]]:
        """``page`` as statuses, given what ``read_statuses`` loaded for it."""
        by_id = dict(around.related)
        by_id.update((p.id, p) for p in page)
        originals = {p.reblog_of_id: by_id[p.reblog_of_id] for p in page if p.reblog_of_id in by_id}
        page_ids = {p.id for p in page}
        every = page + [o for o in originals.values() if o.id not in page_ids]
        parent_authors = {
            p.in_reply_to_id: by_id[p.in_reply_to_id].actor_id
            for p in every
            if p.in_reply_to_id in by_id
        }
        account_list = list({a.id: a for a in (self._actors[p.actor_id] for p in every)}.values())
        accounts = {int(a["id"]): a for a in self.render_accounts(account_list)}
        facts = around.facts
        mentions = {
            post_id: [self._mention(a) for a in people]
            for post_id, people in facts.mentions.items()
        }
        media, polls = around.media, around.polls
        viewer_state, own_votes = facts.state, facts.votes

        def one(post: Any) -> dict[str, Any]:
            author = accounts[post.actor_id]
            return self._status(
                post,
                author,
                mentions=mentions.get(post.id, []),
                media=media.get(post.id, []),
                poll=polls.get(post.id),
                own_votes=own_votes.get(post.id),
                parent_author=parent_authors.get(post.in_reply_to_id)
                if post.in_reply_to_id
                else None,
                state=viewer_state,
            )

        rendered = []
        for post in page:
            item = one(post)
            if post.reblog_of_id and post.reblog_of_id in originals:
                item["reblog"] = one(originals[post.reblog_of_id])
            rendered.append(item)
        return rendered

    async def status(self, post: Post) -> dict[str, Any]:
        return (await self.statuses([post]))[0]

    def _media(self, item: MediaAttachment) -> dict[str, Any]:
        base = f"{self.base_url}/media"
        meta: dict[str, Any] = {}
        if item.width and item.height:
            meta["original"] = {
                "width": item.width,
                "height": item.height,
                "size": f"{item.width}x{item.height}",
                "aspect": item.width / item.height,
            }
        if item.focus_x is not None and item.focus_y is not None:
            meta["focus"] = {"x": item.focus_x, "y": item.focus_y}
        return {
            "id": str(item.id),
            "type": item.type,
            "url": f"{base}/{item.file_name}",
            "preview_url": f"{base}/{item.thumbnail_name or item.file_name}",
            "remote_url": None,
            "meta": meta,
            "description": item.description,
            "blurhash": item.blurhash,
        }

    def _remote_media(self, index: int, post: Post, item: dict[str, Any]) -> dict[str, Any]:
        media_type = str(item.get("media_type") or item.get("mediaType") or "")
        kind = (
            "image"
            if media_type.startswith("image/")
            else "video"
            if media_type.startswith("video/")
            else "audio"
            if media_type.startswith("audio/")
            else "unknown"
        )
        if kind == "image" and media_type == "image/gif":
            kind = "gifv"
        meta = {}
        if item.get("width") and item.get("height"):
            meta["original"] = {"width": item["width"], "height": item["height"]}
        return {
            "id": f"{post.id}{index:02d}",
            "type": kind,
            "url": item.get("url"),
            "preview_url": item.get("url"),
            "remote_url": item.get("url"),
            "meta": meta,
            "description": item.get("name"),
            "blurhash": item.get("blurhash"),
        }

    def _poll(self, poll: Poll, own: list[int] | None) -> dict[str, Any]:
        expired = poll.expires_at is not None and poll.expires_at <= utcnow()
        votes = sum(int(o.get("votes_count", 0)) for o in poll.options)
        return {
            "id": str(poll.post_id),
            "expires_at": iso(poll.expires_at),
            "expired": expired,
            "multiple": poll.multiple,
            "votes_count": votes,
            "voters_count": poll.voters_count if poll.multiple else None,
            "options": [
                {"title": o["title"], "votes_count": int(o.get("votes_count", 0))}
                for o in poll.options
            ],
            "emojis": [],
            "voted": own is not None,
            "own_votes": sorted(own or []),
        }

    def _status(
        self,
        post: Post,
        account: dict[str, Any],
        *,
        mentions: list[dict[str, Any]],
        media: list[MediaAttachment],
        poll: Poll | None,
        own_votes: list[int] | None,
        parent_author: int | None,
        state: dict[str, set[int]],
    ) -> dict[str, Any]:
        tags = [
            {
                "name": t["name"].lstrip("#"),
                "url": f"{self.base_url}/tags/{t['name'].lstrip('#').lower()}",
            }
            for t in post.tags
            if t.get("type") == "Hashtag" and t.get("name")
        ]
        attachments = [self._media(m) for m in media] or [
            self._remote_media(i, post, a) for i, a in enumerate(post.attachments)
        ]
        is_boost = post.reblog_of_id is not None
        return {
            "id": str(post.id),
            "uri": post.uri,
            "url": (post.url or post.uri) if not is_boost else None,
            "created_at": iso(post.published),
            "edited_at": iso(post.edited_at),
            "account": account,
            "content": "" if is_boost else post.content,
            "text": post.source if self.viewer_id == post.actor_id else None,
            "visibility": visibility_of(post.audience),
            "audience": post.audience,
            "sensitive": post.sensitive,
            "spoiler_text": post.summary or "",
            "media_attachments": attachments,
            "application": None,
            "mentions": mentions,
            "tags": tags,
            "emojis": [],
            "reblogs_count": post.reblogs_count,
            "favourites_count": post.likes_count,
            "replies_count": post.replies_count,
            "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
            "in_reply_to_account_id": str(parent_author) if parent_author else None,
            "reblog": None,
            "poll": self._poll(poll, own_votes) if poll else None,
            "card": None,
            "language": post.language,
            "favourited": post.id in state["fav"],
            "reblogged": post.id in state["boost"],
            "muted": False,
            "bookmarked": post.id in state["bookmark"],
            "pinned": post.id in state["pin"],
            "filtered": [],
            "place": place_entity(post.place),
        }

    # --- notifications ------------------------------------------------------------

    async def notifications(self, rows: Iterable[Notification]) -> list[dict[str, Any]]:
        items = list(rows)
        actor_ids = [n.from_actor_id for n in items]
        post_ids = {n.post_id for n in items if n.post_id}

        def read(reads: Reads) -> tuple[list[Any], Surroundings]:
            """The senders and the posts, and what rendering those posts needs."""
            self.read_actors(reads, actor_ids)
            posts = list(self._read_posts(reads, post_ids).values())
            return posts, self.read_statuses(reads, [StatusKey.of(p) for p in posts])

        posts, around = await one_hop(self.db, read)
        senders = {self._actors[i].id: self._actors[i] for i in actor_ids}
        accounts = {int(a["id"]): a for a in self.render_accounts(senders.values())}
        statuses = {int(s["id"]): s for s in self.render_statuses(posts, around)} if posts else {}
        return [
            {
                "id": str(n.id),
                "type": n.type,
                "created_at": iso(n.created_at),
                "group_key": f"ungrouped-{n.id}",
                "account": accounts[n.from_actor_id],
                "status": statuses.get(n.post_id) if n.post_id else None,
            }
            for n in items
        ]
