"""Posts, accounts, media and polls as plain read-only records, for the read paths that
render many of them (timelines, threads, notifications).

Building an ORM object costs tens of microseconds and reading one of its attributes
goes through a descriptor; a page of 40 statuses reads ≈ 90 posts and accounts and
thousands of attributes. These records are named tuples with the models' column names,
read with ``node.db.one_hop`` from statements built once, so rendering code written for
``Post`` or ``Actor`` reads them unchanged. What a timeline never shows is left out: a
post's received document and addressing (``raw``, ``to``, ``cc``) and an account's keys.
An account's ``raw`` holds only the few members of its actor document rendering reads,
extracted by the database (decoding each remote account's whole document cost ≈ 0.6 ms
a page).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy import JSON, bindparam, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from node.db.models import Actor, ActorStats, MediaAttachment, Poll, Post
from node.db.one_hop import Row, columns_of


def ids_param() -> Any:
    """A list of ids bound at execution (statements here are built once)."""
    return bindparam("ids", expanding=True)


def _record(name: str, columns: tuple[Any, ...]) -> Any:
    return namedtuple(name, [c.key for c in columns])  # type: ignore[misc]


POST_COLUMNS = columns_of(Post, leave_out=("raw", "to", "cc"))
#: A post as a timeline reads it: every column of ``Post`` but ``raw``, ``to`` and ``cc``.
PostRow = _record("PostRow", POST_COLUMNS)
POSTS_BY_ID = select(*POST_COLUMNS).where(Post.id.in_(ids_param()))


class JsonMembers(FunctionElement[Any]):
    """Some top-level members of a JSON column, as one JSON array (null for a missing
    member): SQLite parses the document once for all of them (``json_extract`` with
    several paths), where one extraction per member parsed it once per member."""

    type = JSON()
    name = "json_members"
    inherit_cache = True

    def __init__(self, column: Any, members: tuple[str, ...]) -> None:
        # The names travel as literal clauses, so that they are part of the cache key.
        super().__init__(column, *(literal_column(m) for m in members))


def _member_names(element: JsonMembers) -> tuple[Any, list[str]]:
    column, *names = element.clauses
    for name in names:
        if not name.name.replace("_", "").isalnum():
            raise ValueError(f"not a plain member name: {name.name!r}")
    return column, [name.name for name in names]


@compiles(JsonMembers, "sqlite")
def _json_members_sqlite(element: JsonMembers, compiler: Any, **kw: Any) -> str:
    column, names = _member_names(element)
    paths = ", ".join(f"'$.\"{name}\"'" for name in names)
    return f"json_extract({compiler.process(column, **kw)}, {paths})"


@compiles(JsonMembers)
def _json_members_default(element: JsonMembers, compiler: Any, **kw: Any) -> str:
    column, names = _member_names(element)
    target = compiler.process(column, **kw)
    members = ", ".join(f"{target} -> '{name}'" for name in names)
    return f"CASE WHEN {target} IS NULL THEN NULL ELSE json_build_array({members}) END"


#: Members of a remote actor's document that rendering an account reads.
RAW_MEMBERS = (
    "image",
    "attachment",
    "followersCount",
    "followers_count",
    "followingCount",
    "following_count",
)
ACTOR_COLUMNS = columns_of(
    Actor,
    leave_out=("raw", "public_key_pem", "private_key_pem", "ed25519_private_pem"),
)
STATS_COLUMNS = (
    ActorStats.followers_count,
    ActorStats.following_count,
    ActorStats.statuses_count,
    ActorStats.last_status_at,
)
#: An account as rendering reads it (``raw``: the ``RAW_MEMBERS`` it has, or None).
ActorRow = namedtuple(  # type: ignore[misc]
    "ActorRow", [c.key for c in ACTOR_COLUMNS] + ["raw"]
)
#: Accounts with their counters: the actor's columns, the document's ``RAW_MEMBERS``
#: (one JSON array; NULL without a document), then ``STATS_COLUMNS`` (NULL without a
#: counters row).
ACTORS_WITH_STATS = (
    select(
        *ACTOR_COLUMNS,
        JsonMembers(Actor.raw, RAW_MEMBERS),
        *STATS_COLUMNS,
    )
    .outerjoin(ActorStats, ActorStats.actor_id == Actor.id)
    .where(Actor.id.in_(ids_param()))
)
STATS_OF = select(ActorStats.actor_id, *STATS_COLUMNS).where(ActorStats.actor_id.in_(ids_param()))

MEDIA_COLUMNS = columns_of(MediaAttachment)
MediaRow = _record("MediaRow", MEDIA_COLUMNS)
MEDIA_OF = (
    select(*MEDIA_COLUMNS)
    .where(MediaAttachment.post_id.in_(ids_param()))
    .order_by(MediaAttachment.id)
)
POLL_COLUMNS = columns_of(Poll)
PollRow = _record("PollRow", POLL_COLUMNS)
POLLS_OF = select(*POLL_COLUMNS).where(Poll.post_id.in_(ids_param()))


def actor_with_stats(row: Row) -> tuple[Any, Any]:
    """``(ActorRow, stats values)`` from a row of ``ACTORS_WITH_STATS``."""
    width = len(ACTOR_COLUMNS)
    members = row[width]
    raw = (
        {k: v for k, v in zip(RAW_MEMBERS, members, strict=True) if v is not None}
        if members is not None
        else None
    )
    return ActorRow(*row[:width], raw), row[width + 1 :]
