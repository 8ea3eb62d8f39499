"""Circles (a user's private lists of people to post to) and the explicit recipients of
posts whose audience is a set of people rather than a collection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base, cascade
from node.db.types import UTCDateTime, utcnow


class Circle(Base):
    __tablename__ = "circles"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(cascade("actors.id"))
    title: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_circles_owner_id", "owner_id"),)


class CircleMember(Base):
    __tablename__ = "circle_members"

    circle_id: Mapped[int] = mapped_column(cascade("circles.id"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)


class PostRecipient(Base):
    """Who a circle post was for, fixed when it was posted (as in Google+: someone added
    to the circle later does not see earlier posts). Also the local addressees of circle
    posts received from peers. ``can_see`` reads it; it is never published."""

    __tablename__ = "post_recipients"

    post_id: Mapped[int] = mapped_column(cascade("posts.id"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)

    __table_args__ = (Index("ix_post_recipients_actor_id", "actor_id"),)


class PostCircle(Base):
    """Which of the author's circles a post went to (shown to the author only)."""

    __tablename__ = "post_circles"

    post_id: Mapped[int] = mapped_column(cascade("posts.id"), primary_key=True)
    circle_id: Mapped[int] = mapped_column(cascade("circles.id"), primary_key=True)
