"""Rejected rows keep the SKU and warehouse they named, so `explain SKU` can list them.

Rows quarantined before this revision keep null in both: their SKU was never recorded.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns are added in place on both SQLite and PostgreSQL; no table rebuild.
    op.add_column("rejected_rows", sa.Column("sku", sa.String(), nullable=True))
    op.add_column("rejected_rows", sa.Column("warehouse", sa.String(), nullable=True))
    op.create_index("ix_rejected_rows_sku_at", "rejected_rows", ["sku", "at"])


def downgrade() -> None:
    op.drop_index("ix_rejected_rows_sku_at", table_name="rejected_rows")
    with op.batch_alter_table("rejected_rows") as batch:
        batch.drop_column("warehouse")
        batch.drop_column("sku")
