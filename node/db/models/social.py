"""Per-account state the client API exposes: notifications, bookmarks, pins, mutes,
lists, markers, hashtags of posts, edit history, idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base, cascade
from node.db.types import UTCDateTime, utcnow


class Notification(Base):
    """``type`` is one of Mastodon's: mention, status, reblog, follow, follow_request,
    favourite, poll, update."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(cascade("actors.id"))
    type: Mapped[str] = mapped_column(String(32))
    from_actor_id: Mapped[int] = mapped_column(cascade("actors.id"))
    post_id: Mapped[int | None] = mapped_column(cascade("posts.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_notifications_owner_id_id", "owner_id", "id"),)


class Bookmark(Base):
    __tablename__ = "bookmarks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"))
    post_id: Mapped[int] = mapped_column(cascade("posts.id"))

    __table_args__ = (Index("ix_bookmarks_actor_id_post_id", "actor_id", "post_id", unique=True),)


class Pin(Base):
    __tablename__ = "pins"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"))
    post_id: Mapped[int] = mapped_column(cascade("posts.id"))

    __table_args__ = (Index("ix_pins_actor_id_post_id", "actor_id", "post_id", unique=True),)


class Mute(Base):
    __tablename__ = "mutes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"))
    target_id: Mapped[int] = mapped_column(cascade("actors.id"))
    notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_mutes_actor_id_target_id", "actor_id", "target_id", unique=True),)


class UserList(Base):
    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(cascade("actors.id"))
    title: Mapped[str] = mapped_column(String(255))
    replies_policy: Mapped[str] = mapped_column(String(16), default="list")
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)


class ListMember(Base):
    __tablename__ = "list_members"

    list_id: Mapped[int] = mapped_column(cascade("lists.id"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)


class Marker(Base):
    __tablename__ = "markers"

    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)
    timeline: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_read_id: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PostTag(Base):
    """Hashtags of posts, for tag timelines (one index range scan per tag)."""

    __tablename__ = "post_tags"

    tag: Mapped[str] = mapped_column(String(128), primary_key=True)
    post_id: Mapped[int] = mapped_column(cascade("posts.id"), primary_key=True)


class PostEdit(Base):
    """A previous version of an edited post (``GET /api/v1/statuses/:id/history``)."""

    __tablename__ = "post_edits"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    post_id: Mapped[int] = mapped_column(cascade("posts.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(cascade("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    post_id: Mapped[int] = mapped_column(cascade("posts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MediaAttachment(Base):
    __tablename__ = "media_attachments"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(cascade("actors.id"))
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), nullable=True, index=True
    )
    type: Mapped[str] = mapped_column(String(16), default="image")
    mime_type: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    thumbnail_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    blurhash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    focus_x: Mapped[float | None] = mapped_column(nullable=True)
    focus_y: Mapped[float | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Poll(Base):
    __tablename__ = "polls"

    post_id: Mapped[int] = mapped_column(cascade("posts.id"), primary_key=True)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{"title", "votes_count"}]
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voters_count: Mapped[int] = mapped_column(Integer, default=0)


class PollVote(Base):
    __tablename__ = "poll_votes"

    post_id: Mapped[int] = mapped_column(cascade("polls.post_id"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)
    choice: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
