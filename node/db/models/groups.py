"""Groups (shared circles): local Group actors, their settings and their staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from node.db.models.base import Base, cascade
from node.db.types import UTCDateTime, utcnow

ADMIN = "admin"
MODERATOR = "moderator"


class GroupSettings(Base):
    __tablename__ = "group_settings"

    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)
    members_only: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(cascade("actors.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupRole(Base):
    """Admins and moderators of a group hosted here; they may be on partner nodes."""

    __tablename__ = "group_roles"

    group_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default=MODERATOR)
