"""groups and threads: group membership roles, forwarded replies

Revision ID: 0008
Revises: 0007

Reserved slot in the chain so that work on separate features can land in any order; it
changes nothing until its feature fills it in.
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
