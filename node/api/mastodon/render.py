"""Mastodon entities (Account, Status, Notification, Relationship…) rendered in batches.

A timeline page of 40 statuses is rendered with a fixed number of queries whatever its
size: authors, boosted originals, the viewer's favourites/boosts/bookmarks, mentions,
media and polls are each loaded once for the whole page.
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
    inspect,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from node.context import Node
from node.db.models import (
    Actor,
    ActorStats,
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
from node.db.types import utcnow
from node.timelines import TIMELINE_DEFERRED

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
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def plain_text(content: str) -> str:
    """The text of a post's HTML, for edits of posts that have no stored source."""
    text = re.sub(r"<br\s*/?>", "\n", content)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


STATS_COLUMNS = (
    ActorStats.followers_count,
    ActorStats.following_count,
    ActorStats.statuses_count,
    ActorStats.last_status_at,
)


def _stats(values: Any) -> dict[str, Any]:
    """The counters of one account from a ``STATS_COLUMNS`` row (None: no row, zeros)."""
    followers, following, statuses, last = values or (0, 0, 0, None)
    return {
        "followers": followers or 0,
        "following": following or 0,
        "statuses": statuses or 0,
        "last": last,
    }


def _ids() -> Any:
    """A list of ids bound at execution: the statements below are built once, so a page
    does not pay for building and coercing an IN clause of 40 values per query."""
    return bindparam("ids", expanding=True)


