"""The Targets port over ShipStation: the configured warehouses checked and resolved once."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import structlog

from inventory_sync.domain.model import LocationId, Warehouse, WarehouseTarget
from inventory_sync.errors import MappingError
from inventory_sync.shipstation.mapping import (
    MappingReport,
    Severity,
    WarehouseMapping,
    check_mapping,
)
from inventory_sync.shipstation.models import InventoryLocation, InventoryWarehouse

log = structlog.get_logger(__name__)


class Directory(Protocol):
    """What the targets are checked against: ShipStation's warehouses and locations."""

    def list_warehouses(self) -> list[InventoryWarehouse]: ...

    def list_locations(self) -> list[InventoryLocation]: ...


class MappedTargets:
    """Resolves the configured mappings against ShipStation on first use; thread-safe.

    With ``check`` off and every location id given in the configuration, nothing is asked:
    the configured targets are used as they stand.
    """

    def __init__(
        self,
        mappings: Sequence[WarehouseMapping],
        inventory: Directory,
        *,
        configured: Sequence[WarehouseTarget] = (),
        check: bool = True,
    ) -> None:
        self._mappings = tuple(mappings)
        self._inventory = inventory
        self._configured = tuple(configured)
        self._check = check
        self._lock = threading.Lock()
        self._resolved: tuple[WarehouseTarget, ...] | None = None

    @property
    def names(self) -> tuple[Warehouse, ...]:
        return tuple(Warehouse(m.name) for m in self._mappings)

    def resolve(self) -> tuple[WarehouseTarget, ...]:
        with self._lock:
            if self._resolved is None:
                if not self._check and self._configured:
                    self._resolved = self._configured
                else:
                    self._resolved = self._checked()
            return self._resolved

    def _checked(self) -> tuple[WarehouseTarget, ...]:
        report = check_mapping(
            self._mappings, self._inventory.list_warehouses(), self._inventory.list_locations()
        )
        _log_findings(report)
        report.raise_for_errors()
        targets = []
        for mapping in self._mappings:
            resolved = report.resolved.get(mapping.name)
            if resolved is None:
                raise MappingError(
                    "warehouse mapping is ambiguous",
                    findings=[f"{mapping.name}: could not be resolved to one location"],
                )
            targets.append(
                WarehouseTarget(
                    Warehouse(mapping.name),
                    LocationId(resolved.inventory_location_id),
                    resolved.inventory_warehouse_id,
                )
            )
        return tuple(targets)


def _log_findings(report: MappingReport) -> None:
    for finding in report.findings:
        event = "warehouse.mapping_problem"
        if finding.severity is Severity.ERROR:
            log.error(event, warehouse=finding.mapping, code=finding.code, problem=finding.message)
        else:
            log.warning(
                event, warehouse=finding.mapping, code=finding.code, problem=finding.message
            )
