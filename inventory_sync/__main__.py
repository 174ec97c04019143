"""Lets `python -m inventory_sync` behave like the `inventory-sync` command."""

from inventory_sync.cli import main

main()
