"""Polls: Mastodon's polls on our side, ActivityPub ``Question`` objects on the wire.

A poll belongs to one post (``Poll.post_id``). Our polls travel as a ``Question`` whose
``oneOf`` (single choice) or ``anyOf`` (multiple choice) lists the options with their
counts, as Mastodon sends them. A vote on a remote poll travels, as Mastodon sends it, as
one ``Create`` of a ``Note`` per chosen option, addressed to the poll's author only, whose
``name`` is the option's title and ``inReplyTo`` the Question; votes of remote people on
our polls arrive the same way (``receive_vote``).

When a poll ends, its local voters and its local author get a ``poll`` notification, and
the final counts of our polls go out as an ``Update`` of the Question. That happens in
``close_expired_polls``, which a background task runs shortly after each end time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import APObject
from federation.vocab.objects import Poll as APPoll
from node.ap.documents import iso, with_context
from node.context import Node, transaction
from node.db.ids import new_id
from node.db.models import Actor, NodeSetting, Notification, Poll, PollVote, Post
from node.db.types import utcnow
from node.dbutil import insert_ignore
from node.delivery.queue import enqueue
from node.errors import Invalid
from node.events import queue_event
from node.notifications import notify

log = logging.getLogger(__name__)

#: Mastodon's defaults, which clients read from ``configuration.polls`` of the instance.
MAX_OPTIONS = 4
MAX_OPTION_CHARS = 50
MIN_EXPIRATION = 300
MAX_EXPIRATION = 2_629_746
#: ``close_expired_polls`` remembers how far it got in this node setting, so each ended
#: poll is closed exactly once, across restarts and with several workers.
CLOSE_CURSOR_KEY = "polls_closed_through"
#: On its first run a node does not notify about polls that ended long before.
FIRST_RUN_LOOKBACK = timedelta(days=1)
CLOSER_MAX_SLEEP = 60.0


@dataclass(frozen=True)
class PollSpec:
    """A poll as a client asks for it (``poll[options][]``, ``poll[expires_in]``,
    ``poll[multiple]``), validated."""

    options: tuple[str, ...]
    expires_in: int
    multiple: bool = False


def poll_spec(options: Sequence[Any], expires_in: Any, multiple: bool = False) -> PollSpec:
    """Validate a requested poll with Mastodon's limits; ``Invalid`` names the problem."""
    titles = tuple(str(o).strip() for o in options)
    if len(titles) < 2:
        raise Invalid("a poll needs at least 2 options")
    if len(titles) > MAX_OPTIONS:
        raise Invalid(f"a poll has at most {MAX_OPTIONS} options")
    if any(not t for t in titles):
        raise Invalid("poll options can't be blank")
    if any(len(t) > MAX_OPTION_CHARS for t in titles):
        raise Invalid(f"a poll option is at most {MAX_OPTION_CHARS} characters")
    if len(set(titles)) != len(titles):
        raise Invalid("poll options must be different")
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError) as exc:
        raise Invalid("poll[expires_in] must be a number of seconds") from exc
    if not MIN_EXPIRATION <= seconds <= MAX_EXPIRATION:
        raise Invalid(
            f"poll[expires_in] must be between {MIN_EXPIRATION} and {MAX_EXPIRATION} seconds"
        )
    return PollSpec(options=titles, expires_in=seconds, multiple=bool(multiple))


def new_poll(post_id: int, spec: PollSpec) -> Poll:
    return Poll(
        post_id=post_id,
        options=[{"title": t, "votes_count": 0} for t in spec.options],
        multiple=spec.multiple,
        expires_at=utcnow() + timedelta(seconds=spec.expires_in),
        voters_count=0,
    )


def is_expired(poll: Poll, now: datetime | None = None) -> bool:
    return poll.expires_at is not None and poll.expires_at <= (now or utcnow())


def question_fields(poll: Poll) -> dict[str, Any]:
    """What turns a Note document into a Question: the options with their counts."""
    choices = [
        {
            "type": "Note",
            "name": o["title"],
            "replies": {"type": "Collection", "totalItems": int(o.get("votes_count", 0))},
        }
        for o in poll.options
    ]
    fields: dict[str, Any] = {
        "type": "Question",
        "anyOf" if poll.multiple else "oneOf": choices,
        "votersCount": poll.voters_count,
    }
    if poll.expires_at is not None:
        fields["endTime"] = iso(poll.expires_at)
        if is_expired(poll):
            fields["closed"] = iso(poll.expires_at)
    return fields


def with_question(activity: dict[str, Any], poll: Poll | None) -> dict[str, Any]:
    """A Create or Update of a post, its object made a Question when the post has a poll."""
    if poll is not None and isinstance(activity.get("object"), dict):
        activity["object"].update(question_fields(poll))
    return activity


async def poll_of(db: AsyncSession, post_id: int, *, for_update: bool = False) -> Poll | None:
    query = select(Poll).where(Poll.post_id == post_id)
    if for_update:
        # On PostgreSQL two votes at once must not both read the old counts.
        query = query.with_for_update()
    return await db.scalar(query)


