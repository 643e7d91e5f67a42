"""Alembic migrations of the audit store (applied by ``krackwatch.fleet.store.open_store``; no alembic.ini)."""
