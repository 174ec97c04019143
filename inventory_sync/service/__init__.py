"""The use cases: a reconcile run, a reviewed plan applied, a manual change, resolve, release."""

from __future__ import annotations

from inventory_sync.service.actions import apply_plan, manual_adjust, release, resolve
from inventory_sync.service.frame import RunEnding, recorded_run
from inventory_sync.service.inputs import absent_basis

# run.py, not reconcile.py: a submodule named like the function would be shadowed by it here.
from inventory_sync.service.run import RunOptions, reconcile
from inventory_sync.steps.runs import Progress, new_run_id

# Progress and new_run_id stay importable from here, where callers of the runs look for them.
__all__ = [
    "Progress",
    "RunEnding",
    "RunOptions",
    "absent_basis",
    "apply_plan",
    "manual_adjust",
    "new_run_id",
    "reconcile",
    "recorded_run",
    "release",
    "resolve",
]
