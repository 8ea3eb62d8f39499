"""federation policy and groups: domains allowed in partners mode, group invitations

Revision ID: 0008
Revises: 0007

``domain_states.allowed``: in ``partners`` federation mode the node talks to its partner
firms and to the domains the admin allowed (``cercle domain allow``).
``group_invitations``: people invited to a group hosted here join without approval.
``web_sessions``: one row per signed-in browser, so that sessions can be listed and ended
one by one (cookies signed before this revision have no row: they sign in again).
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("domain_states") as batch:
        batch.add_column(
            sa.Column("allowed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "group_invitations",
        sa.Column("group_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("invited_by_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["actors.id"],
            name=op.f("fk_group_invitations_group_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_group_invitations_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["actors.id"],
            name=op.f("fk_group_invitations_invited_by_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "actor_id", name=op.f("pk_group_invitations")),
    )

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("nonce", name=op.f("uq_web_sessions_nonce")),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("group_invitations")
    with op.batch_alter_table("domain_states") as batch:
        batch.drop_column("allowed")
