"""actor stats per statement: posts inserted together count once per author (PostgreSQL)

Revision ID: 0009
Revises: 0008

The inbox stores posts in multi-row INSERTs (node/batch_io.py, ``PgBatchIO``). 0003's
row-level trigger ran its upsert into ``actor_stats`` once per post, and posts of one
author in one transaction each updated the same row again: ≈ 0.01 to 0.03 CPU-ms per post
with distinct authors, 0.03 to 0.09 with one author per batch, in a database that shares
the cores with the web processes (docs/performance.md, "Scale-out on PostgreSQL"). On
PostgreSQL the INSERT part becomes a statement-level trigger reading
the statement's transition table: one upsert per author per statement. Its rows go in
author order, so two processes inserting posts of the same authors lock their
``actor_stats`` rows in the same order and cannot deadlock.

The meaning is 0003's: a post counts while ``deleted_at`` is NULL, ``last_status_at``
only grows on insert (``GREATEST`` ignores NULLs, as the row-level upsert did; ``max``
of the batch is what the row-by-row ``GREATEST`` reached). Soft deletes, restores and
deletes stay row-level (they touch one post at a time), with the same function body
minus its INSERT branch. SQLite has no statement-level triggers nor transition tables:
its triggers stay as 0003 made them, and this revision changes nothing there.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = "actor_id, statuses_count, followers_count, following_count, last_status_at"
NEWEST_LEFT = (
    "(SELECT p.published FROM posts AS p WHERE p.actor_id = OLD.actor_id "
    "AND p.deleted_at IS NULL ORDER BY p.id DESC LIMIT 1)"
)

UPGRADE = [
    "DROP TRIGGER actor_stats_posts ON posts",
    f"""
    CREATE OR REPLACE FUNCTION actor_stats_on_posts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        added boolean := false;
        removed boolean := false;
    BEGIN
        IF TG_OP = 'UPDATE' THEN
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
    CREATE FUNCTION actor_stats_on_posts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO actor_stats AS s ({COLUMNS})
        SELECT actor_id, count(*), 0, 0, max(published) FROM new_posts
        WHERE deleted_at IS NULL
        GROUP BY actor_id
        ORDER BY actor_id
        ON CONFLICT (actor_id) DO UPDATE SET
            statuses_count = s.statuses_count + EXCLUDED.statuses_count,
            last_status_at = GREATEST(s.last_status_at, EXCLUDED.last_status_at);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER actor_stats_posts AFTER DELETE OR UPDATE OF deleted_at ON posts
    FOR EACH ROW EXECUTE FUNCTION actor_stats_on_posts()
    """,
    """
    CREATE TRIGGER actor_stats_posts_inserted AFTER INSERT ON posts
    REFERENCING NEW TABLE AS new_posts
    FOR EACH STATEMENT EXECUTE FUNCTION actor_stats_on_posts_inserted()
    """,
]

#: 0003's function and trigger, as it created them.
DOWNGRADE = [
    "DROP TRIGGER actor_stats_posts_inserted ON posts",
    "DROP FUNCTION actor_stats_on_posts_inserted()",
    "DROP TRIGGER actor_stats_posts ON posts",
    f"""
    CREATE OR REPLACE FUNCTION actor_stats_on_posts() RETURNS trigger LANGUAGE plpgsql AS $$
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
    """
    CREATE TRIGGER actor_stats_posts AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON posts
    FOR EACH ROW EXECUTE FUNCTION actor_stats_on_posts()
    """,
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for statement in DOWNGRADE:
        op.execute(statement)
