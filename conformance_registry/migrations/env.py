"""Alembic environment: the connection is handed in by ``database.migrate``; the models give the metadata."""

from alembic import context

from conformance_registry.models import Base

target_metadata = Base.metadata
connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
