"""places and interests: post locations, sites, followed hashtags

Revision ID: 0005
Revises: 0004

Reserved slot in the chain so that work on separate features can land in any order; it
changes nothing until its feature fills it in.
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
