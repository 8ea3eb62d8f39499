"""The durable delivery queue and per-domain delivery health.

Delivery states, for operators:

=========  ===========================================================
pending    waiting for ``next_attempt_at``; a worker may claim it
in_flight  claimed by a worker (``claimed_by``, ``claimed_at``) until ``lease_until``;
           handed out again once the lease has run out (the worker died)
done       the peer answered 2xx
dead       gave up: 4xx that will not change, or older than 3 days
=========  ===========================================================
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base
from node.db.types import UTCDateTime, utcnow

PENDING = "pending"
IN_FLIGHT = "in_flight"
DONE = "done"
DEAD = "dead"


class Delivery(Base):
    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    activity_uri: Mapped[str] = mapped_column(String(2048))
    sender_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    inbox: Mapped[str] = mapped_column(String(2048))
    domain: Mapped[str] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: which worker process holds the row (host:pid:random) and until when
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_deliveries_state_next", "state", "next_attempt_at"),)


class DomainState(Base):
    """Circuit breaker and admin blocks, per remote domain."""

    __tablename__ = "domain_states"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: allowed in ``partners`` federation mode although not a partner
    allowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
