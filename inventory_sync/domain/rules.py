"""The per-SKU rules of the planner: mirror, delta and absent-is-not-zero, each a tight loop."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import filterfalse

from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    BasisValue,
    Levels,
    LocationId,
    RunId,
    Sku,
    TransactionType,
    Warehouse,
)
from inventory_sync.domain.policy import Policy
from inventory_sync.domain.resolve import SourceValues


@dataclass(frozen=True, slots=True)
class Context:
    """Everything the rules read for one warehouse in one run."""

    run_id: RunId
    warehouse: Warehouse
    location_id: LocationId
    levels: Levels
    agreed: Mapping[Sku, int]
    absent_counts: Mapping[Sku, int]
    policy: Policy
    sources: SourceValues


def adjustment_id(
    run_id: RunId,
    warehouse: Warehouse,
    sku: Sku,
    kind: TransactionType,
    *,
    quantity: int,
    after: int,
) -> AdjustmentId:
    """Derive the id from the adjustment's content, so planning twice names it the same."""
    # A StrEnum formats as its value ("adjust") in C; .value would run Python code per change.
    text = f"{run_id}|{warehouse}|{sku}|{kind}|{quantity}|{after}"
    return AdjustmentId("adj-" + hashlib.blake2b(text.encode(), digest_size=10).hexdigest())


def mirror_changes(ctx: Context) -> tuple[list[Adjustment], int]:
    """Adjust every listed SKU whose target differs from ShipStation by more than the tolerance.

    Also returns how many listed SKUs ShipStation has no row for, which tells the planner
    whether any ShipStation SKU can be missing from the sources at all.
    """
    if not (ctx.sources.all_available or ctx.sources.some_available):
        return _on_hand_mirror_changes(ctx)
    on_hand_get = ctx.levels.on_hand.get
    tolerance = ctx.policy.tolerance
    changes: list[Adjustment] = []
    no_row = 0
    for sku, value in ctx.sources.values.items():
        before = on_hand_get(sku)
        if before is None:
            no_row += 1
        target = target_on_hand(ctx, sku, value, before)
        if abs(target - (before or 0)) > tolerance:
            changes.append(_set_to_target(ctx, sku, value, before, target=target, rule="mirror"))
    return changes, no_row


def _on_hand_mirror_changes(ctx: Context) -> tuple[list[Adjustment], int]:
    """mirror_changes when every value counts on-hand units, the usual case.

    The target then depends on the value and the policy alone, so it is computed inline (as
    target_on_hand would) and one lookup settles most rows of a run. The rows that do change
    are built with what all of them share computed once; their basis is what _set_to_target
    writes. Planning a million rows is a loop over a million rows: this is that loop.
    """
    on_hand_get = ctx.levels.on_hand.get
    policy, sources = ctx.policy, ctx.sources
    tolerance, buffer, cap = policy.tolerance, policy.buffer, policy.cap
    ceiling = sys.maxsize if cap is None else cap  # one comparison per row either way
    one_source = sources.parts[0][0].source if len(sources.parts) == 1 else None
    run_id, warehouse, location = ctx.run_id, ctx.warehouse, ctx.location_id
    kind = TransactionType.ADJUST
    changes: list[Adjustment] = []
    no_row = 0
    for sku, value in sources.values.items():
        target = value - buffer
        if target > ceiling:  # noqa: PLR1730 - min() would be a call per row
            target = ceiling
        if target < 0:  # noqa: PLR1730 - max() would be a call per row
            target = 0
        before = on_hand_get(sku)
        if before == target:
            continue
        no_row += before is None
        if abs(target - (before or 0)) <= tolerance:
            continue
        basis: dict[str, BasisValue] = {
            "source": one_source or sources.provenance(sku),
            "source_value": value,
            "buffer": buffer,
            "cap": cap,
            "before": before,
        }
        ident = adjustment_id(run_id, warehouse, sku, kind, quantity=target, after=target)
        changes.append(
            Adjustment(
                ident, warehouse, location, sku, kind, target, before, target, "mirror", basis
            )
        )
    return changes, no_row


def delta_changes(ctx: Context) -> tuple[list[Adjustment], int]:
    """Move ShipStation by each SKU's change since the agreed level; adjust on first sight.

    Also returns how many listed SKUs ShipStation has no row for, as mirror_changes does.
    """
    on_hand_get, agreed_get = ctx.levels.on_hand.get, ctx.agreed.get
    changes: list[Adjustment] = []
    no_row = 0
    for sku, value in ctx.sources.values.items():
        before, agreed = on_hand_get(sku), agreed_get(sku)
        if before is None or agreed is None:
            no_row += before is None
            change = _first_sight(ctx, sku, value, before, agreed)
        elif value != agreed:
            change = _move(ctx, sku, value, before, agreed)
        else:
            continue
        if change is not None:
            changes.append(change)
    return changes, no_row


