"""Before any push: the configured warehouses and locations must match what ShipStation has."""

from __future__ import annotations

import structlog

from inventory_sync.app import App, WarehouseTarget
from inventory_sync.domain.model import LocationId, Warehouse
from inventory_sync.errors import MappingError
from inventory_sync.shipstation.mapping import Severity, check_mapping

log = structlog.get_logger(__name__)


def ensure_targets(app: App) -> None:
    """Check the mapping once per App and resolve every warehouse to its location, or refuse.

    An App of several accounts checks each account's against that account's ShipStation."""
    if app.accounts:
        for account in app.accounts:
            ensure_targets(account)
        app.warehouses = tuple(t for account in app.accounts for t in account.warehouses)
        app.mapping_checked = True
        return
    if app.mapping_checked or (not app.check_mapping and app.warehouses):
        return
    report = check_mapping(
        app.mappings, app.inventory.list_warehouses(), app.inventory.list_locations()
    )
    for finding in report.findings:
        event = "warehouse.mapping_problem"
        if finding.severity is Severity.ERROR:
            log.error(event, warehouse=finding.mapping, code=finding.code, problem=finding.message)
        else:
            log.warning(
                event, warehouse=finding.mapping, code=finding.code, problem=finding.message
            )
    report.raise_for_errors()
    targets = []
    for mapping in app.mappings:
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
    app.warehouses = tuple(targets)
    app.mapping_checked = True