async def own_votes(db: AsyncSession, post_id: int, actor_id: int) -> list[int]:
    rows = await db.scalars(
        select(PollVote.choice).where(PollVote.post_id == post_id, PollVote.actor_id == actor_id)
    )
    return sorted(rows)


def _count(poll: Poll, choices: Sequence[int], *, new_voter: bool) -> None:
    # A new list, so that SQLAlchemy sees the JSON column change.
    poll.options = [
        {**o, "votes_count": int(o.get("votes_count", 0)) + (1 if i in choices else 0)}
        for i, o in enumerate(poll.options)
    ]
    if new_voter:
        poll.voters_count = (poll.voters_count or 0) + 1


async def vote(node: Node, voter: Actor, post: Post, choices: Sequence[Any]) -> Poll:
    """Vote in the poll of ``post`` (which the caller has checked ``voter`` may see).

    Refused (``Invalid``) when the poll has ended, when ``voter`` already voted, on one's
    own poll, and for a choice that is not an option (or several in a single-choice poll).
    A vote on a remote poll is also sent to its author's server.
    """
    try:
        picked = sorted({int(c) for c in choices})
    except (TypeError, ValueError) as exc:
        raise Invalid("choices must be option indexes") from exc
    async with transaction(node) as db:
        poll = await poll_of(db, post.id, for_update=True)
        if poll is None:
            raise Invalid("this post has no poll")
        if is_expired(poll):
            raise Invalid("The poll has already ended")
        if post.actor_id == voter.id:
            raise Invalid("You cannot vote in your own poll")
        if await own_votes(db, post.id, voter.id):
            raise Invalid("You have already voted on this poll")
        if not picked:
            raise Invalid("choices can't be blank")
        if any(not 0 <= c < len(poll.options) for c in picked):
            raise Invalid("choices must be indexes of the poll's options")
        if len(picked) > 1 and not poll.multiple:
            raise Invalid("this poll allows a single choice")
        for choice in picked:
            db.add(PollVote(post_id=post.id, actor_id=voter.id, choice=choice))
        _count(poll, picked, new_voter=True)
        author = await db.get(Actor, post.actor_id)
        if author is not None and not author.local:
            for choice in picked:
                activity = vote_activity(voter, author, post, poll.options[choice]["title"])
                await enqueue(db, sender=voter, activity=activity, inboxes=[author.inbox])
        await db.flush()
    node.delivery_wakeup.set()
    return poll


def vote_activity(voter: Actor, author: Actor, question: Post, title: str) -> dict[str, Any]:
    """A vote as Mastodon sends one: a Create of a Note naming the option, for the
    poll's author only (votes are secret)."""
    note_id = f"{voter.uri}#votes/{new_id()}"
    return with_context(
        {
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": voter.uri,
            "to": [author.uri],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": voter.uri,
                "to": [author.uri],
                "name": title,
                "inReplyTo": question.uri,
            },
        }
    )


# --- from other servers ---------------------------------------------------------------


def looks_like_vote(obj: APObject) -> bool:
    """A Note with a ``name``, replying to something, and no content: Mastodon's vote."""
    return (
        obj.type == "Note"
        and bool(obj.name)
        and obj.in_reply_to is not None
        and not (obj.content or "").strip()
    )


async def receive_vote(db: AsyncSession, obj: APObject, voter: Actor) -> bool:
    """Count a remote vote on one of our polls, in the inbox transaction.

    Returns False when ``obj`` is not a vote on one of our open polls (the caller then
    treats it as an ordinary post, as Mastodon does); a vote that breaks the poll's rules
    (a second vote, an unknown option) is dropped and counted as handled.
    """
    if not looks_like_vote(obj):
        return False
    post = await db.scalar(select(Post).where(Post.uri == obj.in_reply_to, Post.local.is_(True)))
    if post is None or post.deleted_at is not None:
        return False
    poll = await poll_of(db, post.id, for_update=True)
    if poll is None:
        return False
    # Imported here: node.posts builds on this module.
    from node.visibility import viewer_can_see

    titles = [o["title"] for o in poll.options]
    if obj.name not in titles or is_expired(poll) or voter.id == post.actor_id:
        return True
    if not await viewer_can_see(db, voter, post):
        return True  # a vote in a poll one was never shown is a forgery
    choice = titles.index(obj.name)
    previous = await own_votes(db, post.id, voter.id)
    if choice in previous or (previous and not poll.multiple):
        return True
    db.add(PollVote(post_id=post.id, actor_id=voter.id, choice=choice))
    _count(poll, [choice], new_voter=not previous)
    await db.flush()
    return True


def _options_of(remote: APPoll) -> list[dict[str, Any]]:
    return [{"title": o.name, "votes_count": o.votes} for o in remote.options]


