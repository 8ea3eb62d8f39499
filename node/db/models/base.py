"""Declarative base with a naming convention, so Alembic migrations name constraints stably."""

from sqlalchemy import ForeignKey, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def cascade(target: str) -> ForeignKey:
    """A foreign key whose rows go when the row they point at goes."""
    return ForeignKey(target, ondelete="CASCADE")
