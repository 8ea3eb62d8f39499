"""Node-wide values set at run time by the admin (federation mode, node creation marker)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db.models.base import Base


class NodeSetting(Base):
    __tablename__ = "node_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
