"""operations: delivery job leases

Revision ID: 0007
Revises: 0006

A claimed delivery row now records which worker process holds it and until when
(``claimed_by``, ``lease_until``), so several ``cercle worker`` processes on PostgreSQL
can share the queue and a killed worker's rows are handed out again once its lease ends.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
