"""Alembic environment: the connection comes from `monitor.store.database.migrate`."""

from alembic import context

from monitor.store.database import SQLModel

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand lands here
    raise SystemExit("run migrations through monitor (they apply when a store is opened)")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
)
with context.begin_transaction():
    context.run_migrations()
