"""Observations no longer carry a feed line: a good row is found by its origin and SKU.

Rejected rows keep their line (in rejected_rows), where it is what finds the row to fix.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the table, PostgreSQL drops the column in place.
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("line")


def downgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.add_column(sa.Column("line", sa.Integer(), nullable=True))
