"""The subcommands of `inventory-sync`, one module each."""
