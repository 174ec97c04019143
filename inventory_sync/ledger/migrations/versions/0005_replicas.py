"""Replicas on one ledger: fenced leases, every lease's holders, and replica heartbeats.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("holder", sa.String(), nullable=False),
        sa.Column("fence", sa.Integer(), nullable=False),
        _when("acquired_at"),
        _when("renewed_at"),
        _when("expires_at"),
    )
    op.create_table(
        "lease_history",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("fence", sa.Integer(), primary_key=True),
        sa.Column("holder", sa.String(), nullable=False),
        _when("acquired_at"),
        _when("expires_at"),
    )
    op.create_table(
        "replicas",
        sa.Column("replica_id", sa.String(), primary_key=True),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        _when("started_at"),
        _when("heartbeat_at"),
    )


def downgrade() -> None:
    op.drop_table("replicas")
    op.drop_table("lease_history")
    op.drop_table("leases")
