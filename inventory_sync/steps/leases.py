"""What replicas lease: one lease per ShipStation account, named by one function."""

from __future__ import annotations

from inventory_sync.app import App
from inventory_sync.domain.model import AccountName, Warehouse


def push_lease_name(account: AccountName) -> str:
    """The lease whose holder pulls, reconciles and pushes for ``account``: one pusher per
    account, so replicas never together spend more than the account's request budget."""
    return f"push:account:{account}"


def accounts(app: App) -> tuple[AccountName, ...]:
    """Every account the configuration names; the single-account file's is `default`."""
    return tuple(app.account_names())


def account_of(app: App, warehouse: Warehouse) -> AccountName:
    """The account a warehouse belongs to."""
    return app.account_of(warehouse)