async def store_remote_poll(db: AsyncSession, post: Post, remote: APPoll) -> None:
    """Keep the poll of a received Question, so that local people can see and vote in it."""
    if not remote.options:
        return
    await insert_ignore(
        db,
        Poll.__table__,
        [
            {
                "post_id": post.id,
                "options": _options_of(remote),
                "multiple": remote.multiple,
                "expires_at": remote.end_time or remote.closed_at,
                "voters_count": remote.voters_count or 0,
            }
        ],
    )


async def sync_remote_poll(db: AsyncSession, post: Post, remote: APPoll | None) -> None:
    """Apply an ``Update`` of a remote Question: new counts, or new options (which, as in
    Mastodon, void the votes cast here). Meant for the Update handler."""
    poll = await poll_of(db, post.id, for_update=True)
    if remote is None or not remote.options:
        if poll is not None:
            await db.delete(poll)
        return
    if poll is None:
        await store_remote_poll(db, post, remote)
        return
    options = _options_of(remote)
    if [o["title"] for o in options] != [o["title"] for o in poll.options] or (
        remote.multiple != poll.multiple
    ):
        await db.execute(delete(PollVote).where(PollVote.post_id == post.id))
    poll.options = options
    poll.multiple = remote.multiple
    poll.expires_at = remote.end_time or remote.closed_at or poll.expires_at
    if remote.voters_count is not None:
        poll.voters_count = remote.voters_count


# --- ending -----------------------------------------------------------------------------


async def _cursor(db: AsyncSession) -> tuple[NodeSetting, datetime]:
    """The close cursor, locked for this transaction (on PostgreSQL; SQLite has a single
    writer anyway), so two closers never close the same window."""
    await insert_ignore(
        db,
        NodeSetting.__table__,
        [{"key": CLOSE_CURSOR_KEY, "value": (utcnow() - FIRST_RUN_LOOKBACK).isoformat()}],
    )
    row = await db.scalar(
        select(NodeSetting).where(NodeSetting.key == CLOSE_CURSOR_KEY).with_for_update()
    )
    assert row is not None
    return row, datetime.fromisoformat(row.value)


async def close_expired_polls(node: Node) -> int:
    """Close the polls that ended since the last run: notify their local voters and
    local author (``poll``), and send the final counts of our own polls to the servers
    that received them. Returns how many polls were closed."""
    closed = 0
    async with transaction(node) as db:
        cursor, since = await _cursor(db)
        # Read the clock only once the cursor is ours: a closer that waited for the lock
        # must not move the cursor back to when it started waiting.
        now = max(utcnow(), since)
        rows = (
            await db.execute(
                select(Poll, Post)
                .join(Post, Post.id == Poll.post_id)
                .where(
                    Poll.expires_at > since,
                    Poll.expires_at <= now,
                    Post.deleted_at.is_(None),
                )
            )
        ).all()
        for poll, post in rows:
            await _close(node, db, poll, post)
            closed += 1
        cursor.value = now.isoformat()
    if closed:
        node.delivery_wakeup.set()
    return closed


async def _close(node: Node, db: AsyncSession, poll: Poll, post: Post) -> None:
    author = await db.get(Actor, post.actor_id)
    if author is None:
        return
    voter_ids = list(
        await db.scalars(select(PollVote.actor_id).where(PollVote.post_id == post.id).distinct())
    )
    voters = list(await db.scalars(select(Actor).where(Actor.id.in_(voter_ids))))
    for voter in voters:
        await notify(db, owner=voter, kind="poll", from_actor_id=author.id, post_id=post.id)
    if author.local and author.type == "Person":
        # ``notify`` never tells people about themselves; a poll's end is the exception.
        row = Notification(
            owner_id=author.id, type="poll", from_actor_id=author.id, post_id=post.id
        )
        db.add(row)
        await db.flush()
        queue_event(db, "notification", f"user:{author.id}", row.id)
    if author.local:
        # Imported here: node.edits builds on node.posts, which builds on this module.
        from node.edits import federate_update

        await federate_update(node, db, post, author, extra_recipients=voters)


async def next_end(node: Node) -> datetime | None:
    """When the next poll ends (after the close cursor): how long the closer may sleep."""
    async with node.reads() as db:
        value = await db.scalar(
            select(NodeSetting.value).where(NodeSetting.key == CLOSE_CURSOR_KEY)
        )
        since = datetime.fromisoformat(value) if value else utcnow() - FIRST_RUN_LOOKBACK
        return await db.scalar(select(func.min(Poll.expires_at)).where(Poll.expires_at > since))


async def run_poll_closer(node: Node, stop: asyncio.Event) -> None:
    """Close polls as they end, until ``stop`` is set: sleeps until the next end time
    (at most a minute, so polls created meanwhile are not missed by much)."""
    while not stop.is_set():
        try:
            await close_expired_polls(node)
            upcoming = await next_end(node)
        except Exception:
            log.exception("closing ended polls failed; retrying later")
            upcoming = None
        delay = CLOSER_MAX_SLEEP
        if upcoming is not None:
            delay = min(delay, max(0.5, (upcoming - utcnow()).total_seconds() + 0.1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
