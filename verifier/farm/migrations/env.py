"""Alembic environment of the farm's database: the engine comes from verifier.farm.database."""

from __future__ import annotations

from alembic import context

from verifier.farm.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
