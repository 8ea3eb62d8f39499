"""The received-activity log: idempotency for inbox deliveries and retries by peers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from node.db.models.base import Base
from node.db.types import UTCDateTime, utcnow


class ReceivedActivity(Base):
    __tablename__ = "received_activities"

    uri: Mapped[str] = mapped_column(String(2048), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    actor_uri: Mapped[str] = mapped_column(String(2048))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
