"""update_many: a pool of workers sharing one budget, with a hook before each send."""

from __future__ import annotations

import threading

import pytest
from shipstation_seeds import big_seed

from inventory_sync.errors import RequestRejected
from inventory_sync.shipstation.models import InventoryUpdate, UpdateReceipt


class TestUpdateMany:
    def test_pushes_every_update_and_reports_each_result(self, start, connect):
        emulator = start(big_seed(60))
        client = connect(emulator, concurrency=8)
        targets = {f"BULK-{n:05d}": 1000 + n for n in range(60)}
        updates = [InventoryUpdate("adjust", sku, qty, "se-2001") for sku, qty in targets.items()]
        results, sent, workers = [], [], set()

        def before_send(update):
            sent.append(update.sku)
            workers.add(threading.current_thread().name)

        client.update_many(
            updates, on_result=lambda u, r: results.append((u, r)), before_send=before_send
        )
        assert sorted(sent) == sorted(targets)
        assert all(isinstance(r, UpdateReceipt) for _, r in results)
        assert {u.sku for u, _ in results} == set(targets)
        assert {r.sku: r.on_hand for r in client.list_levels()} == targets
        assert all(name.startswith("shipstation-push") for name in workers)

    def test_a_refused_update_is_reported_as_its_error(self, client):
        updates = [
            InventoryUpdate("adjust", "SKU-A", 3, "se-2001"),
            InventoryUpdate("adjust", "NOPE", 3, "se-2001"),
        ]
        results = {}
        client.update_many(updates, on_result=lambda u, r: results.__setitem__(u.sku, r))
        assert isinstance(results["SKU-A"], UpdateReceipt)
        assert isinstance(results["NOPE"], RequestRejected)

    def test_an_exception_in_a_callback_stops_the_batch(self, client):
        def explode(update, result):
            raise RuntimeError(update.sku)

        with pytest.raises(RuntimeError):
            client.update_many(
                [InventoryUpdate("adjust", "SKU-A", 3, "se-2001")], on_result=explode
            )

    def test_works_without_callbacks(self, emulator, client):
        client.update_many(InventoryUpdate("adjust", "SKU-B", n, "se-2002") for n in range(5))
        assert len(emulator.requests) == 5
