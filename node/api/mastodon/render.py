"""Mastodon entities (Account, Status, Notification, Relationship…) rendered in batches.

A timeline page of 40 statuses is rendered with a fixed number of queries whatever its
size: authors, boosted originals, the viewer's favourites/boosts/bookmarks, mentions,
media and polls are each loaded once for the whole page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
from node.db.types import utcnow

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
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def plain_text(content: str) -> str:
    """The text of a post's HTML, for edits of posts that have no stored source."""
    text = re.sub(r"<br\s*/?>", "\n", content)
    text = re.sub(r"</p>\s*<p>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


class Renderer:
    def __init__(self, node: Node, db: AsyncSession, viewer: Actor | None) -> None:
        self.node = node
        self.db = db
        self.viewer = viewer
        self._actors: dict[int, Actor] = {}

    # --- accounts -----------------------------------------------------------------

    def acct(self, actor: Actor) -> str:
        return actor.username if actor.local else f"{actor.username}@{actor.domain}"

    def avatar(self, actor: Actor) -> str:
        return actor.avatar_url or f"{self.node.settings.base_url}/static/avatar.png"

    def header(self, actor: Actor) -> str:
        header = (actor.raw or {}).get("image")
        if isinstance(header, dict) and isinstance(header.get("url"), str):
            return header["url"]
        return f"{self.node.settings.base_url}/static/header.png"

    async def _counts(self, actors: list[Actor]) -> dict[int, dict[str, Any]]:
        ids = [a.id for a in actors]
        counts: dict[int, dict[str, Any]] = {
            i: {"followers": 0, "following": 0, "statuses": 0, "last": None} for i in ids
        }
        if not ids:
            return counts
        for column, key in ((Follow.followee_id, "followers"), (Follow.follower_id, "following")):
            rows = await self.db.execute(
                select(column, func.count())
                .where(column.in_(ids), Follow.state == ACCEPTED)
                .group_by(column)
            )
            for actor_id, n in rows.all():
                counts[actor_id][key] = n
        rows = await self.db.execute(
            select(Post.actor_id, func.count(), func.max(Post.published))
            .where(Post.actor_id.in_(ids), Post.deleted_at.is_(None))
            .group_by(Post.actor_id)
        )
        for actor_id, n, last in rows.all():
            counts[actor_id]["statuses"] = n
            counts[actor_id]["last"] = last
        for actor in actors:
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
            "avatar": self.avatar(actor),
            "avatar_static": self.avatar(actor),
            "header": self.header(actor),
            "header_static": self.header(actor),
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
        missing = {i for i in ids if i not in self._actors}
        if missing:
            for actor in await self.db.scalars(select(Actor).where(Actor.id.in_(missing))):
                self._actors[actor.id] = actor

    async def statuses(self, posts: Iterable[Post]) -> list[dict[str, Any]]:
        page = list(posts)
        originals_ids = {p.reblog_of_id for p in page if p.reblog_of_id}
        originals = (
            {p.id: p for p in await self.db.scalars(select(Post).where(Post.id.in_(originals_ids)))}
            if originals_ids
            else {}
        )
        every = page + list(originals.values())
        ids = [p.id for p in every]
        parents_ids = {p.in_reply_to_id for p in every if p.in_reply_to_id}
        parent_authors = (
            dict(
                (
                    await self.db.execute(
                        select(Post.id, Post.actor_id).where(Post.id.in_(parents_ids))
                    )
                ).all()
            )
            if parents_ids
            else {}
        )
        await self._load_actors([p.actor_id for p in every])
        account_list = list({a.id: a for a in (self._actors[p.actor_id] for p in every)}.values())
        accounts = {int(a["id"]): a for a in await self.accounts(account_list)}

        mentions: dict[int, list[dict[str, Any]]] = {}
        rows = await self.db.execute(
            select(Mention.post_id, Actor)
            .join(Actor, Actor.id == Mention.actor_id)
            .where(Mention.post_id.in_(ids))
        )
        for post_id, actor in rows.all():
            mentions.setdefault(post_id, []).append(
                {
                    "id": str(actor.id),
                    "username": actor.username,
                    "url": actor.url or actor.uri,
                    "acct": self.acct(actor),
                }
            )
        media: dict[int, list[MediaAttachment]] = {}
        for item in await self.db.scalars(
            select(MediaAttachment)
            .where(MediaAttachment.post_id.in_(ids))
            .order_by(MediaAttachment.id)
        ):
            media.setdefault(item.post_id or 0, []).append(item)
        polls = {
            p.post_id: p for p in await self.db.scalars(select(Poll).where(Poll.post_id.in_(ids)))
        }

        viewer_state: dict[str, set[int]] = {
            k: set() for k in ("fav", "boost", "bookmark", "pin", "voted")
        }
        own_votes: dict[int, list[int]] = {}
        if self.viewer is not None:
            vid = self.viewer.id
            viewer_state["fav"] = set(
                await self.db.scalars(
                    select(Like.post_id).where(Like.actor_id == vid, Like.post_id.in_(ids))
                )
            )
            viewer_state["boost"] = set(
                await self.db.scalars(
                    select(Post.reblog_of_id).where(
                        Post.actor_id == vid, Post.reblog_of_id.in_(ids), Post.deleted_at.is_(None)
                    )
                )
            )
            viewer_state["bookmark"] = set(
                await self.db.scalars(
                    select(Bookmark.post_id).where(
                        Bookmark.actor_id == vid, Bookmark.post_id.in_(ids)
                    )
                )
            )
            viewer_state["pin"] = set(
                await self.db.scalars(
                    select(Pin.post_id).where(Pin.actor_id == vid, Pin.post_id.in_(ids))
                )
            )
            if polls:
                for post_id, choice in (
                    await self.db.execute(
                        select(PollVote.post_id, PollVote.choice).where(
                            PollVote.actor_id == vid, PollVote.post_id.in_(list(polls))
                        )
                    )
                ).all():
                    own_votes.setdefault(post_id, []).append(choice)

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
        base = f"{self.node.settings.base_url}/media"
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
                "url": f"{self.node.settings.base_url}/tags/{t['name'].lstrip('#').lower()}",
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
