"""The ledger: runs, observations, adjustments and agreed levels (SQL lives in its modules)."""

# Deliberately empty: importing `inventory_sync.ledger.memory` must not pull in SQLAlchemy.
