"""What replicas lease: one lease per ShipStation account, named by one function."""

from __future__ import annotations

from inventory_sync.app import App
from inventory_sync.domain.model import DEFAULT_ACCOUNT, AccountName, Warehouse


def push_lease_name(account: AccountName) -> str:
    """The lease whose holder pulls, reconciles and pushes for ``account``: one pusher per
    account, so replicas never together spend more than the account's request budget."""
    return f"push:account:{account}"


def accounts(app: App) -> tuple[AccountName, ...]:  # noqa: ARG001 - accounts come with [[accounts]]
    """Every account the configuration names; today's one-account file is `default`."""
    return (DEFAULT_ACCOUNT,)


def account_of(app: App, warehouse: Warehouse) -> AccountName:  # noqa: ARG001 - as above
    """The account a warehouse belongs to."""
    return DEFAULT_ACCOUNT
