"""Replicas only on a ledger several hosts can share; the lease settings are checked at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory_sync import bootstrap
from inventory_sync.config import load_settings
from inventory_sync.errors import ConfigError
from inventory_sync.shipstation.memory import MemoryInventory

BASE = {
    "shipstation": {"api_key": "unit-test-key"},
    "warehouses": [{"name": "main", "inventory_location_id": "se-11"}],
}


def settings(**daemon: object):
    return load_settings(None, require_file=False, overrides={**BASE, "daemon": daemon})


def app_on(url: str):
    chosen = load_settings(None, require_file=False, overrides={**BASE, "ledger": {"url": url}})
    return bootstrap.build(chosen, inventory=MemoryInventory.from_seed({}), sources=())


class TestWiring:
    def test_a_sqlite_ledger_makes_no_replicas(self, tmp_path: Path):
        app = app_on(f"sqlite:///{tmp_path / 'ledger.db'}")
        try:
            assert app.leases is None  # one process, as before: warehouse locks only
        finally:
            app.close()

    @pytest.mark.postgres
    def test_a_postgresql_ledger_is_shared_by_replicas(self, scratch_postgres_url: str):
        app = app_on(scratch_postgres_url)
        try:
            assert app.leases is app.ledger
        finally:
            app.close()


class TestLeaseSettings:
    def test_the_defaults_replace_a_dead_replica_well_within_a_minute(self):
        daemon = settings().daemon
        assert daemon.lease_seconds + daemon.lease_renew_seconds < 60

    def test_renewals_too_rare_for_the_lease_are_refused_with_the_key(self):
        with pytest.raises(ConfigError) as caught:
            settings(lease_seconds=10, lease_renew_seconds=5)
        (problem,) = caught.value.problems
        assert problem.key == "daemon"
        assert "a third of lease_seconds" in problem.message
