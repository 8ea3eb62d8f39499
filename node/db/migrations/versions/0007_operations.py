"""operations: delivery job leases and metrics

Revision ID: 0007
Revises: 0006

Reserved slot in the chain so that work on separate features can land in any order; it
changes nothing until its feature fills it in.
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
