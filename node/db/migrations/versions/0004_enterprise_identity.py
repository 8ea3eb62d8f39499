"""enterprise identity: OIDC links, SCIM tokens and groups, retention, audit log

Revision ID: 0004
Revises: 0003

Reserved slot in the chain so that work on separate features can land in any order; it
changes nothing until its feature fills it in.
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
