"""A plan written to a file for review (`--plan-out`) and read back to apply it (`--apply`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    LocationId,
    RunId,
    Sku,
    SnapshotUse,
    SourceName,
    TransactionType,
    Warehouse,
)
from inventory_sync.domain.rules import adjustment_id
from inventory_sync.errors import UsageError

FORMAT = "inventory-sync/plan@1"
# ShipStation's quantities are 32-bit integers; a larger number in a plan is a typo or an edit.
MAX_QUANTITY = 2**31 - 1
_FIELDS = ("adjustment_id", "warehouse", "location_id", "sku", "transaction_type", "quantity",
           "before", "after", "rule")  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlanFile:
    """A plan read back: its run, its rows, and the change files it was made from."""

    run_id: RunId
    adjustments: list[Adjustment]
    uses: list[SnapshotUse] = field(default_factory=list)


def write_plan(
    path: Path,
    run_id: RunId,
    created_at: datetime,
    adjustments: Sequence[Adjustment],
    uses: Sequence[SnapshotUse] = (),
) -> None:
    """Write the plan as indented JSON, one adjustment per object, for people to read.

    ``uses``: the change files (partial snapshots) each warehouse's plan was made from, so
    that applying the plan counts them, and the next run does not apply them again."""
    document = {
        "format": FORMAT,
        "run_id": run_id,
        "created_at": created_at.isoformat(),
        "adjustments": [_adjustment_json(a) for a in adjustments],
        "change_files": [
            {"source": u.source, "snapshot_id": u.snapshot_id, "warehouse": u.warehouse}
            for u in uses
        ],
    }
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot write the plan ({exc.strerror})") from exc


def _adjustment_json(adjustment: Adjustment) -> dict[str, Any]:
    return {
        **{name: str(getattr(adjustment, name)) for name in _FIELDS[:5]},
        "quantity": adjustment.quantity,
        "before": adjustment.before,
        "after": adjustment.after,
        "rule": adjustment.rule,
        "basis": dict(adjustment.basis),
    }


def read_plan(path: Path) -> PlanFile:
    """Read a plan file; a file that is not one names what is wrong (exit code 2)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a plan (not UTF-8 text: {exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise UsageError(f"{path}: not a plan written by `reconcile --plan-out` ({FORMAT})")
    rows = document.get("adjustments")
    if not isinstance(rows, list):
        raise UsageError(f"{path}: 'adjustments' must be a list")
    run_id = RunId(str(document.get("run_id", "")))
    adjustments = [_adjustment(path, i, r) for i, r in enumerate(rows)]
    for index, adjustment in enumerate(adjustments):
        _check_unedited(path, index, run_id, adjustment)
    return PlanFile(run_id, adjustments, _uses(path, document.get("change_files", [])))


def _uses(path: Path, rows: object) -> list[SnapshotUse]:
    """The plan's change files; absent in plans written before they were kept: none."""
    if not isinstance(rows, list):
        raise UsageError(f"{path}: 'change_files' must be a list")
    uses = []
    for index, row in enumerate(rows):
        fields = ("source", "snapshot_id", "warehouse")
        if not isinstance(row, dict) or not all(isinstance(row.get(f), str) for f in fields):
            raise UsageError(
                f"{path}: change_files[{index}] needs text fields source, snapshot_id, warehouse"
            )
        uses.append(
            SnapshotUse(SourceName(row["source"]), row["snapshot_id"], Warehouse(row["warehouse"]))
        )
    return uses


def _check_unedited(path: Path, index: int, run_id: RunId, a: Adjustment) -> None:
    """The id is derived from the row's content, so a row changed by hand no longer matches it;
    applying it would send a change nobody planned under an id that names another one."""
    expected = adjustment_id(
        run_id, a.warehouse, a.sku, a.transaction_type, quantity=a.quantity, after=a.after
    )
    if a.adjustment_id != expected:
        raise UsageError(
            f"{path}: adjustments[{index}] ({a.sku}) was edited after --plan-out wrote it "
            "(its adjustment_id no longer matches its run, sku, type, quantity and after); "
            "make a new plan with --plan-out instead"
        )


def _adjustment(path: Path, index: int, row: Any) -> Adjustment:  # noqa: ANN401 - JSON
    where = f"{path}: adjustments[{index}]"
    if not isinstance(row, dict):
        raise UsageError(f"{where}: must be an object")
    try:
        before = row["before"]
        return Adjustment(
            adjustment_id=AdjustmentId(str(row["adjustment_id"])),
            warehouse=Warehouse(str(row["warehouse"])),
            location_id=LocationId(str(row["location_id"])),
            sku=Sku(str(row["sku"])),
            transaction_type=TransactionType(row["transaction_type"]),
            quantity=_whole(row["quantity"], "quantity"),
            before=None if before is None else _whole(before, "before"),
            after=_whole(row["after"], "after"),
            rule=str(row["rule"]),
            basis=dict(row.get("basis") or {}),
        )
    except KeyError as exc:
        raise UsageError(f"{where}: missing field {exc.args[0]!r}") from exc
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from exc


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise ValueError(
            f"{name} must be a whole number from 0 to {MAX_QUANTITY}, got {str(value)[:40]}"
        )
    return value
