"""Builders that let planner tests speak in dicts: source rows in, adjustment rows out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from inventory_sync.domain.model import (
    Completeness,
    Levels,
    LocationId,
    Plan,
    QuantityBasis,
    RunId,
    Sku,
    Snapshot,
    SourceName,
    Warehouse,
)
from inventory_sync.domain.planner import WarehouseInput

RUN = RunId("run-1")
EAST = Warehouse("east")
EAST_LOCATION = LocationId("se-loc-east")
TAKEN_AT = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def snapshot(
    rows: Mapping[str, int],
    *,
    source: str = "erp",
    warehouse: Warehouse = EAST,
    complete: bool = True,
    basis: QuantityBasis = QuantityBasis.ON_HAND,
) -> Snapshot:
    """A snapshot of one source for one warehouse, from {sku: quantity}."""
    return Snapshot(
        source=SourceName(source),
        snapshot_id=f"{source}-{sorted(rows.items())}",
        taken_at=TAKEN_AT,
        completeness=Completeness.COMPLETE if complete else Completeness.PARTIAL,
        basis=basis,
        warehouses=frozenset({warehouse}),
        rows={warehouse: {Sku(sku): q for sku, q in rows.items()}},
    )


def levels(rows: Mapping[str, int | tuple[int, int]]) -> Levels:
    """ShipStation's levels from {sku: on_hand} or {sku: (on_hand, allocated)}."""
    on_hand: dict[Sku, int] = {}
    allocated: dict[Sku, int] = {}
    for sku, value in rows.items():
        on_hand[Sku(sku)], units = value if isinstance(value, tuple) else (value, 0)
        if units:
            allocated[Sku(sku)] = units
    return Levels(on_hand, allocated)


def warehouse_input(
    source: Mapping[str, int] | None = None,
    shipstation: Mapping[str, int | tuple[int, int]] | None = None,
    *,
    snapshots: Iterable[Snapshot] | None = None,
    agreed: Mapping[str, int] | None = None,
    absent: Mapping[str, int] | None = None,
    complete: bool = True,
    basis: QuantityBasis = QuantityBasis.ON_HAND,
    warehouse: Warehouse = EAST,
) -> WarehouseInput:
    """One warehouse's input; `source` is shorthand for a single snapshot of those rows."""
    if snapshots is None:
        rows = source or {}
        snapshots = [snapshot(rows, warehouse=warehouse, complete=complete, basis=basis)]
    return WarehouseInput(
        warehouse=warehouse,
        location_id=LocationId(f"se-loc-{warehouse}"),
        snapshots=tuple(snapshots),
        levels=levels(shipstation or {}),
        agreed={Sku(k): v for k, v in (agreed or {}).items()},
        absent_counts={Sku(k): v for k, v in (absent or {}).items()},
    )


def rows(plan: Plan) -> list[tuple[str, str, int, int | None, int, str]]:
    """The plan as (sku, transaction type, quantity, before, after, rule), sorted by SKU."""
    return sorted(
        (a.sku, str(a.transaction_type), a.quantity, a.before, a.after, a.rule)
        for a in plan.adjustments
    )


def targets(plan: Plan) -> dict[str, int]:
    """The plan as {sku: after}."""
    return {a.sku: a.after for a in plan.adjustments}
