"""A local ShipStation V2 inventory API: real HTTP, seeded state, faults on demand."""

from inventory_sync.shipstation.emulator.running import RunningEmulator, start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings, FaultSettings
from inventory_sync.shipstation.emulator.state import EmulatorState

__all__ = [
    "EmulatorSettings",
    "EmulatorState",
    "FaultSettings",
    "RunningEmulator",
    "start_emulator",
]
