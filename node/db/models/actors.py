"""Actors (local and remote, any AS2 actor type) and the local user accounts behind Persons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base
from node.db.types import UTCDateTime, utcnow


class Actor(Base):
    """One row per ActivityPub actor we know, ours (``local``) or a peer's.

    Remote rows are a cache of the peer's actor document; ``raw`` keeps the whole
    document so that fields we do not model yet are not lost.
    """

    __tablename__ = "actors"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    uri: Mapped[str] = mapped_column(String(2048), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    type: Mapped[str] = mapped_column(String(32), default="Person")
    username: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    inbox: Mapped[str] = mapped_column(String(2048), default="")
    outbox: Mapped[str] = mapped_column(String(2048), default="")
    followers_url: Mapped[str] = mapped_column(String(2048), default="")
    following_url: Mapped[str] = mapped_column(String(2048), default="")
    shared_inbox: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    avatar_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    public_key_id: Mapped[str] = mapped_column(String(2048), default="")
    public_key_pem: Mapped[str] = mapped_column(Text, default="")
    private_key_pem: Mapped[str | None] = mapped_column(Text, nullable=True)
    ed25519_public_multibase: Mapped[str | None] = mapped_column(String(128), nullable=True)
    ed25519_private_pem: Mapped[str | None] = mapped_column(Text, nullable=True)
    manually_approves: Mapped[bool] = mapped_column(Boolean, default=False)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_actors_username_domain", "username", "domain"),
        Index("ix_actors_public_key_id", "public_key_id"),
    )

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.domain}"

    @property
    def delivery_inbox(self) -> str:
        """Where fan-out goes: the shared inbox when the peer has one."""
        return self.shared_inbox or self.inbox


class User(Base):
    """A local account: the login behind one local Person actor."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True, nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActorStats(Base):
    """The counters every rendered account shows (Mastodon's ``account_stats``).

    Counting them per request would read every post of every author on a timeline page:
    with a million posts that is hundreds of milliseconds a page. They are kept by
    database triggers (migration 0003) on ``posts`` and ``follows``, so every path that
    writes those tables — services, inbox handlers, cascades — keeps them exact without
    knowing about them. ``statuses_count`` counts the actor's posts and boosts not
    deleted; ``last_status_at`` is the newest one's time. An actor without a row has
    zeros everywhere. Remote actors' follower counts seen here are only the local part;
    the renderer prefers the peer's own figures when its actor document has them.
    """

    __tablename__ = "actor_stats"

    actor_id: Mapped[int] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    statuses_count: Mapped[int] = mapped_column(BigInteger, default=0)
    followers_count: Mapped[int] = mapped_column(BigInteger, default=0)
    following_count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
