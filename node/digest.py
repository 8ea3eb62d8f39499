"""The weekly digest: one person's e-mail-ready HTML summary of what happened in their
circles and groups during the last seven days, with what is trending in the firm.

Everything shown goes through the visibility rule (``visible_posts``) for the reader,
so a digest never shows more than their home timeline would. The HTML uses inline
styles and one centred table column — what mail clients render reliably — and comes
with a plain-text twin for the ``multipart/alternative`` message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node import audience as aud
from node.accounts import html_to_text, require_user_actor
from node.context import Node
from node.db.models import Actor, Follow, Post, PostRecipient
from node.db.models.follows import ACCEPTED
from node.db.types import utcnow
from node.errors import CercleError
from node.smtp import send_mail
from node.trends import trending_tags
from node.visibility import visible_posts

if TYPE_CHECKING:
    import jinja2

DAYS = 7
#: Posts listed per section; the section's count says how many there were in all.
SHOWN = 10
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class DigestItem:
    author: str
    handle: str
    url: str
    text: str
    published: datetime
    where: str


@dataclass
class Digest:
    username: str
    email: str | None
    org_name: str
    base_url: str
    start: datetime
    end: datetime
    circles: list[DigestItem] = field(default_factory=list)
    circles_total: int = 0
    groups: list[DigestItem] = field(default_factory=list)
    groups_total: int = 0
    trending: list[tuple[str, int]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.circles_total or self.groups_total or self.trending)


def _excerpt(post: Post, limit: int = 280) -> str:
    text = html_to_text(post.content or "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def _items(
    db: AsyncSession, me: Actor, posts: list[Post], where: dict[int, str]
) -> tuple[list[DigestItem], int]:
    shown = await visible_posts(db, me, posts)
    authors = {
        a.id: a
        for a in await db.scalars(select(Actor).where(Actor.id.in_({p.actor_id for p in shown})))
    }
    items = [
        DigestItem(
            author=authors[p.actor_id].display_name or authors[p.actor_id].username,
            handle=authors[p.actor_id].handle,
            url=p.url or p.uri,
            text=_excerpt(p),
            published=p.published,
            where=where.get(p.id, ""),
        )
        for p in shown[:SHOWN]
    ]
    return items, len(shown)


async def build_digest(node: Node, username: str, *, now: datetime | None = None) -> Digest:
    end = now or utcnow()
    start = end - timedelta(days=DAYS)
    async with node.reads() as db:
        user, me = await require_user_actor(db, username)
        base = (
            select(Post)
            .where(
                Post.published >= start,
                Post.published <= end,
                Post.deleted_at.is_(None),
                Post.reblog_of_id.is_(None),
                Post.actor_id != me.id,
            )
            .order_by(Post.id.desc())
        )
        circle_posts = list(
            await db.scalars(
                base.where(
                    Post.audience == aud.CIRCLE,
                    Post.id.in_(
                        select(PostRecipient.post_id).where(PostRecipient.actor_id == me.id)
                    ),
                )
            )
        )
        groups = {
            g.id: g
            for g in await db.scalars(
                select(Actor)
                .join(Follow, Follow.followee_id == Actor.id)
                .where(
                    Follow.follower_id == me.id,
                    Follow.state == ACCEPTED,
                    Actor.type == "Group",
                )
            )
        }
        group_posts = (
            list(await db.scalars(base.where(Post.group_id.in_(list(groups))))) if groups else []
        )
        digest = Digest(
            username=me.username,
            email=user.email,
            org_name=node.settings.org_name,
            base_url=node.settings.base_url,
            start=start,
            end=end,
        )
        digest.circles, digest.circles_total = await _items(db, me, circle_posts, {})
        where = {
            p.id: (groups[p.group_id].display_name or groups[p.group_id].username)
            for p in group_posts
            if p.group_id in groups
        }
        digest.groups, digest.groups_total = await _items(db, me, group_posts, where)
        digest.trending = [
            (t.name, sum(uses for _, uses, _ in t.history))
            for t in await trending_tags(db, me, limit=5)
        ]
        org = await db.scalar(
            select(Actor).where(Actor.local.is_(True), Actor.type == "Organization")
        )
        if org is not None and org.display_name:
            digest.org_name = org.display_name
    return digest


def _env() -> jinja2.Environment:
    """Loaded on first use: a node that never renders a digest never pays for Jinja2."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
    )


def render_html(digest: Digest) -> str:
    return _env().get_template("digest.html").render(d=digest)


def render_text(digest: Digest) -> str:
    lines = [
        f"Your week on {digest.org_name} ({digest.start:%d %b} to {digest.end:%d %b %Y})",
        "",
    ]
    for title, items, total in (
        ("In your circles", digest.circles, digest.circles_total),
        ("In your groups", digest.groups, digest.groups_total),
    ):
        lines.append(f"{title}: {total} new post{'s' if total != 1 else ''}")
        for item in items:
            place = f" in {item.where}" if item.where else ""
            lines.append(f"- {item.author} (@{item.handle}){place}: {item.text}")
            lines.append(f"  {item.url}")
        lines.append("")
    if digest.trending:
        lines.append("Trending: " + ", ".join(f"#{name}" for name, _ in digest.trending))
    lines.append("")
    lines.append(f"Open Cercle: {digest.base_url}/home")
    return "\n".join(lines) + "\n"


def subject(digest: Digest) -> str:
    count = digest.circles_total + digest.groups_total
    return f"Your week on {digest.org_name}: {count} new post{'s' if count != 1 else ''}"


async def send_digest(node: Node, digest: Digest) -> str:
    """Send the digest to its reader's address; returns that address."""
    smtp = node.settings.smtp
    if smtp is None:
        raise CercleError("e-mail is not configured: set smtp_host and smtp_from")
    if not digest.email:
        raise CercleError(f"{digest.username} has no e-mail address")
    await send_mail(
        smtp,
        to=digest.email,
        subject=subject(digest),
        html=render_html(digest),
        text=render_text(digest),
    )
    return digest.email
