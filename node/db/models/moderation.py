"""Moderation: reports (Mastodon's ``reports``) and the admins' standing decisions on an
account (silenced, suspended, marked sensitive), kept apart from ``actors`` because a
remote actor's row is rewritten whenever its document is fetched again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base
from node.db.types import UTCDateTime, utcnow

#: Mastodon's report categories.
CATEGORIES = ("spam", "legal", "violation", "other")


class Report(Base):
    """One report about one account, filed by a local user or received in a ``Flag``.

    ``reporter_id`` is the local user's actor, or for a received ``Flag`` the actor that
    sent it (usually the peer's application actor, as Mastodon keeps reporters
    anonymous). ``status_ids`` are our ids of the reported posts.
    """

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    status_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16), default="other")
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the Flag's id: ours when forwarded, the peer's when received
    uri: Mapped[str | None] = mapped_column(String(2048), nullable=True, unique=True)
    action_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    action_taken_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_reports_account_id", "account_id"),)


class AccountModeration(Base):
    """The admins' standing decision on one account, local or remote (one row at most)."""

    __tablename__ = "account_moderation"

    actor_id: Mapped[int] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    silenced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sensitized_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: the last action's text, as the admin wrote it
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
