"""Home timelines, written at post time (fan-out on write)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from node.db.models.base import Base


class TimelineEntry(Base):
    """``(owner_id, post_id)`` is the primary key, so ``WHERE owner_id = ? AND post_id < ?
    ORDER BY post_id DESC LIMIT n`` is one index range scan whatever the table's size."""

    __tablename__ = "timeline_entries"

    owner_id: Mapped[int] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
