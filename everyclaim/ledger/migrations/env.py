"""Alembic environment: uses the caller's connection when given (``db.upgrade``), else the URL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from everyclaim.ledger.schema import include_object, metadata

config = context.config
target_metadata = metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from everyclaim.ledger.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///everyclaim.db")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_online()
