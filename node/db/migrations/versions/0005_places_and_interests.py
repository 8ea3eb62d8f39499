"""places and interests: post locations, the firm's sites, followed hashtags

Revision ID: 0005
Revises: 0004

* ``posts.place`` keeps a post's AS2 ``location`` (ours, or a peer's as received);
  ``place_latitude``/``place_longitude`` repeat its coordinates under a partial index, so
  the nearby timeline reads a bounding box of the few posts that have a place and posts
  without one cost no index entry.
* ``sites`` and ``site_members``: the firm's offices and who works at which.
* ``followed_tags``: hashtags people follow (they feed home timelines).

Columns are added with plain ``ALTER TABLE ADD COLUMN`` (no table rebuild), which keeps
the ``actor_stats`` triggers of 0003 on ``posts`` in place on SQLite.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

HAS_PLACE = "place_latitude IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_sites_name")),
    )
    op.create_table(
        "site_members",
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_site_members_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_site_members_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_site_members")),
    )
    op.create_index("ix_site_members_site_id", "site_members", ["site_id"], unique=False)
    op.create_table(
        "followed_tags",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_followed_tags_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followed_tags")),
    )
    op.create_index(
        "ix_followed_tags_actor_id_tag", "followed_tags", ["actor_id", "tag"], unique=True
    )
    op.create_index("ix_followed_tags_tag", "followed_tags", ["tag"], unique=False)
    op.add_column("posts", sa.Column("place", sa.JSON(), nullable=True))
    op.add_column("posts", sa.Column("place_latitude", sa.Float(), nullable=True))
    op.add_column("posts", sa.Column("place_longitude", sa.Float(), nullable=True))
    op.create_index(
        "ix_posts_place_latitude",
        "posts",
        ["place_latitude", "place_longitude"],
        unique=False,
        sqlite_where=sa.text(HAS_PLACE),
        postgresql_where=sa.text(HAS_PLACE),
    )


def downgrade() -> None:
    op.drop_index("ix_posts_place_latitude", table_name="posts")
    op.drop_column("posts", "place_longitude")
    op.drop_column("posts", "place_latitude")
    op.drop_column("posts", "place")
    op.drop_index("ix_followed_tags_tag", table_name="followed_tags")
    op.drop_index("ix_followed_tags_actor_id_tag", table_name="followed_tags")
    op.drop_table("followed_tags")
    op.drop_index("ix_site_members_site_id", table_name="site_members")
    op.drop_table("site_members")
    op.drop_table("sites")
