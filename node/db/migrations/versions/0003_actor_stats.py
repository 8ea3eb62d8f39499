"""actor stats: per-actor counters kept by triggers; index for the viewer's boosts

Revision ID: 0003
Revises: 0002

Every rendered account shows its statuses, followers and following counts and the date
of its last post. Counted per request they cost a scan of every post of every author on
a timeline page (≈ 400 ms a page with a million posts), so they are kept in
``actor_stats``, updated by triggers on ``posts`` and ``follows``:

* a post counts while ``deleted_at`` is NULL: inserting one adds it, soft-deleting
  (``deleted_at`` set) or deleting the row removes it, clearing ``deleted_at`` adds it back;
  ``last_status_at`` is the newest such post's ``published`` (after a removal, the
  newest remaining by id — ids are time-sortable, so one step down ``ix_posts_actor_id_id``);
* a follow counts while its ``state`` is ``accepted``, for the followee's
  ``followers_count`` and the follower's ``following_count``.

Triggers rather than code in the services: posts and follows are written from a dozen
places (posting, boosts, the inbox handlers, bulk ingest, deletions, cascades from a
deleted actor), and a counter that one of them forgot would drift silently. Existing rows
are counted once here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = "actor_id, statuses_count, followers_count, following_count, last_status_at"
NEWEST_LEFT = (
    "(SELECT p.published FROM posts AS p WHERE p.actor_id = OLD.actor_id "
    "AND p.deleted_at IS NULL ORDER BY p.id DESC LIMIT 1)"
)

SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER actor_stats_post_added AFTER INSERT ON posts
    WHEN NEW.deleted_at IS NULL
    BEGIN
        INSERT INTO actor_stats ({COLUMNS}) VALUES (NEW.actor_id, 1, 0, 0, NEW.published)
        ON CONFLICT (actor_id) DO UPDATE SET
            statuses_count = statuses_count + 1,
            last_status_at = max(coalesce(last_status_at, excluded.last_status_at),
                                 excluded.last_status_at);
    END
    """,
    f"""
    CREATE TRIGGER actor_stats_post_restored AFTER UPDATE OF deleted_at ON posts
    WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL
    BEGIN
        INSERT INTO actor_stats ({COLUMNS}) VALUES (NEW.actor_id, 1, 0, 0, NEW.published)
        ON CONFLICT (actor_id) DO UPDATE SET
            statuses_count = statuses_count + 1,
            last_status_at = max(coalesce(last_status_at, excluded.last_status_at),
                                 excluded.last_status_at);
    END
    """,
    f"""
    CREATE TRIGGER actor_stats_post_removed AFTER UPDATE OF deleted_at ON posts
    WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
    BEGIN
        UPDATE actor_stats SET statuses_count = statuses_count - 1,
            last_status_at = {NEWEST_LEFT}
        WHERE actor_id = OLD.actor_id;
    END
    """,
    f"""
    CREATE TRIGGER actor_stats_post_deleted AFTER DELETE ON posts
    WHEN OLD.deleted_at IS NULL
    BEGIN
        UPDATE actor_stats SET statuses_count = statuses_count - 1,
            last_status_at = {NEWEST_LEFT}
        WHERE actor_id = OLD.actor_id;
    END
    """,
    f"""
    CREATE TRIGGER actor_stats_follow_added AFTER INSERT ON follows
    WHEN NEW.state = 'accepted'
    BEGIN
        INSERT INTO actor_stats ({COLUMNS}) VALUES (NEW.followee_id, 0, 1, 0, NULL)
        ON CONFLICT (actor_id) DO UPDATE SET followers_count = followers_count + 1;
        INSERT INTO actor_stats ({COLUMNS}) VALUES (NEW.follower_id, 0, 0, 1, NULL)
        ON CONFLICT (actor_id) DO UPDATE SET following_count = following_count + 1;
    END
    """,
    f"""
    CREATE TRIGGER actor_stats_follow_accepted AFTER UPDATE OF state ON follows
    WHEN OLD.state <> 'accepted' AND NEW.state = 'accepted'
    BEGIN
        INSERT INTO actor_stats ({COLUMNS}) VALUES (NEW.followee_id, 0, 1, 0, NULL)
        ON CONFLICT (actor_id) DO UPDATE SET followers_count = followers_count + 1;
        INSERT INTO actor_stats ({COLUMNS}) VALUES (NEW.follower_id, 0, 0, 1, NULL)
        ON CONFLICT (actor_id) DO UPDATE SET following_count = following_count + 1;
    END
    """,
    """
    CREATE TRIGGER actor_stats_follow_ended AFTER UPDATE OF state ON follows
    WHEN OLD.state = 'accepted' AND NEW.state <> 'accepted'
    BEGIN
        UPDATE actor_stats SET followers_count = followers_count - 1
        WHERE actor_id = OLD.followee_id;
        UPDATE actor_stats SET following_count = following_count - 1
        WHERE actor_id = OLD.follower_id;
    END
    """,
    """
    CREATE TRIGGER actor_stats_follow_deleted AFTER DELETE ON follows
    WHEN OLD.state = 'accepted'
    BEGIN
        UPDATE actor_stats SET followers_count = followers_count - 1
        WHERE actor_id = OLD.followee_id;
        UPDATE actor_stats SET following_count = following_count - 1
        WHERE actor_id = OLD.follower_id;
    END
    """,
]
SQLITE_TRIGGER_NAMES = [
    "actor_stats_post_added",
    "actor_stats_post_restored",
    "actor_stats_post_removed",
    "actor_stats_post_deleted",
    "actor_stats_follow_added",
    "actor_stats_follow_accepted",
    "actor_stats_follow_ended",
    "actor_stats_follow_deleted",
]

