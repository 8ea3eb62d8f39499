"""The firm's sites (offices, plants, regions) and who works at which.

A post's own location lives on the post (``Post.place`` and its coordinates); a site is
a named place the admin maintains so that people pick "Lyon office" instead of typing
coordinates, and so that a site page can list its people.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db.ids import new_id
from node.db.models.base import Base, cascade
from node.db.types import UTCDateTime, utcnow


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    #: metres: how far from the centre a post still counts as "at" the site
    radius_m: Mapped[float] = mapped_column(Float, default=500.0)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SiteMember(Base):
    """A person's home site: one each, set by the admin (``cercle site assign``)."""

    __tablename__ = "site_members"

    actor_id: Mapped[int] = mapped_column(cascade("actors.id"), primary_key=True)
    site_id: Mapped[int] = mapped_column(cascade("sites.id"))

    __table_args__ = (Index("ix_site_members_site_id", "site_id"),)