# Boosted originals and replied-to posts, without what rendering never reads.
POSTS_BY_ID = select(Post).options(*TIMELINE_DEFERRED).where(Post.id.in_(_ids()))
ACTORS_WITH_STATS = (
    select(Actor, *STATS_COLUMNS)
    .outerjoin(ActorStats, ActorStats.actor_id == Actor.id)
    .where(Actor.id.in_(_ids()))
)
STATS_OF = select(ActorStats.actor_id, *STATS_COLUMNS).where(ActorStats.actor_id.in_(_ids()))
MEDIA_OF = (
    select(MediaAttachment).where(MediaAttachment.post_id.in_(_ids())).order_by(MediaAttachment.id)
)
POLLS_OF = select(Poll).where(Poll.post_id.in_(_ids()))


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
            Mention.post_id.in_(_ids())
        ),
        select(kind("fav"), Like.post_id, none).where(
            Like.actor_id == viewer, Like.post_id.in_(_ids())
        ),
        select(kind("boost"), Post.reblog_of_id, none).where(
            Post.actor_id == viewer, Post.reblog_of_id.in_(_ids()), Post.deleted_at.is_(None)
        ),
        select(kind("bookmark"), Bookmark.post_id, none).where(
            Bookmark.actor_id == viewer, Bookmark.post_id.in_(_ids())
        ),
        select(kind("pin"), Pin.post_id, none).where(
            Pin.actor_id == viewer, Pin.post_id.in_(_ids())
        ),
        select(kind("vote"), PollVote.post_id, PollVote.choice).where(
            PollVote.actor_id == viewer, PollVote.post_id.in_(_ids())
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


class Renderer:
    """Renders entities for one request's viewer, loading what they need in batches.

    A timeline page costs a fixed number of queries whatever its size, and as few as
    possible: the boosted originals and replied-to posts (none when the session holds
    them, as after ``home_page``), the mentions and the viewer's favourites, boosts,
    bookmarks, pins and votes (one UNION ALL), the authors and mentioned accounts with
    their counters (one join), and media and polls only for pages that have some. Each
    statement costs four hand-offs to the SQLite driver's thread and 0.3 to 0.5 ms before
    SQLite does any work, so their number, not their size, sets a page's cost.
    """

    def __init__(self, node: Node, db: AsyncSession, viewer: Actor | None) -> None:
        self.node = node
        self.db = db
        self.viewer = viewer
        # Settings.base_url is computed on each access; it is read for every entity.
        self.base_url = node.settings.base_url
        self._actors: dict[int, Actor] = {}
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

    async def _counts(self, actors: list[Actor]) -> dict[int, dict[str, Any]]:
        """Statuses, followers, following and the last post's date for each account, from
        the counters ``actor_stats`` keeps (counting posts per author here would read every
        post of every author on the page); already known when ``_load_actors`` loaded the
        account."""
        missing = [a.id for a in actors if a.id not in self._stats]
        if missing:
            rows = await self.db.execute(STATS_OF, {"ids": missing})
            for actor_id, *values in rows.all():
                self._stats[actor_id] = _stats(values)
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

    async def accounts(self, actors: Iterable[Actor]) -> list[dict[str, Any]]:
        actor_list = list(actors)
        counts = await self._counts(actor_list)
        return [self._account(a, counts[a.id]) for a in actor_list]

    async def account(self, actor: Actor) -> dict[str, Any]:
        return (await self.accounts([actor]))[0]

    def _account(self, actor: Actor, counts: dict[str, Any]) -> dict[str, Any]:
        last = counts["last"]
        avatar, header = self.avatar(actor), self.header(actor)
        fields = []
        for item in (actor.raw or {}).get("attachment", []) if not actor.local else []:
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
            "last_status_at": last.strftime("%Y-%m-%d") if last else None,
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

    async def _load_actors(self, ids: Iterable[int]) -> None:
        """The accounts not loaded yet, with their counters, in one query."""
        missing = {i for i in ids if i not in self._actors}
        if missing:
            rows = await self.db.execute(ACTORS_WITH_STATS, {"ids": list(missing)})
            for actor, *values in rows.all():
                self._actors[actor.id] = actor
                self._stats[actor.id] = _stats(values)

    async def _posts_by_id(self, ids: set[int]) -> dict[int, Post]:
        """The posts with these ids: those the session holds already (``home_page`` loads
        a page's originals and parents with it), the others in one query."""
        session = self.db.sync_session
        found: dict[int, Post] = {}
        for post_id in ids:
            held = session.identity_map.get(Session.identity_key(Post, post_id))
            if isinstance(held, Post) and not inspect(held).expired_attributes:
                found[post_id] = held
        missing = [i for i in ids if i not in found]
        if missing:
            for post in await self.db.scalars(POSTS_BY_ID, {"ids": missing}):
                found[post.id] = post
        return found

    async def _page_facts(self, ids: list[int]) -> PageFacts:
        facts = PageFacts()
        if not ids:
            return facts
        viewer = self.viewer.id if self.viewer is not None else None
        for kind, post_id, value in (
            await self.db.execute(PAGE_FACTS, {"ids": ids, "viewer": viewer})
        ).all():
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

    async def statuses(self, posts: Iterable[Post]) -> list[dict[str, Any]]:
        page = list(posts)
        by_id = {p.id: p for p in page}
        # The boosted originals and the posts replied to, in one query.
        wanted = {p.reblog_of_id for p in page if p.reblog_of_id}
        wanted |= {p.in_reply_to_id for p in page if p.in_reply_to_id}
        by_id.update(await self._posts_by_id(wanted - by_id.keys()))
        originals = {p.reblog_of_id: by_id[p.reblog_of_id] for p in page if p.reblog_of_id in by_id}
        # An original's parent is rarely loaded by then: one more small query if needed.
        parents_left = {o.in_reply_to_id for o in originals.values() if o.in_reply_to_id}
        by_id.update(await self._posts_by_id(parents_left - by_id.keys()))
        every = page + [o for o in originals.values() if o.id not in {p.id for p in page}]
        ids = [p.id for p in every]
        parent_authors = {
            p.in_reply_to_id: by_id[p.in_reply_to_id].actor_id
            for p in every
            if p.in_reply_to_id in by_id
        }
        facts = await self._page_facts(ids)
        mentioned = [a for people in facts.mentions.values() for a in people]
        await self._load_actors([p.actor_id for p in every] + mentioned)
        account_list = list({a.id: a for a in (self._actors[p.actor_id] for p in every)}.values())
        accounts = {int(a["id"]): a for a in await self.accounts(account_list)}

        mentions = {
            post_id: [self._mention(a) for a in people]
            for post_id, people in facts.mentions.items()
        }
        # Uploads are attached to local posts only, and attaching one also writes the
        # post's ``attachments``; a poll makes its post a Question. Pages with neither
        # (most of them) skip those two queries.
        media: dict[int, list[MediaAttachment]] = {}
        with_media = [p.id for p in every if p.local and p.attachments]
        if with_media:
            for item in await self.db.scalars(MEDIA_OF, {"ids": with_media}):
                media.setdefault(item.post_id or 0, []).append(item)
        questions = [p.id for p in every if p.type == "Question"]
        polls = (
            {p.post_id: p for p in await self.db.scalars(POLLS_OF, {"ids": questions})}
            if questions
            else {}
        )
        viewer_state, own_votes = facts.state, facts.votes

        def one(post: Post) -> dict[str, Any]:
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
            "text": post.source if (self.viewer and self.viewer.id == post.actor_id) else None,
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
        }

    # --- notifications ------------------------------------------------------------

    async def notifications(self, rows: Iterable[Notification]) -> list[dict[str, Any]]:
        items = list(rows)
        await self._load_actors([n.from_actor_id for n in items])
        accounts = {
            int(a["id"]): a
            for a in await self.accounts(
                {
                    self._actors[n.from_actor_id].id: self._actors[n.from_actor_id] for n in items
                }.values()
            )
        }
        post_ids = {n.post_id for n in items if n.post_id}
        posts = (
            {p.id: p for p in await self.db.scalars(select(Post).where(Post.id.in_(post_ids)))}
            if post_ids
            else {}
        )
        statuses = {int(s["id"]): s for s in await self.statuses(posts.values())} if posts else {}
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
