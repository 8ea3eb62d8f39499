"""moderation: reports, account actions, moves

Revision ID: 0006
Revises: 0005

Reserved slot in the chain so that work on separate features can land in any order; it
changes nothing until its feature fills it in.
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
