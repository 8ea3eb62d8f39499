"""Alembic environment: migrations always run on a connection handed in by node.db.migrate."""

from alembic import context

from node.db.models import Base
from node.db.models.posts import declare_postgresql_options

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `cercle migrate`, which opens the database")
if connection.dialect.name == "postgresql":
    declare_postgresql_options()

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
