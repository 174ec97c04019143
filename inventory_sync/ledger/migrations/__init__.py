"""Alembic migrations for the ledger, packaged so no alembic.ini is needed at run time."""
