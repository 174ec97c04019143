"""The ShipStation V2 inventory client (a library of its own) and its emulator."""
