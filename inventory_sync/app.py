"""The wired objects one run needs; built by bootstrap.build, used by the run functions."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import Completeness, SourceName, Warehouse, WarehouseTarget
from inventory_sync.domain.policy import GuardLimits, Policy
from inventory_sync.ports import Clock, InventoryApi, Leases, Ledger, Source, Targets

# WarehouseTarget is a domain value; it is named here too, where the run functions look first.
__all__ = ["App", "ConfiguredSource", "WarehouseTarget"]


@dataclass(frozen=True, slots=True)
class ConfiguredSource:
    """A source with what the run needs to know about it besides its data."""

    source: Source
    warehouses: tuple[Warehouse, ...]
    completeness: Completeness
    gates: GateRules = field(default_factory=GateRules)

    @property
    def name(self) -> SourceName:
        return self.source.name


@dataclass(frozen=True, slots=True)
class App:
    """Everything wired: ports, targets and rules. ``close`` releases what was opened."""

    ledger: Ledger
    inventory: InventoryApi
    clock: Clock
    targets: Targets  # the configured warehouses, resolved to locations once, on first use
    sources: tuple[ConfiguredSource, ...]
    policy: Policy = field(default_factory=Policy)  # the default; `policies` per warehouse
    policies: Mapping[Warehouse, Policy] = field(default_factory=dict)
    limits: GuardLimits | Mapping[Warehouse, GuardLimits] = field(default_factory=GuardLimits)
    concurrency: int = 8
    max_attempts: int = 3  # failed attempts in a row before a SKU is quarantined
    leases: Leases | None = None  # set on a ledger several replicas can share (PostgreSQL)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()
