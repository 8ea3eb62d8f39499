"""Signed-in web sessions, one row each, so that a person can see where they are signed
in and end one session at a time (the cookie stays signed; the row is what makes it
valid)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base, cascade
from node.db.types import UTCDateTime, utcnow


class WebSessionRecord(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    #: the cookie's nonce (never shown: forms name a session by ``id``)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(cascade("users.id"))
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_web_sessions_user_id", "user_id"),)
