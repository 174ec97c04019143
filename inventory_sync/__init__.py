"""inventory-sync: keeps ShipStation's stock levels true to the systems that hold the truth."""

__version__ = "0.1.0"
