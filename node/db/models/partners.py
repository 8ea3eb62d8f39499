"""Partnerships between firms: a mutual follow of the two Organization actors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base, cascade
from node.db.types import UTCDateTime, utcnow

#: We asked; they have not answered.
PROPOSED = "proposed"
#: They asked; our admin has not answered.
REQUESTED = "requested"
ACTIVE = "active"
REFUSED = "refused"
ENDED = "ended"


class Partnership(Base):
    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    org_actor_id: Mapped[int] = mapped_column(cascade("actors.id"))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
