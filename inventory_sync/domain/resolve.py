"""Turns the snapshots authoritative for one warehouse into one source value per SKU."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from inventory_sync.domain.model import Completeness, QuantityBasis, Sku, Snapshot, Warehouse
from inventory_sync.domain.policy import Precedence


@dataclass(frozen=True, slots=True)
class SourceValues:
    """What the sources say about one warehouse, resolved by precedence."""

    precedence: Precedence
    values: Mapping[Sku, int]  # with one snapshot, its own column (not a copy)
    parts: tuple[tuple[Snapshot, Mapping[Sku, int]], ...]  # each snapshot's values, in order
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
    snapshots: Sequence[Snapshot], warehouse: Warehouse, precedence: Precedence
) -> SourceValues:
    """Combine the warehouse's snapshots (in precedence order) into one value per SKU."""
    parts = tuple((snap, snap.rows_for(warehouse)) for snap in snapshots)
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


def _first(parts: tuple[tuple[Snapshot, Mapping[Sku, int]], ...]) -> Mapping[Sku, int]:
    if len(parts) == 1:
        return parts[0][1]
    values: dict[Sku, int] = {}
    for _, part in reversed(parts):  # later updates overwrite: the first snapshot wins
        values.update(part)
    return values


def _sum(parts: tuple[tuple[Snapshot, Mapping[Sku, int]], ...]) -> Mapping[Sku, int]:
    if len(parts) == 1:
        return parts[0][1]
    values = dict(parts[0][1])
    for _, part in parts[1:]:
        for sku, quantity in part.items():
            values[sku] = values.get(sku, 0) + quantity
    return values


def _available_skus(
    parts: tuple[tuple[Snapshot, Mapping[Sku, int]], ...], precedence: Precedence
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
