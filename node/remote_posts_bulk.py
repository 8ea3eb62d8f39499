"""Storing many received posts at once: the batch twin of ``store_remote_post``.

The inbox applies concurrent activities in shared group-commit transactions
(node/inbox/group_commit.py). Storing one post takes about a dozen statements through
the ORM, each costing far more in Python and thread hand-offs than in SQLite. Here every
question is asked once for the whole batch — which posts exist, which addressees are
local, who follows the authors, who muted them — in one round trip, and every table gets
its rows in a second one (``node.batch_io``).

What is stored, who is notified and which live events are queued, in which order, are
what ``store_remote_post`` does for each post in turn: tests/federation/test_inbox_batch.py
runs the same activities through both and compares. Change both together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from federation.vocab import APObject
from node import audience as aud
from node.batch_io import BatchIO, Insert, Query, Statement
from node.db.ids import new_id
from node.db.models import Actor, Mention, Notification, Post, PostTag, TimelineEntry
from node.db.models.follows import ACCEPTED
from node.db.types import UTCDateTime, utcnow
from node.events import EVENTS_KEY, Event
from node.followed_tags import feed_tag_followers_bulk
from node.notifications import is_notifiable
from node.remote_posts import (
    addressees,
    concerns_someone_here,
    home_owners,
    mentioned,
    new_post_values,
)

#: Values per ``IN (...)``: far below SQLite's and asyncpg's limits on bound parameters.
IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class LocalActor:
    """What storing a post needs of a local addressee."""

    id: int
    uri: str
    type: str
    local: bool = True


@dataclass
class _Stored:
    """One post to store, and what it will announce once its rows are written."""

    values: dict[str, Any]
    #: the local addressees: one mention row each
    targets: list[int]
    owners: list[int]
    tags: list[str]
    notify: list[int]
    notifications: list[tuple[int, int]] = field(default_factory=list)  # (owner, row id)


@dataclass
class _Facts:
    """The answers of the batch's one round trip of reads."""

    known: dict[str, tuple[int, bool]]  # uri → (id, local) of stored posts
    local: dict[str, LocalActor]  # uri → local actor
    followers: dict[int, list[int]]  # author id → local follower ids
    muted: set[tuple[int, int]]  # (owner, author) muted for notifications


async def store_remote_posts(
    db: AsyncSession, io: BatchIO, posts: Sequence[tuple[APObject, Actor]]
) -> list[bool]:
    """Store each ``(post, author)`` that concerns someone here, in order.

    Returns, for each, whether the post is kept (stored now or already there), like
    ``store_remote_post`` returning a post or None. Later posts see earlier ones: a reply
    to a post of the same batch finds its parent.
    """
    addressed = [addressees(obj) for obj, _ in posts]
    facts = await _read_facts(io, posts, addressed)
    kept: list[bool] = []
    stored: list[_Stored] = []
    replies: dict[int, int] = defaultdict(int)
    for (obj, author), uris in zip(posts, addressed, strict=True):
        if obj.id in facts.known:
            kept.append(True)
            continue
        targets = [facts.local[u] for u in uris if u in facts.local]
        parent = facts.known.get(obj.in_reply_to) if obj.in_reply_to else None
        followers = facts.followers.get(author.id, [])
        if not concerns_someone_here(bool(targets), bool(followers), bool(parent and parent[1])):
            kept.append(False)
            continue
        values = new_post_values(obj, author, parent_id=parent[0] if parent else None)
        facts.known[obj.id] = (values["id"], False)
        if parent is not None:
            replies[parent[0]] += 1
        notify = [
            t.id
            for t in mentioned(obj, targets)
            if is_notifiable(t, author.id) and (t.id, author.id) not in facts.muted
        ]
        stored.append(
            _Stored(
                values=values,
                targets=[t.id for t in targets],
                owners=sorted(home_owners(values["audience"], (t.id for t in targets), followers)),
                tags=sorted({t.lower().lstrip("#") for t in obj.hashtags if t}),
                notify=notify,
            )
        )
        kept.append(True)
    if stored:
        io.write(_writes(stored, replies))
        await feed_tag_followers_bulk(db, io, [(s.values, s.tags, s.owners) for s in stored])
        loaded = _loaded_parents(db, replies)
        if loaded:
            await io.flush()  # the new counts are stored before the loaded copies learn them
            for parent in loaded:
                set_committed_value(
                    parent, "replies_count", parent.replies_count + replies[parent.id]
                )
        events = db.info.setdefault(EVENTS_KEY, [])
        for item in stored:
            _queue_events(events, item)
    return kept


