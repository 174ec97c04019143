"""The use cases: a reconcile run, a reviewed plan applied, a manual change, resolve, release."""

from __future__ import annotations

from inventory_sync.service.actions import apply_plan, manual_adjust, release, resolve
from inventory_sync.service.inputs import absent_basis
from inventory_sync.service.reconcile import RunOptions, reconcile
from inventory_sync.steps.runs import Progress, new_run_id

# new_run_id and Progress are re-exported for the daemon, which starts runs of its own.
__all__ = [
    "Progress",
    "RunOptions",
    "absent_basis",
    "apply_plan",
    "manual_adjust",
    "new_run_id",
    "reconcile",
    "release",
    "resolve",
]
