"""Follow relationships (pending until accepted) and actor-level blocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base
from node.db.types import UTCDateTime, utcnow

PENDING = "pending"
ACCEPTED = "accepted"


class Follow(Base):
    __tablename__ = "follows"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    follower_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    followee_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    activity_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("follower_id", "followee_id"),
        Index("ix_follows_followee_state", "followee_id", "state"),
        Index("ix_follows_activity_uri", "activity_uri"),
    )


class Block(Base):
    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    blocked_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    activity_uri: Mapped[str] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id"),)
