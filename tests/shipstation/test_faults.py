"""Under seeded faults, adjusts converge and no increment is ever applied twice for one intent."""

from __future__ import annotations

import uuid

import pytest
from shipstation_seeds import big_seed

from inventory_sync.errors import OutcomeUncertain, ShipStationError
from inventory_sync.shipstation.emulator.state import LevelFilter
from inventory_sync.shipstation.models import InventoryUpdate

SKU_COUNT = 120
FAULTS = {
    "error_rate": 0.05,
    "lost_ack_rate": 0.05,
    "drop_before_rate": 0.02,
    "burst_429_rate": 0.005,
    "burst_429_length": 3,
    "burst_retry_after": 1,
}


@pytest.fixture
def faulty(start):
    def _faulty(seed: int):
        emulator = start(big_seed(SKU_COUNT))
        emulator.faults.update(seed=seed, **FAULTS)
        return emulator

    return _faulty


def emulator_levels(emulator) -> dict[str, int]:
    return {
        row.sku: row.on_hand
        for row in emulator.state.levels(LevelFilter(inventory_location_id="se-2001"))
    }


def push(client, updates) -> dict[InventoryUpdate, object]:
    results: dict[InventoryUpdate, object] = {}
    client.update_many(updates, on_result=results.__setitem__)
    return results


@pytest.mark.parametrize("seed", [1, 2])
def test_a_batch_of_adjusts_converges_by_reissuing_what_failed(faulty, connect, seed):
    emulator = faulty(seed)
    client = connect(emulator, max_read_retries=2, concurrency=8)
    targets = {f"BULK-{n:05d}": (n * 7) % 50 for n in range(SKU_COUNT)}
    pending = [InventoryUpdate("adjust", sku, qty, "se-2001") for sku, qty in targets.items()]
    rounds = 0
    while pending and rounds < 10:
        rounds += 1
        results = push(client, pending)
        pending = [
            update for update, outcome in results.items() if isinstance(outcome, ShipStationError)
        ]
    assert pending == []
    assert emulator_levels(emulator) == targets
    assert any(r.status in (None, 503, 429) for r in emulator.requests), "the faults never fired"


@pytest.mark.parametrize("seed", [3, 4])
def test_increments_are_never_applied_twice_for_one_intent(faulty, connect, seed):
    emulator = faulty(seed)
    client = connect(emulator, max_read_retries=3, concurrency=8)
    before = emulator_levels(emulator)
    # One intent per SKU, each with unique notes, so the applied record tells intents apart.
    intents = [
        InventoryUpdate("increment", sku, 3, "se-2001", notes=f"intent-{uuid.uuid4()}")
        for sku in before
    ]
    pending, uncertain_seen, rounds = intents, 0, 0
    while pending and rounds < 10:
        rounds += 1
        results = push(client, pending)
        pending = []
        for update, outcome in results.items():
            if isinstance(outcome, OutcomeUncertain):
                uncertain_seen += 1
                # Settle by reading back, never by replaying blindly.
                [row] = client.list_levels(sku=update.sku, inventory_location_id="se-2001")
                if row.on_hand == before[update.sku]:
                    pending.append(update)
            elif isinstance(outcome, ShipStationError):
                pending.append(update)  # refused outright, or never sent: nothing applied
    assert pending == []
    assert uncertain_seen > 0, "the faults never produced an unknown outcome"
    applied = [entry for entry in emulator.applied() if entry.path == "/v2/inventory"]
    assert len(applied) == len(intents)
    assert max(entry.count for entry in applied) == 1
    assert emulator_levels(emulator) == {sku: level + 3 for sku, level in before.items()}
