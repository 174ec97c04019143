"""Sanity gates: reasons to hold a source's snapshot instead of trusting it this run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from inventory_sync.domain.model import Completeness, Hold, Sku, Snapshot, SnapshotStats


@dataclass(frozen=True)
class GateRules:
    """Per-source thresholds; None switches a gate off."""

    min_row_fraction: float | None = 0.5
    sentinel_skus: frozenset[Sku] = frozenset()
    max_age: timedelta | None = None
    reject_all_zero: bool = True


def check_snapshot(
    snapshot: Snapshot, last_good: SnapshotStats | None, rules: GateRules, *, now: datetime
) -> tuple[Hold, ...]:
    """Every gate the snapshot fails, as Holds on `source:<name>`; empty means trust it."""
    stats = SnapshotStats.of(snapshot)
    found = (
        _too_few_rows(snapshot, stats, last_good, rules),
        _sentinels_missing(snapshot, rules),
        _too_old(snapshot, rules, now),
        _all_zero(snapshot, stats, last_good, rules),
    )
    return tuple(hold for hold in found if hold is not None)


def _hold(snapshot: Snapshot, reason: str, **details: int | str | None) -> Hold:
    return Hold(subject=f"source:{snapshot.source}", reason=reason, details=details)


def _too_few_rows(
    snapshot: Snapshot, stats: SnapshotStats, last_good: SnapshotStats | None, rules: GateRules
) -> Hold | None:
    # Partial feeds (deltas) shrink and grow freely; only a complete list can "lose" rows.
    if rules.min_row_fraction is None or last_good is None or not _is_complete(snapshot):
        return None
    needed = rules.min_row_fraction * last_good.rows
    if stats.rows >= needed:
        return None
    return _hold(
        snapshot,
        f"only {stats.rows} rows, fewer than {rules.min_row_fraction:.0%} of the"
        f" {last_good.rows} in the last good snapshot",
        rows=stats.rows,
        last_good_rows=last_good.rows,
        min_rows=_ceil(needed),
        last_good_snapshot_id=last_good.snapshot_id,
    )


def _sentinels_missing(snapshot: Snapshot, rules: GateRules) -> Hold | None:
    if not rules.sentinel_skus:
        return None
    columns = list(snapshot.rows.values())
    missing = sorted(s for s in rules.sentinel_skus if not any(s in c for c in columns))
    if not missing:
        return None
    return _hold(
        snapshot,
        f"sentinel SKU(s) missing: {', '.join(missing)}",
        missing=", ".join(missing),
        missing_count=len(missing),
        sentinel_count=len(rules.sentinel_skus),
    )


def _too_old(snapshot: Snapshot, rules: GateRules, now: datetime) -> Hold | None:
    if rules.max_age is None:
        return None
    age = now - snapshot.taken_at
    if age <= rules.max_age:
        return None
    newest = snapshot.newest_waiting_at
    if snapshot.completeness is Completeness.PARTIAL and newest is not None:
        # One file of a change feed's backlog, applied in order before the newer ones: the
        # feed is as fresh as its newest file. Holding this one would hold them all.
        if now - newest <= rules.max_age:
            return None
        age, what = now - newest, "the newest change file waiting"
    else:
        what = "data"
    return _hold(
        snapshot,
        f"{what} is {span(age)} old, older than max_age {span(rules.max_age)}",
        taken_at=snapshot.taken_at.isoformat(),
        age_seconds=int(age.total_seconds()),
        max_age_seconds=int(rules.max_age.total_seconds()),
    )


def _all_zero(
    snapshot: Snapshot, stats: SnapshotStats, last_good: SnapshotStats | None, rules: GateRules
) -> Hold | None:
    # A complete list saying "nothing in stock anywhere" is far likelier a broken export than
    # the truth. With no history yet it is held too: first contact must not zero a warehouse.
    if not rules.reject_all_zero or not _is_complete(snapshot) or stats.nonzero_rows:
        return None
    if last_good is not None and last_good.nonzero_rows == 0:
        return None  # it was all zero before as well: nothing new to fear
    before = "no earlier snapshot" if last_good is None else f"{last_good.units} units before"
    return _hold(
        snapshot,
        f"every quantity is zero ({stats.rows} rows; {before})",
        rows=stats.rows,
        last_good_units=None if last_good is None else last_good.units,
        last_good_nonzero_rows=None if last_good is None else last_good.nonzero_rows,
    )


def _is_complete(snapshot: Snapshot) -> bool:
    return snapshot.completeness == Completeness.COMPLETE


def _ceil(value: float) -> int:
    return -int(-value // 1)


def span(delta: timedelta) -> str:
    """A short human duration: 90s, 45m, 6h30m, 2d3h."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    text = "".join(f"{n}{unit}" for n, unit in parts if n)
    return text or "0s"
