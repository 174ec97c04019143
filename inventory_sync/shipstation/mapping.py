"""Check configured warehouses against ShipStation's, resolve each to a location, fill gaps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from inventory_sync.errors import MappingError
from inventory_sync.shipstation.models import InventoryLocation, InventoryWarehouse

# The app lays locations out as "area - unit - shelf - bin"; a fresh warehouse gets the first bin.
DEFAULT_LOCATION_NAME = "A - 1 - 1 - 1"


@dataclass(frozen=True, slots=True)
class WarehouseMapping:
    """One configured warehouse: by ShipStation id, or by a ShipStation name to look up."""

    name: str  # our own name for the warehouse, from the config
    inventory_warehouse_id: str | None
    inventory_location_id: str | None
    warehouse_name: str | None = None


class Severity(StrEnum):
    ERROR = "error"  # pushing would go to the wrong place or nowhere
    WARNING = "warning"  # works, but probably not what was meant


@dataclass(frozen=True, slots=True)
class Finding:
    mapping: str
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.mapping}: {self.message}"


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a mapping pushes: one warehouse and one of its locations."""

    inventory_warehouse_id: str
    inventory_location_id: str


@dataclass(frozen=True, slots=True)
class MappingReport:
    """Findings, and each configured name resolved to (warehouse_id, location_id) or None."""

    findings: tuple[Finding, ...]
    resolved: dict[str, Resolved | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    def raise_for_errors(self) -> None:
        if self.errors:
            raise MappingError(
                f"{len(self.errors)} warehouse mapping problem(s)",
                findings=[str(f) for f in self.errors],
            )


class _Checker:
    """Resolves one mapping at a time, collecting findings."""

    def __init__(
        self, warehouses: Sequence[InventoryWarehouse], locations: Sequence[InventoryLocation]
    ) -> None:
        self.warehouses = {w.inventory_warehouse_id: w for w in warehouses}
        self.locations = {loc.inventory_location_id: loc for loc in locations}
        self.findings: list[Finding] = []

    def note(self, m: WarehouseMapping, severity: Severity, code: str, message: str) -> None:
        self.findings.append(Finding(m.name, severity, code, message))

    def warehouse_of(self, m: WarehouseMapping) -> str | None:
        if m.inventory_warehouse_id is not None:
            if m.inventory_warehouse_id not in self.warehouses:
                self.note(
                    m,
                    Severity.ERROR,
                    "unknown_warehouse",
                    f"ShipStation has no inventory warehouse {m.inventory_warehouse_id!r}",
                )
                return None
            return m.inventory_warehouse_id
        if m.warehouse_name is not None:
            return self._by_name(m, m.warehouse_name)
        if m.inventory_location_id in self.locations:
            return self.locations[m.inventory_location_id].inventory_warehouse_id
        self.note(
            m,
            Severity.ERROR,
            "no_warehouse_configured",
            "configure inventory_warehouse_id or warehouse_name",
        )
        return None

    def _by_name(self, m: WarehouseMapping, wanted: str) -> str | None:
        # Names are compared without case or edge spaces: the app shows them that way.
        matches = sorted(
            w.inventory_warehouse_id
            for w in self.warehouses.values()
            if w.name.strip().casefold() == wanted.strip().casefold()
        )
        if len(matches) == 1:
            return matches[0]
        if not matches:
            self.note(
                m,
                Severity.ERROR,
                "unknown_warehouse_name",
                f"ShipStation has no inventory warehouse named {wanted!r}",
            )
        else:
            self.note(
                m,
                Severity.ERROR,
                "ambiguous_warehouse_name",
                f"{len(matches)} warehouses are named {wanted!r} ({', '.join(matches)}); "
                "configure inventory_warehouse_id instead",
            )
        return None

    def location_of(self, m: WarehouseMapping, warehouse_id: str) -> str | None:
        if m.inventory_location_id is not None:
            location = self.locations.get(m.inventory_location_id)
            if location is None:
                self.note(
                    m,
                    Severity.ERROR,
                    "unknown_location",
                    f"ShipStation has no inventory location {m.inventory_location_id!r}",
                )
                return None
            if location.inventory_warehouse_id != warehouse_id:
                self.note(
                    m,
                    Severity.ERROR,
                    "location_in_other_warehouse",
                    f"location {location.inventory_location_id!r} belongs to warehouse "
                    f"{location.inventory_warehouse_id!r}, not {warehouse_id!r}",
                )
                return None
            return location.inventory_location_id
        owned = sorted(
            i for i, loc in self.locations.items() if loc.inventory_warehouse_id == warehouse_id
        )
        if len(owned) == 1:
            return owned[0]
        if not owned:
            self.note(
                m,
                Severity.ERROR,
                "no_location",
                f"warehouse {warehouse_id!r} has no inventory location",
            )
        else:
            self.note(
                m,
                Severity.ERROR,
                "ambiguous_location",
                f"warehouse {warehouse_id!r} has {len(owned)} locations ({', '.join(owned)}); "
                "configure inventory_location_id",
            )
        return None

    def resolve(self, m: WarehouseMapping) -> Resolved | None:
        warehouse_id = self.warehouse_of(m)
        if warehouse_id is None:
            return None
        location_id = self.location_of(m, warehouse_id)
        return None if location_id is None else Resolved(warehouse_id, location_id)


def check_mapping(
    configured: Sequence[WarehouseMapping],
    warehouses: Sequence[InventoryWarehouse],
    locations: Sequence[InventoryLocation],
) -> MappingReport:
    """Compare the configuration with what ShipStation has; pure, no I/O."""
    checker = _Checker(warehouses, locations)
    resolved = {m.name: checker.resolve(m) for m in configured}
    users: dict[str, list[str]] = {}
    for name, target in resolved.items():
        if target is not None:
            users.setdefault(target.inventory_location_id, []).append(name)
    for location_id, names in users.items():
        if len(names) > 1:
            # Two feeds setting one location's levels would overwrite each other on every run.
            for name in names:
                others = ", ".join(n for n in names if n != name)
                message = f"location {location_id!r} is also mapped by {others}"
                checker.findings.append(Finding(name, Severity.WARNING, "shared_location", message))
    return MappingReport(tuple(checker.findings), resolved)


class WarehouseAdmin(Protocol):
    """What create_missing needs: ShipStationClient and MemoryInventory both have it."""

    def list_warehouses(self) -> list[InventoryWarehouse]: ...
    def list_locations(self) -> list[InventoryLocation]: ...
    def create_warehouse(self, name: str) -> InventoryWarehouse: ...
    def create_location(
        self, name: str, inventory_warehouse_id: str, *, barcode: str | None = None
    ) -> InventoryLocation: ...


def create_missing(
    client: WarehouseAdmin, configured: Sequence[WarehouseMapping]
) -> list[InventoryWarehouse | InventoryLocation]:
    """Create warehouses configured by name that do not exist, and a first location for any
    resolved warehouse that has none. Ids in the config are never invented; return what was made."""
    created: list[InventoryWarehouse | InventoryLocation] = []
    warehouses, locations = client.list_warehouses(), client.list_locations()
    for m in configured:
        report = check_mapping([m], warehouses, locations)
        codes = {f.code for f in report.findings}
        if "unknown_warehouse_name" in codes and m.warehouse_name:
            warehouse = client.create_warehouse(m.warehouse_name)
            warehouses.append(warehouse)
            created.append(warehouse)
            codes = {f.code for f in check_mapping([m], warehouses, locations).findings}
        if "no_location" in codes and m.inventory_location_id is None:
            warehouse_id = _warehouse_id(m, warehouses)
            if warehouse_id is not None:
                location = client.create_location(DEFAULT_LOCATION_NAME, warehouse_id)
                locations.append(location)
                created.append(location)
    return created


def _warehouse_id(m: WarehouseMapping, warehouses: Sequence[InventoryWarehouse]) -> str | None:
    if m.inventory_warehouse_id is not None:
        return m.inventory_warehouse_id
    wanted = (m.warehouse_name or "").strip().casefold()
    matches = [w.inventory_warehouse_id for w in warehouses if w.name.strip().casefold() == wanted]
    return matches[0] if len(matches) == 1 else None
