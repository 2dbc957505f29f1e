"""Alembic environment: runs migrations on the URL that `onegrid.db.migrate` passes."""

from __future__ import annotations

from alembic import context

from onegrid.db.engine import make_engine
from onegrid.db.registry import metadata

config = context.config


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", immediate=False)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
