"""Invitations to groups hosted here: an invited actor's Follow is accepted at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from node.db.models.base import Base, cascade
from node.db.types import UTCDateTime, utcnow


class GroupInvitation(Base):
    __tablename__ = "group_invitations"

    group_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)
    invited_by_id: Mapped[int] = mapped_column(cascade("actors.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