def absent_changes(ctx: Context) -> list[Adjustment]:
    """Zero the ShipStation SKUs missing from N consecutive complete snapshots."""
    after_n = ctx.policy.zero_absent_after
    # A partial snapshot says nothing about the SKUs it leaves out.
    if not ctx.sources.complete or after_n is None:
        return []
    changes: list[Adjustment] = []
    on_hand = ctx.levels.on_hand
    for sku in filterfalse(ctx.sources.values.__contains__, on_hand):
        before = on_hand[sku]
        already = ctx.absent_counts.get(sku, 0)
        if before > ctx.policy.tolerance and already + 1 >= after_n:
            changes.append(_zero_absent(ctx, sku, before, already))
    return changes


def target_on_hand(ctx: Context, sku: Sku, value: int, before: int | None) -> int:
    """The on-hand to publish: value less buffer, capped, at least zero, plus allocated units
    when the value counts available units (so ShipStation's available equals it)."""
    policy = ctx.policy
    sellable = value - policy.buffer
    if policy.cap is not None and sellable > policy.cap:
        sellable = policy.cap
    sellable = max(sellable, 0)
    if before is not None and ctx.sources.counts_available(sku):
        return sellable + ctx.levels.allocated_of(sku)
    return sellable


def _first_sight(
    ctx: Context, sku: Sku, value: int, before: int | None, agreed: int | None
) -> Adjustment | None:
    """Without an agreed level (or a row to move) there is nothing to add a change to: mirror."""
    target = target_on_hand(ctx, sku, value, before)
    if abs(target - (before or 0)) <= ctx.policy.tolerance:
        return None
    rule = "delta:first_sight" if agreed is None else "delta:no_row"
    return _set_to_target(ctx, sku, value, before, target=target, rule=rule)


def _move(ctx: Context, sku: Sku, value: int, before: int, agreed: int) -> Adjustment | None:
    # No tolerance here: the caller advances the agreed level, so a skipped change is lost.
    change = value - agreed
    after = before + change
    clamped = after < min(before, 0)
    if clamped:  # never decrement below zero (nor further below, if ShipStation already is)
        after = min(before, 0)
    if after == before:
        return None
    kind = TransactionType.INCREMENT if after > before else TransactionType.DECREMENT
    basis: dict[str, BasisValue] = {
        "source": ctx.sources.provenance(sku),
        "source_value": value,
        "agreed": agreed,
        "change": change,
        "before": before,
    }
    if clamped:
        basis["clamped_from"] = before + change
    quantity = abs(after - before)
    return _adjustment(ctx, sku, kind, quantity, before, after=after, rule="delta", basis=basis)


def _set_to_target(
    ctx: Context, sku: Sku, value: int, before: int | None, *, target: int, rule: str
) -> Adjustment:
    basis: dict[str, BasisValue] = {
        "source": ctx.sources.provenance(sku),
        "source_value": value,
        "buffer": ctx.policy.buffer,
        "cap": ctx.policy.cap,
        "before": before,
    }
    if ctx.sources.counts_available(sku):
        basis["allocated"] = ctx.levels.allocated_of(sku) if before is not None else 0
    if rule != "mirror":
        basis["agreed"] = ctx.agreed.get(sku)
    kind = TransactionType.ADJUST
    return _adjustment(ctx, sku, kind, target, before, after=target, rule=rule, basis=basis)


def _zero_absent(ctx: Context, sku: Sku, before: int, already: int) -> Adjustment:
    basis: dict[str, BasisValue] = {
        "before": before,
        "absent_count": already + 1,  # consecutive complete snapshots missing it, this one too
        "zero_absent_after": ctx.policy.zero_absent_after,
        "sources": ",".join(str(snap.source) for snap, _ in ctx.sources.parts),
    }
    rule = f"{ctx.policy.mode}:zero_absent"
    kind = TransactionType.ADJUST
    return _adjustment(ctx, sku, kind, 0, before, after=0, rule=rule, basis=basis)


def _adjustment(
    ctx: Context,
    sku: Sku,
    kind: TransactionType,
    quantity: int,
    before: int | None,
    *,
    after: int,
    rule: str,
    basis: dict[str, BasisValue],
) -> Adjustment:
    return Adjustment(
        adjustment_id=adjustment_id(
            ctx.run_id, ctx.warehouse, sku, kind, quantity=quantity, after=after
        ),
        warehouse=ctx.warehouse,
        location_id=ctx.location_id,
        sku=sku,
        transaction_type=kind,
        quantity=quantity,
        before=before,
        after=after,
        rule=rule,
        basis=basis,
    )
