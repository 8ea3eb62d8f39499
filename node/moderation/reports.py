"""Reports: filed by local users (``POST /api/v1/reports``), forwarded to the reported
account's server as a ``Flag``, received from peers in a ``Flag``, and handled by the
node's admins and moderators (resolve, reopen).

The ``Flag`` is Mastodon's: sent by the node's application actor (``/actor``) so the
reporter stays anonymous, ``object`` = the account's id then the reported posts' ids,
``content`` = the comment, delivered to the account's own inbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from node.accounts import actor_by_id
from node.ap.documents import with_context
from node.bootstrap import app_actor
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import Actor, Post, Report, User
from node.db.models.moderation import CATEGORIES
from node.db.types import utcnow
from node.delivery.queue import enqueue
from node.errors import Invalid, NotFound
from node.follows import Page, fetch_page

#: Mastodon's limit on a report's comment from its users…
COMMENT_LIMIT = 1000
#: …and on one received from a peer.
REMOTE_COMMENT_LIMIT = 5000


@dataclass(frozen=True)
class ReportView:
    """A report with the accounts and posts it names, as the APIs and pages show it."""

    report: Report
    account: Actor
    reporter: Actor
    statuses: list[Post]
    acted_by: User | None


def check_category(category: str | None) -> str:
    value = (category or "other").strip().lower()
    if value not in CATEGORIES:
        raise Invalid(f"category must be one of {', '.join(CATEGORIES)}")
    return value


def flag_activity(
    flag_id: str, sender: Actor, account: Actor, posts: Iterable[Post], comment: str
) -> dict[str, Any]:
    """Mastodon's ``Flag``: anonymous (sent by the application actor), the account first."""
    return with_context(
        {
            "id": flag_id,
            "type": "Flag",
            "actor": sender.uri,
            "content": comment,
            "object": [account.uri, *(p.uri for p in posts)],
        }
    )


async def _reported_posts(db: AsyncSession, account: Actor, status_ids: list[int]) -> list[Post]:
    if not status_ids:
        return []
    posts = list(
        await db.scalars(
            select(Post).where(
                Post.id.in_(status_ids), Post.actor_id == account.id, Post.deleted_at.is_(None)
            )
        )
    )
    if len(posts) != len(set(status_ids)):
        raise NotFound("Record not found")
    return posts


async def file_report(
    node: Node,
    reporter: Actor,
    *,
    account_id: int,
    status_ids: list[int],
    comment: str = "",
    forward: bool = False,
    category: str | None = None,
) -> Report:
    """Store a local user's report for the admins; with ``forward`` and a remote account,
    also send the ``Flag`` to the account's server."""
    kind = check_category(category)
    if len(comment) > COMMENT_LIMIT:
        raise Invalid(f"comment is longer than {COMMENT_LIMIT} characters")
    async with transaction(node) as db:
        account = await actor_by_id(db, account_id)
        if account.id == reporter.id:
            raise Invalid("you cannot report yourself")
        posts = await _reported_posts(db, account, status_ids)
        report = Report(
            account_id=account.id,
            reporter_id=reporter.id,
            status_ids=[p.id for p in posts],
            comment=comment,
            category=kind,
        )
        if forward and not account.local and account.inbox:
            sender = await app_actor(db, node)
            if sender is None:
                raise Invalid("this node has no application actor to send the report with")
            report.uri = node.urls.activity(new_id())
            report.forwarded = True
            await enqueue(
                db,
                sender=sender,
                activity=flag_activity(report.uri, sender, account, posts, comment),
                inboxes=[account.inbox],
            )
        db.add(report)
        await db.flush()
    if report.forwarded:
        node.delivery_wakeup.set()
    return report


async def receive_flag(
    db: AsyncSession, sender: Actor, flag_id: str, object_uris: list[str], content: str
) -> int:
    """Store a peer's report about our accounts (and their posts) for our admins; as in
    Mastodon, one report per local account named, other ids ignored. Returns how many."""
    uris = list(dict.fromkeys(u for u in object_uris if isinstance(u, str)))
    if not uris:
        return 0
    accounts = list(
        await db.scalars(select(Actor).where(Actor.uri.in_(uris), Actor.local.is_(True)))
    )
    posts = list(
        await db.scalars(
            select(Post).where(Post.uri.in_(uris), Post.local.is_(True), Post.deleted_at.is_(None))
        )
    )
    stored = 0
    for index, account in enumerate(accounts):
        db.add(
            Report(
                account_id=account.id,
                reporter_id=sender.id,
                status_ids=[p.id for p in posts if p.actor_id == account.id],
                comment=content[:REMOTE_COMMENT_LIMIT],
                category="other",
                uri=flag_id if index == 0 else f"{flag_id}#{index}",
            )
        )
        stored += 1
    return stored


async def _view(db: AsyncSession, report: Report) -> ReportView:
    account = await db.get(Actor, report.account_id)
    reporter = await db.get(Actor, report.reporter_id)
    assert account is not None and reporter is not None
    ids = [int(i) for i in report.status_ids or []]
    posts = list(await db.scalars(select(Post).where(Post.id.in_(ids)))) if ids else []
    acted_by = await db.get(User, report.action_taken_by_id) if report.action_taken_by_id else None
    return ReportView(report, account, reporter, posts, acted_by)


async def report_view(node: Node, report_id: int) -> ReportView:
    async with node.reads() as db:
        report = await db.get(Report, report_id)
        if report is None:
            raise NotFound("Record not found")
        return await _view(db, report)


async def report_views(
    node: Node,
    page: Page,
    *,
    resolved: bool | None = False,
    account_id: int | None = None,
) -> list[ReportView]:
    """Reports newest first, unresolved only by default (Mastodon's admin list)."""
    query = select(Report.id, Report)
    if resolved is True:
        query = query.where(Report.action_taken_at.is_not(None))
    elif resolved is False:
        query = query.where(Report.action_taken_at.is_(None))
    if account_id is not None:
        query = query.where(Report.account_id == account_id)
    async with node.reads() as db:
        rows = await fetch_page(db, query, Report.id, page)
        return [await _view(db, row[1]) for row in rows]


async def set_resolved(node: Node, acting: User, report_id: int, resolved: bool) -> None:
    async with transaction(node) as db:
        report = await db.get(Report, report_id)
        if report is None:
            raise NotFound("Record not found")
        mark_resolved(report, acting if resolved else None)


def mark_resolved(report: Report, acting: User | None) -> None:
    """Resolve (``acting`` set) or reopen (None) a report."""
    report.action_taken_at = utcnow() if acting is not None else None
    report.action_taken_by_id = acting.id if acting is not None else None
    report.updated_at = utcnow()
