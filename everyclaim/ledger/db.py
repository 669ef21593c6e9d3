"""Engines, URLs and migrations.

``make_engine`` gives an engine configured the same way everywhere: SQLite in WAL mode with
foreign keys on, a busy timeout and real SAVEPOINTs; PostgreSQL through psycopg 3.
``upgrade`` brings a database to the Alembic head shipped inside this package (``everyclaim init``).
Services never commit: the command or request owns the transaction (``with engine.begin() as conn``).
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

DEFAULT_URL = "sqlite:///everyclaim.db"
ENV_VAR = "EVERYCLAIM_DB"
MIGRATIONS = Path(__file__).with_name("migrations")


def resolve_url(cli_value: str | None) -> str:
    """``--db URL`` wins over ``$EVERYCLAIM_DB``, which wins over ``sqlite:///everyclaim.db``."""
    return cli_value or os.environ.get(ENV_VAR) or DEFAULT_URL


def _normalise(url: str) -> str:
    """Plain ``postgresql://`` URLs get the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact(url: str) -> str:
    """The URL with its password masked, for printing."""
    return sa.make_url(_normalise(url)).render_as_string(hide_password=True)


def make_engine(url: str, **kw: object) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, busy timeout and proper transactions."""
    url = _normalise(url)
    if not url.startswith("sqlite"):
        return sa.create_engine(url, **kw)  # type: ignore[arg-type]
    engine = sa.create_engine(url, **kw)  # type: ignore[arg-type]

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN (SAVEPOINT works)
        cur = dbapi_conn.cursor()
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN")

    return engine


def alembic_config(url: str = "") -> Config:
    """An Alembic config pointing at the migrations inside the installed package (no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", _normalise(url).replace("%", "%%"))
    return cfg


def upgrade(engine_or_url: sa.Engine | str, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (the head by default). Idempotent."""
    engine = make_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if isinstance(engine_or_url, str):
        engine.dispose()


def current_revision(conn: sa.Connection) -> str | None:
    """The Alembic revision the database is at (``None`` when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()
