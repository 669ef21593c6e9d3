"""Alembic migrations for the ledger (run through :func:`everyclaim.ledger.db.upgrade`)."""
