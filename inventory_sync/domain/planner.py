"""The reconcile planner: from sources, ShipStation's levels and the ledger, a Plan as data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from inventory_sync.domain.model import (
    Completeness,
    Hold,
    Levels,
    LocationId,
    Plan,
    RunId,
    Sku,
    Snapshot,
    Warehouse,
)
from inventory_sync.domain.policy import Mode, Policy, Precedence
from inventory_sync.domain.resolve import SourceValues, resolve
from inventory_sync.domain.rules import Context, absent_changes, delta_changes, mirror_changes


@dataclass(frozen=True, slots=True)
class WarehouseInput:
    """Everything known about one warehouse before planning it."""

    warehouse: Warehouse
    location_id: LocationId  # where adjustments are written
    # Healthy snapshots of the sources authoritative for this warehouse, in precedence order;
    # held sources are already removed by the caller.
    snapshots: tuple[Snapshot, ...]
    levels: Levels  # ShipStation's levels at location_id
    agreed: Mapping[Sku, int] = field(default_factory=dict)  # ledger: last agreed source value
    # Ledger: how many consecutive complete healthy snapshots each SKU was ALREADY missing
    # from before this run's; no key = 0.
    absent_counts: Mapping[Sku, int] = field(default_factory=dict)
    holds: tuple[Hold, ...] = ()  # held sources, passed through into the Plan


def plan_warehouse(run_id: RunId, inp: WarehouseInput, policy: Policy) -> Plan:
    """Plan one warehouse: an Adjustment per SKU that needs a request, the rest counted."""
    return _plan_warehouse(run_id, inp, policy)


def plan(
    run_id: RunId,
    inputs: Sequence[WarehouseInput],
    policies: Mapping[Warehouse, Policy],
    default: Policy = Policy(),  # noqa: B008 -- Policy is frozen, so one shared default is safe
) -> Plan:
    """Plan every warehouse (each with its own policy or the default) and concatenate."""
    _refuse_duplicates(inputs)
    plans = [_plan_warehouse(run_id, inp, policies.get(inp.warehouse, default)) for inp in inputs]
    return Plan(
        adjustments=tuple(adj for p in plans for adj in p.adjustments),
        unchanged=sum(p.unchanged for p in plans),
        # A source held for several warehouses arrives once per warehouse; report it once.
        holds=tuple(dict.fromkeys(hold for p in plans for hold in p.holds)),
    )


def next_absent_counts(inp: WarehouseInput) -> dict[Sku, int]:
    """The absent counts to store after this run, replacing the old ones (no key = 0).

    A complete snapshot adds one for every ShipStation SKU no snapshot lists; a SKU any
    snapshot lists starts again from zero. Partial snapshots alone, or any held source (it
    may list the missing SKUs), carry the counts forward.
    """
    listed = listed_skus(inp)
    complete = any(s.completeness is Completeness.COMPLETE for s in inp.snapshots)
    if inp.holds or not complete:
        return {sku: n for sku, n in inp.absent_counts.items() if sku not in listed}
    counts = inp.absent_counts
    return {sku: counts.get(sku, 0) + 1 for sku in inp.levels.on_hand if sku not in listed}


def agreed_levels(inp: WarehouseInput, policy: Policy) -> dict[Sku, int]:
    """The source values to store as the agreed levels once this run's plan is applied.

    Delta moves ShipStation by (source value - agreed), so after applying, the agreed level
    for each SKU the sources listed is the value just planned from; others keep theirs.
    """
    values = source_values(inp, policy)
    return {**inp.agreed, **values}


def source_values(inp: WarehouseInput, policy: Policy) -> dict[Sku, int]:
    """One value per SKU from the warehouse's snapshots, combined by the policy's precedence.

    Empty when a sum has a held part: no SKU's total is known then (see _plan_warehouse).
    """
    if _sum_is_incomplete(inp, policy):
        return {}
    return dict(resolve(inp.snapshots, inp.warehouse, policy.precedence).values)


def planned_from(inp: WarehouseInput, policy: Policy) -> bool:
    """True when the warehouse's plan was made from its snapshots; False when they had to be
    left aside (none at all, or a sum with a held part), so nothing of them was applied."""
    return bool(inp.snapshots) and not _sum_is_incomplete(inp, policy)


def listed_skus(inp: WarehouseInput) -> set[Sku]:
    """Every SKU that at least one of the warehouse's snapshots lists."""
    listed: set[Sku] = set()
    for snap in inp.snapshots:
        listed.update(snap.rows_for(inp.warehouse))
    return listed


def _plan_warehouse(run_id: RunId, inp: WarehouseInput, policy: Policy) -> Plan:
    if not inp.snapshots or _sum_is_incomplete(inp, policy):
        # Every source held: no basis for any change, not even a count.
        return Plan(adjustments=(), unchanged=0, holds=inp.holds)
    sources = resolve(inp.snapshots, inp.warehouse, policy.precedence)
    ctx = _context(run_id, inp, policy, sources)
    changes, no_row = (mirror_changes if policy.mode is Mode.MIRROR else delta_changes)(ctx)
    # ShipStation SKUs the sources do not list; when there are none (the usual run) the
    # pass over every ShipStation SKU looking for them is skipped.
    missing = len(inp.levels) - (len(sources.values) - no_row)
    if missing and not inp.holds:  # a held source may list the missing SKUs
        changes += absent_changes(ctx)
    looked_at = len(sources.values) + missing  # the union of source and ShipStation SKUs
    return Plan(adjustments=tuple(changes), unchanged=looked_at - len(changes), holds=inp.holds)


def _sum_is_incomplete(inp: WarehouseInput, policy: Policy) -> bool:
    # A sum missing a held part would publish a fraction of the stock: under sum, every
    # SKU's sources include the held one.
    return bool(inp.holds) and policy.precedence is Precedence.SUM


def _context(run_id: RunId, inp: WarehouseInput, policy: Policy, sources: SourceValues) -> Context:
    return Context(
        run_id=run_id,
        warehouse=inp.warehouse,
        location_id=inp.location_id,
        levels=inp.levels,
        agreed=inp.agreed,
        absent_counts=inp.absent_counts,
        policy=policy,
        sources=sources,
    )


def _refuse_duplicates(inputs: Sequence[WarehouseInput]) -> None:
    seen: set[Warehouse] = set()
    for inp in inputs:
        if inp.warehouse in seen:
            raise ValueError(f"warehouse {inp.warehouse!r} appears twice in the planner's inputs")
        seen.add(inp.warehouse)
