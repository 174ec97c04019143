"""The wired objects one run needs; built by bootstrap.build, used by the run functions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import NoReturn

from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.inventory import (
    InventoryLevel,
    InventoryLocation,
    InventoryUpdate,
    InventoryWarehouse,
    PagesRead,
    UpdateReceipt,
)
from inventory_sync.domain.model import (
    DEFAULT_ACCOUNT,
    AccountName,
    Completeness,
    SourceName,
    Warehouse,
    WarehouseTarget,
)
from inventory_sync.domain.policy import GuardLimits, Policy
from inventory_sync.errors import UsageError
from inventory_sync.ports import (
    Clock,
    InventoryApi,
    Leases,
    LeaseTimes,
    Ledger,
    Source,
    Targets,
)

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


class AccountRequired:
    """The InventoryApi of an App of several accounts: a request must go through one account's
    App (``for_account``, ``for_warehouse``), so a bug can never send to the wrong account."""

    def _refuse(self) -> NoReturn:
        raise RuntimeError("ShipStation is reached through one account: use app.for_account()")

    def list_levels(
        self,
        *,
        inventory_warehouse_id: str | None = None,  # noqa: ARG002
        inventory_location_id: str | None = None,  # noqa: ARG002
        sku: str | None = None,  # noqa: ARG002
        on_page: Callable[[PagesRead], None] | None = None,  # noqa: ARG002
    ) -> Iterator[InventoryLevel]:
        self._refuse()

    def update_level(
        self,
        update: InventoryUpdate,  # noqa: ARG002
        *,
        before_send: Callable[[], None] | None = None,  # noqa: ARG002
    ) -> UpdateReceipt:
        self._refuse()

    def list_warehouses(self) -> list[InventoryWarehouse]:
        self._refuse()

    def list_locations(self) -> list[InventoryLocation]:
        self._refuse()

    def check_key_expiry(self, today: date) -> object:  # noqa: ARG002
        self._refuse()


class AccountsTargets:
    """The Targets of an App of several accounts: every account's, in configuration order."""

    def __init__(self, accounts: tuple[Targets, ...]) -> None:
        self._accounts = accounts

    @property
    def names(self) -> tuple[Warehouse, ...]:
        return tuple(name for targets in self._accounts for name in targets.names)

    def resolve(self) -> tuple[WarehouseTarget, ...]:
        return tuple(t for targets in self._accounts for t in targets.resolve())


@dataclass(frozen=True, slots=True)
class App:
    """Everything wired: ports, targets and rules. ``close`` releases what was opened.

    An App is one ShipStation account (``account``) or, with several, holds one App per account
    in ``accounts``: each with its own client (budget, 429 pause, keys) and its own targets,
    sharing the ledger, clock, sources and rules. The top App's targets are all of them; its
    ``inventory`` refuses every call, so work on ShipStation always goes through one account.
    """

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
    lease_times: LeaseTimes = field(default_factory=LeaseTimes)  # for whoever takes a lease
    closers: list[Callable[[], None]] = field(default_factory=list)
    account: AccountName = DEFAULT_ACCOUNT
    accounts: tuple[App, ...] = ()  # one App per account when there are several

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()

    def account_apps(self) -> tuple[App, ...]:
        """One App per account, in configuration order (this App when it is the only one)."""
        return self.accounts or (self,)

    def account_names(self) -> list[AccountName]:
        return [a.account for a in self.account_apps()]

    def for_account(self, name: str) -> App:
        """The App of one account; UsageError naming the configured ones otherwise."""
        found = next((a for a in self.account_apps() if a.account == name), None)
        if found is None:
            known = ", ".join(self.account_names())
            raise UsageError(f"unknown account {name!r}; configured: {known}")
        return found

    def account_of(self, warehouse: str) -> AccountName:
        """The account a warehouse belongs to; UsageError for a warehouse not configured."""
        for account in self.account_apps():
            if warehouse in account.targets.names:
                return account.account
        known = ", ".join(self.targets.names)
        raise UsageError(f"unknown warehouse {warehouse!r}; configured: {known}")

    def for_warehouse(self, warehouse: str) -> App:
        """The App of the account that owns ``warehouse``."""
        return self.for_account(self.account_of(warehouse))
