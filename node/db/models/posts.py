"""Posts (Notes and the like, plus boosts as posts pointing at another) and reactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base
from node.db.types import UTCDateTime, utcnow

#: The predicate of the partial index on a post's place.
HAS_PLACE = "place_latitude IS NOT NULL"


class Post(Base):
    """A status. A boost (Announce) is a post whose ``reblog_of_id`` names the boosted one,
    as in Mastodon, so that timelines hold one kind of entry.

    ``audience`` is the one audience chosen by the author (DESIGN.md section 3);
    ``to``/``cc`` keep the addressing as received or sent.
    """

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    type: Mapped[str] = mapped_column(String(32), default="Note")
    audience: Mapped[str] = mapped_column(String(32), default="public")
    content: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(Text, nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    in_reply_to_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    in_reply_to_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reblog_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), nullable=True
    )
    #: group posts: the Group actor the post was addressed to (FEP-1b12 ``audience``)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), nullable=True, index=True
    )
    to: Mapped[list[str]] = mapped_column(JSON, default=list)
    cc: Mapped[list[str]] = mapped_column(JSON, default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: the AS2 ``location`` Place as sent (node/places.py); its coordinates again below,
    #: indexed for the nearby timeline
    place: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    place_latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    place_longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    published: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    likes_count: Mapped[int] = mapped_column(BigInteger, default=0)
    reblogs_count: Mapped[int] = mapped_column(BigInteger, default=0)
    replies_count: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        Index("ix_posts_actor_id_id", "actor_id", "id"),
        Index("ix_posts_in_reply_to_id", "in_reply_to_id"),
        Index("ix_posts_reblog_of_id", "reblog_of_id"),
        # "which of these posts has this actor boosted": one probe per post on a page
        Index("ix_posts_actor_id_reblog_of_id", "actor_id", "reblog_of_id"),
        Index("ix_posts_local_audience_id", "local", "audience", "id"),
        # Partial: the few posts with a place pay for the index, the others do not. The
        # PostgreSQL predicate is the same (migration 0005); it is declared by
        # declare_postgresql_options(), because naming a ``postgresql_*`` option here
        # would import SQLAlchemy's PostgreSQL dialect into every SQLite node (≈ 2.4 MB,
        # ≈ 80 ms of start-up; docs/performance.md, "Idle memory and start-up").
        Index(
            "ix_posts_place_latitude",
            "place_latitude",
            "place_longitude",
            sqlite_where=text(HAS_PLACE),
        ),
    )


def declare_postgresql_options() -> None:
    """Give the metadata its PostgreSQL-only index options, for code that compares it with
    a PostgreSQL schema or creates one from it (Alembic's environment does, on PostgreSQL).
    Idempotent; imports the PostgreSQL dialect, which a PostgreSQL connection has loaded."""
    index = next(i for i in Post.__table__.indexes if i.name == "ix_posts_place_latitude")
    index.dialect_options["postgresql"]["where"] = text(HAS_PLACE)


class Mention(Base):
    """Who a post mentions: drives direct-message visibility and notifications."""

    __tablename__ = "mentions"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[int] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )


class Like(Base):
    __tablename__ = "likes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("actor_id", "post_id"),
        Index("ix_likes_uri", "uri"),
    )
