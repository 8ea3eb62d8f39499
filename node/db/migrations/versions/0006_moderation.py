"""moderation: reports, account actions (silence, suspend, sensitive)

Revision ID: 0006
Revises: 0005

``reports`` holds reports filed by local users and those received in a ``Flag``;
``account_moderation`` the admins' standing decision on an account. Account aliases
and moves live in the actor's document (``actors.raw``), so they need no column.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=False),
        sa.Column("status_ids", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("forwarded", sa.Boolean(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=True),
        sa.Column("action_taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("action_taken_by_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["actors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reporter_id"], ["actors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["action_taken_by_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uri"),
    )
    op.create_index("ix_reports_account_id", "reports", ["account_id"])
    op.create_table(
        "account_moderation",
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("silenced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sensitized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("actor_id"),
    )


def downgrade() -> None:
    op.drop_table("account_moderation")
    op.drop_index("ix_reports_account_id", table_name="reports")
    op.drop_table("reports")
