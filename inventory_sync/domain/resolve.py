"""Turns the snapshots authoritative for one warehouse into one source value per SKU."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from inventory_sync.domain.model import (
    Completeness,
    Observation,
    QuantityBasis,
    Sku,
    Snapshot,
    Warehouse,
)
from inventory_sync.domain.policy import Precedence

# One snapshot often speaks for many warehouses; grouping its rows once per plan() call keeps
# planning linear in rows instead of rows x warehouses. Keyed by id(), so the snapshot itself is
# kept alongside to pin that id for the cache's life.
SnapshotCache = dict[int, tuple[Snapshot, dict[Warehouse, dict[Sku, int]]]]

_WAREHOUSE: Callable[[Observation], Warehouse] = attrgetter("warehouse")
_SKU: Callable[[Observation], Sku] = attrgetter("sku")
_QUANTITY: Callable[[Observation], int] = attrgetter("quantity")


@dataclass(frozen=True, slots=True)
class SourceValues:
    """What the sources say about one warehouse, resolved by precedence."""

    precedence: Precedence
    values: dict[Sku, int]  # read-only: may be a snapshot's cached dict
    parts: tuple[tuple[Snapshot, dict[Sku, int]], ...]  # each snapshot's own values, in order
    complete: bool  # some snapshot lists every SKU, so a missing SKU means something
    all_available: bool  # every value counts available units (target adds allocated)
    some_available: frozenset[Sku]  # with mixed bases: the SKUs whose value counts available

    def counts_available(self, sku: Sku) -> bool:
        return self.all_available or sku in self.some_available

    def provenance(self, sku: Sku) -> str:
        """Name the source(s) the SKU's value came from, for an adjustment's basis."""
        if len(self.parts) == 1:  # the usual case, asked once per change
            return self.parts[0][0].source
        names = [str(snap.source) for snap, part in self.parts if sku in part]
        return names[0] if self.precedence is Precedence.FIRST else ",".join(names)


def resolve(
    snapshots: Sequence[Snapshot],
    warehouse: Warehouse,
    precedence: Precedence,
    cache: SnapshotCache,
) -> SourceValues:
    """Combine the warehouse's snapshots (in precedence order) into one value per SKU."""
    parts = tuple((snap, _values_for(snap, warehouse, cache)) for snap in snapshots)
    combine = _first if precedence is Precedence.FIRST else _sum
    bases = {snap.basis for snap in snapshots}
    mixed = len(bases) > 1
    return SourceValues(
        precedence=precedence,
        values=combine(parts),
        parts=parts,
        complete=any(s.completeness is Completeness.COMPLETE for s in snapshots),
        all_available=bases == {QuantityBasis.AVAILABLE},
        some_available=_available_skus(parts, precedence) if mixed else frozenset(),
    )


def _values_for(snapshot: Snapshot, warehouse: Warehouse, cache: SnapshotCache) -> dict[Sku, int]:
    cached = cache.get(id(snapshot))
    if cached is None:
        cached = cache[id(snapshot)] = (snapshot, _group(snapshot))
    return cached[1].get(warehouse, {})


def _group(snapshot: Snapshot) -> dict[Warehouse, dict[Sku, int]]:
    # Reversed so that, should a source list a SKU twice, its first row wins. The column
    # iterators keep attribute access in C: this runs once per row of every snapshot.
    rows = snapshot.observations
    warehouses = set(map(_WAREHOUSE, rows))
    skus, quantities = map(_SKU, reversed(rows)), map(_QUANTITY, reversed(rows))
    if len(warehouses) == 1:
        return {warehouses.pop(): dict(zip(skus, quantities, strict=True))}
    grouped: dict[Warehouse, dict[Sku, int]] = {warehouse: {} for warehouse in warehouses}
    for warehouse, sku, quantity in zip(
        map(_WAREHOUSE, reversed(rows)), skus, quantities, strict=True
    ):
        grouped[warehouse][sku] = quantity
    return grouped


def _first(parts: tuple[tuple[Snapshot, dict[Sku, int]], ...]) -> dict[Sku, int]:
    if len(parts) == 1:
        return parts[0][1]
    values: dict[Sku, int] = {}
    for _, part in reversed(parts):  # later updates overwrite: the first snapshot wins
        values.update(part)
    return values


def _sum(parts: tuple[tuple[Snapshot, dict[Sku, int]], ...]) -> dict[Sku, int]:
    if len(parts) == 1:
        return parts[0][1]
    values = dict(parts[0][1])
    for _, part in parts[1:]:
        for sku, quantity in part.items():
            values[sku] = values.get(sku, 0) + quantity
    return values


def _available_skus(
    parts: tuple[tuple[Snapshot, dict[Sku, int]], ...], precedence: Precedence
) -> frozenset[Sku]:
    """With mixed bases: FIRST takes the winning snapshot's basis, SUM any contributor's."""
    available: set[Sku] = set()
    ordered = reversed(parts) if precedence is Precedence.FIRST else iter(parts)
    for snap, part in ordered:
        if snap.basis is QuantityBasis.AVAILABLE:
            available |= part.keys()
        elif precedence is Precedence.FIRST:
            available -= part.keys()
    return frozenset(available)
