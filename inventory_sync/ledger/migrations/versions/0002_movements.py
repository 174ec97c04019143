"""Observed movements: ShipStation's last seen levels, and changes made outside inventory-sync.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "seen_levels",
        sa.Column("warehouse", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("warehouse", "sku"),
    )
    op.create_table(
        "movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("warehouse", sa.String(), nullable=False),
        sa.Column("sku", sa.String(), nullable=False),
        sa.Column("before", sa.Integer(), nullable=True),
        sa.Column("after", sa.Integer(), nullable=True),
        sa.Column("observed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_movements_warehouse_sku_at", "movements", ["warehouse", "sku", "observed_at"])
    op.create_index("ix_movements_observed_at", "movements", ["observed_at"])


def downgrade() -> None:
    op.drop_index("ix_movements_observed_at", table_name="movements")
    op.drop_index("ix_movements_warehouse_sku_at", table_name="movements")
    op.drop_table("movements")
    op.drop_table("seen_levels")