async def _read_facts(
    io: BatchIO, posts: Sequence[tuple[APObject, Actor]], addressed_by_post: list[list[str]]
) -> _Facts:
    uris = {obj.id for obj, _ in posts} | {obj.in_reply_to for obj, _ in posts if obj.in_reply_to}
    addressed = {u for uris_of_post in addressed_by_post for u in uris_of_post}
    authors = sorted({author.id for _, author in posts})
    queries = [
        *(
            Query("SELECT uri, id, local FROM posts WHERE uri IN :uris", {"uris": chunk})
            for chunk in _chunks(sorted(uris))
        ),
        *(
            Query("SELECT id, uri, type FROM actors WHERE uri IN :uris AND local", {"uris": chunk})
            for chunk in _chunks(sorted(addressed))
        ),
        *(
            Query(
                "SELECT f.followee_id, f.follower_id FROM follows AS f"
                " JOIN actors AS a ON a.id = f.follower_id"
                " WHERE f.followee_id IN :authors AND f.state = :accepted AND a.local",
                {"authors": chunk, "accepted": ACCEPTED},
            )
            for chunk in _chunks(authors)
        ),
        *(
            # ``notify``'s mute check, for every author of the batch at once.
            Query(
                "SELECT actor_id, target_id FROM mutes WHERE target_id IN :authors"
                " AND notifications AND (expires_at IS NULL OR expires_at > :now)",
                {"authors": chunk, "now": utcnow()},
                {"now": UTCDateTime()},
            )
            for chunk in _chunks(authors)
        ),
    ]
    results = iter(await io.fetch(queries))
    facts = _Facts(known={}, local={}, followers=defaultdict(list), muted=set())
    for _ in _chunks(sorted(uris)):
        facts.known.update({uri: (post_id, bool(local)) for uri, post_id, local in next(results)})
    for _ in _chunks(sorted(addressed)):
        facts.local.update({uri: LocalActor(i, uri, kind) for i, uri, kind in next(results)})
    for _ in _chunks(authors):
        for followee, follower in next(results):
            facts.followers[followee].append(follower)
    for _ in _chunks(authors):
        facts.muted.update((owner, author) for owner, author in next(results))
    return facts


def _writes(stored: list[_Stored], replies: dict[int, int]) -> list[Insert | Statement]:
    """One INSERT per table for the whole batch, then the parents' reply counts."""
    now = utcnow()
    notifications: list[dict[str, Any]] = []
    for item in stored:
        for owner in item.notify:
            row_id = new_id()
            item.notifications.append((owner, row_id))
            notifications.append(
                {
                    "id": row_id,
                    "owner_id": owner,
                    "type": "mention",
                    "from_actor_id": item.values["actor_id"],
                    "post_id": item.values["id"],
                    "created_at": now,
                }
            )
    return [
        Insert(Post.__table__, [item.values for item in stored]),
        Insert(
            Mention.__table__,
            [
                {"post_id": item.values["id"], "actor_id": t}
                for item in stored
                for t in item.targets
            ],
        ),
        Insert(
            TimelineEntry.__table__,
            [{"owner_id": o, "post_id": item.values["id"]} for item in stored for o in item.owners],
            ignore_conflicts=True,
        ),
        Insert(
            PostTag.__table__,
            [{"tag": t, "post_id": item.values["id"]} for item in stored for t in item.tags],
            ignore_conflicts=True,
        ),
        Insert(Notification.__table__, notifications),
        Statement(
            "UPDATE posts SET replies_count = replies_count + :n WHERE id = :id",
            [{"n": n, "id": parent_id} for parent_id, n in replies.items()],
        ),
    ]


def _loaded_parents(db: AsyncSession, replies: dict[int, int]) -> list[Post]:
    """Replied-to posts this session already holds: they must learn their new count, or
    a later ``parent.replies_count += 1`` in the same transaction would write an old one."""
    held = (db.identity_map.get(identity_key(Post, parent_id)) for parent_id in replies)
    return [post for post in held if isinstance(post, Post)]


def _queue_events(events: list[Event], item: _Stored) -> None:
    """What ``add_to_timelines``, ``index_public_post`` and ``notify`` queue, in their
    order (``queue_event``, appended directly to the session's list)."""
    post_id = item.values["id"]
    events.extend(Event("update", f"user:{owner}", post_id) for owner in item.owners)
    if item.values["audience"] == aud.PUBLIC_AUDIENCE:
        events.append(Event("update", "public", post_id))
        events.append(Event("update", "public:remote", post_id))
        events.extend(Event("update", f"hashtag:{tag}", post_id) for tag in item.tags)
    events.extend(
        Event("notification", f"user:{owner}", row_id) for owner, row_id in item.notifications
    )


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[start : start + IN_CHUNK] for start in range(0, len(values), IN_CHUNK)]
