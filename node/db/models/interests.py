"""Hashtags people follow (Mastodon's followed tags): they feed their home timelines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base, cascade
from node.db.types import UTCDateTime, utcnow


class FollowedTag(Base):
    """``tag`` is normalised (lower case, no ``#``) like ``PostTag.tag``; ``id`` pages
    ``/api/v1/followed_tags``."""

    __tablename__ = "followed_tags"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"))
    tag: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_followed_tags_actor_id_tag", "actor_id", "tag", unique=True),
        # fan-out: "who follows any of these tags" is one index probe per tag
        Index("ix_followed_tags_tag", "tag"),
    )