POSTGRES_FUNCTIONS = [
    f"""
    CREATE FUNCTION actor_stats_on_posts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        added boolean := false;
        removed boolean := false;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            added := NEW.deleted_at IS NULL;
        ELSIF TG_OP = 'UPDATE' THEN
            added := OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL;
            removed := OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL;
        ELSE
            removed := OLD.deleted_at IS NULL;
        END IF;
        IF added THEN
            INSERT INTO actor_stats AS s ({COLUMNS})
            VALUES (NEW.actor_id, 1, 0, 0, NEW.published)
            ON CONFLICT (actor_id) DO UPDATE SET
                statuses_count = s.statuses_count + 1,
                last_status_at = GREATEST(s.last_status_at, EXCLUDED.last_status_at);
        END IF;
        IF removed THEN
            UPDATE actor_stats SET statuses_count = statuses_count - 1,
                last_status_at = {NEWEST_LEFT}
            WHERE actor_id = OLD.actor_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    f"""
    CREATE FUNCTION actor_stats_on_follows() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        added boolean := false;
        removed boolean := false;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            added := NEW.state = 'accepted';
        ELSIF TG_OP = 'UPDATE' THEN
            added := OLD.state <> 'accepted' AND NEW.state = 'accepted';
            removed := OLD.state = 'accepted' AND NEW.state <> 'accepted';
        ELSE
            removed := OLD.state = 'accepted';
        END IF;
        IF added THEN
            INSERT INTO actor_stats AS s ({COLUMNS}) VALUES (NEW.followee_id, 0, 1, 0, NULL)
            ON CONFLICT (actor_id) DO UPDATE SET followers_count = s.followers_count + 1;
            INSERT INTO actor_stats AS s ({COLUMNS}) VALUES (NEW.follower_id, 0, 0, 1, NULL)
            ON CONFLICT (actor_id) DO UPDATE SET following_count = s.following_count + 1;
        END IF;
        IF removed THEN
            UPDATE actor_stats SET followers_count = followers_count - 1
            WHERE actor_id = OLD.followee_id;
            UPDATE actor_stats SET following_count = following_count - 1
            WHERE actor_id = OLD.follower_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER actor_stats_posts AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON posts
    FOR EACH ROW EXECUTE FUNCTION actor_stats_on_posts()
    """,
    """
    CREATE TRIGGER actor_stats_follows AFTER INSERT OR DELETE OR UPDATE OF state ON follows
    FOR EACH ROW EXECUTE FUNCTION actor_stats_on_follows()
    """,
]

BACKFILL = f"""
    INSERT INTO actor_stats ({COLUMNS})
    SELECT a.id,
        (SELECT count(*) FROM posts AS p WHERE p.actor_id = a.id AND p.deleted_at IS NULL),
        (SELECT count(*) FROM follows AS f WHERE f.followee_id = a.id AND f.state = 'accepted'),
        (SELECT count(*) FROM follows AS f WHERE f.follower_id = a.id AND f.state = 'accepted'),
        (SELECT max(p.published) FROM posts AS p
         WHERE p.actor_id = a.id AND p.deleted_at IS NULL)
    FROM actors AS a
"""


def upgrade() -> None:
    op.create_table(
        "actor_stats",
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("statuses_count", sa.BigInteger(), nullable=False),
        sa.Column("followers_count", sa.BigInteger(), nullable=False),
        sa.Column("following_count", sa.BigInteger(), nullable=False),
        sa.Column("last_status_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_actor_stats_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_actor_stats")),
    )
    op.execute(BACKFILL)
    # Rendering a page asks which of its posts the viewer boosted; without this index
    # SQLite reads every post of the viewer to answer.
    op.create_index("ix_posts_actor_id_reblog_of_id", "posts", ["actor_id", "reblog_of_id"])
    statements = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FUNCTIONS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS actor_stats_posts ON posts")
        op.execute("DROP TRIGGER IF EXISTS actor_stats_follows ON follows")
        op.execute("DROP FUNCTION IF EXISTS actor_stats_on_posts()")
        op.execute("DROP FUNCTION IF EXISTS actor_stats_on_follows()")
    op.drop_index("ix_posts_actor_id_reblog_of_id", table_name="posts")
    op.drop_table("actor_stats")
