"""Migrations: upgrade from empty, idempotent, and the Alembic head equals ``schema.metadata``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from everyclaim.ledger.db import alembic_config, current_revision, redact, resolve_url, upgrade
from everyclaim.ledger.schema import include_object, metadata
from everyclaim.work import schema as _work_schema  # noqa: F401  (its tables are part of the head)


def test_upgrade_from_empty_reaches_head_and_matches_metadata(empty_engine: sa.Engine) -> None:
    upgrade(empty_engine)
    upgrade(empty_engine)  # idempotent
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with empty_engine.connect() as conn:
        assert current_revision(conn) == head
        opts = {"compare_type": True, "include_object": include_object(conn.dialect.name)}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("work_items")}
        names = set(sa.inspect(conn).get_table_names())
    assert diff == []
    assert {tb.name for tb in metadata.sorted_tables} <= names
    # the pcn prefix-search index is PostgreSQL's alone (migration 0005_work_pcn_search)
    assert ("ix_work_items_pcn_pattern" in indexes) == (empty_engine.dialect.name == "postgresql")


def test_resolve_url_order(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("EVERYCLAIM_DB", raising=False)
    assert resolve_url(None) == "sqlite:///everyclaim.db"
    monkeypatch.setenv("EVERYCLAIM_DB", "sqlite:///env.db")
    assert resolve_url(None) == "sqlite:///env.db"
    assert resolve_url("sqlite:///cli.db") == "sqlite:///cli.db"
    assert "secret" not in redact("postgresql://u:secret@h/db")
