"""Which partial snapshot was counted for which warehouse: written with the plan made from it.

Until this revision a partial snapshot counted as soon as it was recorded, for every warehouse
of its source. The ones recorded healthy are carried over as counted everywhere (warehouse
"*"), so a change file still in an inbox is not applied a second time after the upgrade.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snapshot_uses",
        sa.Column("source", sa.String(), primary_key=True),
        sa.Column("snapshot_id", sa.String(), primary_key=True),
        sa.Column("warehouse", sa.String(), primary_key=True),
        sa.Column("run_id", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO snapshot_uses (source, snapshot_id, warehouse, run_id, at)"
        " SELECT source, snapshot_id, '*', run_id, recorded_at FROM snapshots"
        " WHERE completeness = 'partial' AND healthy"
    )


def downgrade() -> None:
    op.drop_table("snapshot_uses")
