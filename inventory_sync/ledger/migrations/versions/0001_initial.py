"""Create every ledger table.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Written by hand from an autogenerate draft: plain sa types (no SQLModel or project imports),
so this file keeps working however the models change later.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)  # UTC; SQLite stores it naive, PostgreSQL as timestamptz


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "runs",
        _text("run_id"),
        _text("trigger"),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        _text("status"),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_index("ix_runs_status", "runs", ["status"])

    op.create_table(
        "snapshots",
        _text("source"),
        _text("snapshot_id"),
        _text("run_id"),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        _text("completeness"),
        _text("basis"),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("nonzero_rows", sa.Integer(), nullable=False),
        sa.Column("healthy", sa.Boolean(), nullable=False),
        _text("origin"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
        sa.PrimaryKeyConstraint("source", "snapshot_id"),
    )
    op.create_index("ix_snapshots_run_id", "snapshots", ["run_id"])
    op.create_index(
        "ix_snapshots_source_healthy_taken", "snapshots", ["source", "healthy", "taken_at"]
    )

    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("run_id"),
        _text("source"),
        _text("snapshot_id"),
        _text("warehouse"),
        _text("sku"),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("observed_at", TS, nullable=False),
        _text("completeness"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_observations_observed_at", "observations", ["observed_at"])
    op.create_index(
        "ix_observations_wh_sku_at", "observations", ["warehouse", "sku", "observed_at"]
    )

    op.create_table(
        "rejected_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("run_id"),
        _text("source"),
        _text("origin"),
        sa.Column("line", sa.Integer(), nullable=True),
        _text("field", nullable=True),
        _text("value", nullable=True),
        _text("reason"),
        sa.Column("at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rejected_rows_at", "rejected_rows", ["at"])
    op.create_index("ix_rejected_rows_run_id", "rejected_rows", ["run_id"])

    op.create_table(
        "adjustments",
        _text("adjustment_id"),
        _text("run_id"),
        _text("warehouse"),
        _text("location_id"),
        _text("sku"),
        _text("transaction_type"),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("before", sa.Integer(), nullable=True),
        sa.Column("after", sa.Integer(), nullable=False),
        _text("rule"),
        sa.Column("basis", sa.JSON(), nullable=False),
        _text("status"),
        sa.Column("planned_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("settled_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("request", sa.Text(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        _text("request_id", nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("support", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"]),
        sa.PrimaryKeyConstraint("adjustment_id"),
    )
    op.create_index("ix_adjustments_run_id", "adjustments", ["run_id"])
    op.create_index("ix_adjustments_sku", "adjustments", ["sku"])
    op.create_index("ix_adjustments_status_planned", "adjustments", ["status", "planned_at"])

    op.create_table(
        "agreed_levels",
        _text("warehouse"),
        _text("sku"),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("agreed_at", TS, nullable=False),
        _text("run_id", nullable=True),
        sa.PrimaryKeyConstraint("warehouse", "sku"),
    )

    op.create_table(
        "locks",
        _text("name"),
        _text("holder"),
        sa.Column("acquired_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )

    op.create_table(
        "absent_counts",
        _text("warehouse"),
        _text("sku"),
        _text("source"),
        sa.Column("consecutive_missing", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("warehouse", "sku", "source"),
    )


def downgrade() -> None:
    for name in (
        "absent_counts",
        "locks",
        "agreed_levels",
        "adjustments",
        "rejected_rows",
        "observations",
        "snapshots",
        "runs",
    ):
        op.drop_table(name)
