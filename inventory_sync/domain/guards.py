"""Guard rails: hold a warehouse whose plan would change too much of it in one run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import filterfalse

from inventory_sync.domain.model import Adjustment, BasisValue, Hold, Plan, Warehouse
from inventory_sync.domain.planner import WarehouseInput
from inventory_sync.domain.policy import GuardLimits, Precedence
from inventory_sync.domain.resolve import resolve


@dataclass(frozen=True, slots=True)
class Impact:
    """How much a plan would change one warehouse: the numbers every guard compares."""

    changed: int  # SKUs with an adjustment
    skus: int  # SKUs known on either side: ShipStation's and the sources'
    units_moved: int  # sum of |after - before|, a missing row counting as 0
    units_total: int  # sum of ShipStation's on-hand before the run
    zeroed: int  # SKUs taken from a positive on-hand to zero

    @property
    def changed_share(self) -> float:
        return self.changed / max(1, self.skus)

    @property
    def units_share(self) -> float:
        # max(1, ...) so an empty location still yields a share (and trips the guard on a
        # first load, which is meant to be approved by a person).
        return self.units_moved / max(1, self.units_total)


def check_guards(
    plan: Plan,
    inputs: Sequence[WarehouseInput],
    limits: GuardLimits | Mapping[Warehouse, GuardLimits],
) -> tuple[Hold, ...]:
    """One Hold ("warehouse:<name>") per warehouse whose plan trips any of its limits.

    With a mapping, a warehouse missing from it gets the default GuardLimits().
    """
    changes = _changes_by_warehouse(plan.adjustments)
    holds: list[Hold] = []
    for inp in inputs:
        own = limits if isinstance(limits, GuardLimits) else limits.get(inp.warehouse)
        impact = measure(inp, changes.get(inp.warehouse, []))
        hold = _hold_if_tripped(inp.warehouse, impact, own or GuardLimits())
        if hold is not None:
            holds.append(hold)
    return tuple(holds)


def measure(inp: WarehouseInput, changes: Sequence[Adjustment]) -> Impact:
    """The impact of a warehouse's adjustments against its ShipStation levels and sources."""
    # Which SKUs are listed does not depend on precedence; FIRST just names one.
    listed = resolve(inp.snapshots, inp.warehouse, Precedence.FIRST)
    unlisted = sum(1 for _ in filterfalse(listed.values.__contains__, inp.levels.on_hand))
    return Impact(
        changed=len(changes),
        skus=len(listed.values) + unlisted,
        units_moved=sum(abs(a.after - (a.before or 0)) for a in changes),
        units_total=sum(inp.levels.on_hand.values()),
        zeroed=sum(1 for a in changes if a.after == 0 and (a.before or 0) > 0),
    )


def tripped(impact: Impact, limits: GuardLimits) -> list[str]:
    """A sentence for every limit the impact exceeds (strictly); empty when none is."""
    reasons: list[str] = []
    # Shares of a tiny warehouse are too coarse to judge by; the zeroed count still applies.
    shares_apply = impact.skus >= limits.min_skus_for_share
    if shares_apply and _over(impact.changed_share, limits.max_changed_share):
        reasons.append(
            f"would change {impact.changed} of {impact.skus} SKUs "
            f"({impact.changed_share:.1%} > {limits.max_changed_share:.1%})"
        )
    if shares_apply and _over(impact.units_share, limits.max_units_share):
        reasons.append(
            f"would move {impact.units_moved} of {impact.units_total} units "
            f"({impact.units_share:.1%} > {limits.max_units_share:.1%})"
        )
    if _over(impact.zeroed, limits.max_zeroed):
        reasons.append(f"would zero {impact.zeroed} SKUs (> {limits.max_zeroed})")
    return reasons


def _hold_if_tripped(warehouse: Warehouse, impact: Impact, limits: GuardLimits) -> Hold | None:
    reasons = tripped(impact, limits)
    if not reasons:
        return None
    return Hold(
        subject=f"warehouse:{warehouse}",
        reason="; ".join(reasons),
        details=_details(impact, limits),
    )


def _details(impact: Impact, limits: GuardLimits) -> dict[str, BasisValue]:
    # BasisValue has no float: shares travel as fixed-point strings, exact and JSON-safe.
    return {
        "changed": impact.changed,
        "total": impact.skus,
        "share": f"{impact.changed_share:.4f}",
        "limit": _share(limits.max_changed_share),
        "units_moved": impact.units_moved,
        "units_total": impact.units_total,
        "units_share": f"{impact.units_share:.4f}",
        "units_limit": _share(limits.max_units_share),
        "zeroed": impact.zeroed,
        "zeroed_limit": limits.max_zeroed,
        "min_skus_for_share": limits.min_skus_for_share,
    }


def _over(value: float, limit: float | None) -> bool:
    return limit is not None and value > limit


def _share(limit: float | None) -> str | None:
    return None if limit is None else f"{limit:.4f}"


def _changes_by_warehouse(adjustments: Sequence[Adjustment]) -> dict[Warehouse, list[Adjustment]]:
    grouped: dict[Warehouse, list[Adjustment]] = {}
    for adj in adjustments:
        grouped.setdefault(adj.warehouse, []).append(adj)
    return grouped
