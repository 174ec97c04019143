"""Several accounts in one App: each its own client; one account's failure stops only its work."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime

import pytest

from inventory_sync import bootstrap, logs, service
from inventory_sync.app import ConfiguredSource
from inventory_sync.clock import FixedClock
from inventory_sync.config import load_settings
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import (
    AdjustmentStatus,
    Completeness,
    RunStatus,
    SourceName,
    Warehouse,
)
from inventory_sync.errors import AuthError, PlanError, UsageError
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.service.accounts import chosen_accounts, reconcile_accounts
from inventory_sync.shipstation.emulator.state import LevelFilter
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.sources import MemorySource, snapshot_of

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# account -> its warehouses (name -> location)
LAYOUT = {
    "acme": {"acme-east": "se-11", "acme-west": "se-12"},
    "bolt": {"bolt-main": "se-21"},
    "cask": {"cask-main": "se-31"},
}


def account_seed(locations: dict[str, str]) -> dict:
    return {
        "products": ["RED", "BLUE"],
        "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
        "locations": [
            {"inventory_location_id": loc, "name": loc, "inventory_warehouse_id": "se-1"}
            for loc in locations.values()
        ],
        "levels": [
            {"sku": sku, "inventory_location_id": loc, "on_hand": 5}
            for loc in locations.values()
            for sku in ("RED", "BLUE")
        ],
    }


class Accounts:
    """Three accounts in memory, one 3PL feed for every warehouse of all of them."""

    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.ledger = MemoryLedger()
        self.inventories = {
            name: MemoryInventory.from_seed(account_seed(w)) for name, w in LAYOUT.items()
        }
        self.source = MemorySource(SourceName("3pl"))
        everywhere = {Warehouse(w): {"RED": 9, "BLUE": 5} for ws in LAYOUT.values() for w in ws}
        self.source.queue(snapshot_of(SourceName("3pl"), everywhere, taken_at=NOW))

    def app(self, sources: tuple[ConfiguredSource, ...] | None = None):
        accounts = [
            {
                "name": name,
                "api_key": f"{name}-key-123456",
                "warehouses": [
                    {"name": w, "inventory_location_id": loc} for w, loc in warehouses.items()
                ],
            }
            for name, warehouses in LAYOUT.items()
        ]
        settings = load_settings(None, require_file=False, overrides={"accounts": accounts})
        warehouses = tuple(Warehouse(w) for ws in LAYOUT.values() for w in ws)
        configured = ConfiguredSource(self.source, warehouses, Completeness.COMPLETE, GateRules())
        return bootstrap.build(
            settings,
            inventories=self.inventories,
            ledger=self.ledger,
            sources=(configured,) if sources is None else sources,
            clock=self.clock,
        )

    def red(self, account: str, warehouse: str) -> int:
        location = LAYOUT[account][warehouse]
        rows = self.inventories[account].state.levels(LevelFilter(inventory_location_id=location))
        return next(r.on_hand for r in rows if r.sku == "RED")


@pytest.fixture
def events():
    stream = io.StringIO()
    logs.configure(fmt="json", stream=stream)
    found: list[dict] = []

    def read() -> list[dict]:
        found[:] = [json.loads(line) for line in stream.getvalue().splitlines() if line]
        return found

    yield read
    logs.unbind_run()
    logs.configure()


class TestAccountsApp:
    def test_each_account_has_its_own_client_and_warehouses(self):
        world = Accounts()
        app = world.app()
        assert app.account_names() == ["acme", "bolt", "cask"]
        acme = app.for_account("acme")
        assert acme.inventory is world.inventories["acme"]
        assert [t.name for t in acme.targets.resolve()] == ["acme-east", "acme-west"]
        assert app.account_of("cask-main") == "cask"
        assert app.for_warehouse("bolt-main").inventory is world.inventories["bolt"]
        assert list(app.targets.names) == [w for ws in LAYOUT.values() for w in ws]

    def test_the_top_app_refuses_to_reach_shipstation_itself(self):
        app = Accounts().app()
        with pytest.raises(RuntimeError, match="one account"):
            app.inventory.list_warehouses()

    def test_unknown_accounts_and_warehouses_are_usage_errors(self):
        app = Accounts().app()
        with pytest.raises(UsageError, match="acme, bolt, cask"):
            app.for_account("nope")
        with pytest.raises(UsageError, match="unknown warehouse"):
            app.account_of("nowhere")

    def test_real_clients_get_a_budget_each(self):
        accounts = [
            {
                "name": name,
                "api_key": f"{name}-key-123456",
                "requests_per_minute": rpm,
                "warehouses": [{"name": f"{name}-w", "inventory_location_id": "se-1"}],
            }
            for name, rpm in (("acme", 100), ("bolt", 40))
        ]
        settings = load_settings(None, require_file=False, overrides={"accounts": accounts})
        app = bootstrap.build(settings, ledger=MemoryLedger(), sources=())
        try:
            acme, bolt = (a.inventory for a in app.account_apps())
            assert acme.budget is not bolt.budget  # type: ignore[attr-defined]
            assert acme.budget.requests_per_minute == 100  # type: ignore[attr-defined]
            assert bolt.budget.requests_per_minute == 40  # type: ignore[attr-defined]
        finally:
            app.close()


class TestOneAccountFailing:
    def test_a_refused_account_stops_only_its_own_work(self, events):
        world = Accounts()
        world.inventories["bolt"].fail_next(AuthError("refused", status_code=401))
        world.inventories["cask"].fail_next(PlanError("no add-on", status_code=402))
        summary = reconcile_accounts(world.app(), service.RunOptions())
        assert [o.account for o in summary.outcomes] == ["acme", "bolt", "cask"]
        assert summary.failed_accounts == ["bolt", "cask"]
        assert (world.red("acme", "acme-east"), world.red("acme", "acme-west")) == (9, 9)
        assert world.red("bolt", "bolt-main") == 5
        assert world.red("cask", "cask-main") == 5
        assert summary.status is RunStatus.PARTIAL
        assert summary.exit_code == 4
        failed = [e for e in events() if e["event"] == "account.failed"]
        assert sorted((e["account"], e["error_type"]) for e in failed) == [
            ("bolt", "AuthError"),
            ("cask", "PlanError"),
        ]

    def test_the_json_summary_names_each_account_and_how_it_ended(self):
        world = Accounts()
        world.inventories["cask"].fail_next(PlanError("no add-on", status_code=402))
        found = reconcile_accounts(world.app(), service.RunOptions()).to_json()
        by_name = {a["account"]: a for a in found["accounts"]}
        assert by_name["acme"]["status"] == "succeeded"
        assert by_name["acme"]["applied"] == 2
        assert "no add-on" in by_name["cask"]["error"]
        assert (by_name["cask"]["status"], by_name["cask"]["exit_code"]) == ("failed", 4)
        assert by_name["cask"]["error_type"] == "PlanError"
        assert found["failed_accounts"] == ["cask"]
        assert (found["exit_code"], found["applied"], found["planned"]) == (4, 3, 3)
        assert {(a["account"], a["warehouse"]) for a in found["adjustments"]} == {
            ("acme", "acme-east"),
            ("acme", "acme-west"),
            ("bolt", "bolt-main"),
        }

    def test_every_account_succeeding_exits_zero(self):
        world = Accounts()
        summary = reconcile_accounts(world.app(), service.RunOptions())
        assert summary.status is RunStatus.SUCCEEDED
        assert summary.exit_code == 0
        assert world.red("cask", "cask-main") == 9


class MeetingInventory(MemoryInventory):
    """A fake whose first write waits until every account has reached its own first write."""

    def __init__(self, state, barrier: threading.Barrier) -> None:
        super().__init__(state)
        self.barrier = barrier
        self.first = threading.Lock()
        self.met = False

    def update_level(self, update, **kwargs):
        with self.first:  # one waiter per account; its other writes queue behind it
            if not self.met:
                self.barrier.wait()  # raises BrokenBarrierError if the accounts take turns
                self.met = True
        return super().update_level(update, **kwargs)


class TestAccountsTogether:
    def test_the_accounts_push_at_the_same_time(self):
        world = Accounts()
        barrier = threading.Barrier(len(LAYOUT), timeout=10)
        world.inventories = {
            name: MeetingInventory(inventory.state, barrier)
            for name, inventory in world.inventories.items()
        }
        summary = reconcile_accounts(world.app(), service.RunOptions())
        assert summary.status is RunStatus.SUCCEEDED
        assert all(inventory.met for inventory in world.inventories.values())


class TestOneSourceManyAccounts:
    def test_a_source_feeding_several_accounts_is_pulled_once(self):
        world = Accounts()
        reconcile_accounts(world.app(), service.RunOptions())
        assert world.source.pulls == 1
        assert len(world.source.committed) == 1

    def test_each_account_run_has_its_own_run_and_events_carry_the_account(self, events):
        world = Accounts()
        summary = reconcile_accounts(world.app(), service.RunOptions())
        runs = {world.ledger.get_run(r.run_id).trigger for r in summary.reports}
        assert runs == {"cli@acme", "cli@bolt", "cli@cask"}
        finished = [e for e in events() if e["event"] == "run.finished"]
        assert sorted(e["account"] for e in finished) == ["acme", "bolt", "cask"]
        for report in summary.reports:
            for entry in report.entries:
                assert entry.status is AdjustmentStatus.APPLIED


class TestNarrowing:
    def test_account_names_pick_their_accounts(self):
        app = Accounts().app()
        chosen = chosen_accounts(app, frozenset(), frozenset({"cask", "acme"}))
        assert [a.account for a in chosen] == ["acme", "cask"]

    def test_a_warehouse_picks_its_account(self):
        app = Accounts().app()
        assert [a.account for a in chosen_accounts(app, frozenset({"bolt-main"}))] == ["bolt"]

    def test_a_source_of_accounts_not_chosen_is_not_pulled(self):
        world = Accounts()
        only_acme = MemorySource(SourceName("acme-only"))
        configured = [
            ConfiguredSource(
                world.source,
                (Warehouse("bolt-main"), Warehouse("cask-main")),
                Completeness.COMPLETE,
            ),
            ConfiguredSource(only_acme, (Warehouse("acme-east"),), Completeness.COMPLETE),
        ]
        world.source.queue(
            snapshot_of(SourceName("3pl"), {Warehouse("bolt-main"): {"RED": 9}}, taken_at=NOW)
        )
        app = world.app(sources=tuple(configured))
        reconcile_accounts(app, service.RunOptions(), accounts=frozenset({"bolt", "cask"}))
        assert only_acme.pulls == 0
        assert world.source.pulls == 1

    def test_an_account_run_reads_only_its_own_shipstation(self):
        world = Accounts()
        app = world.app()
        summary = reconcile_accounts(app, service.RunOptions(), accounts=frozenset({"bolt"}))
        assert [o.account for o in summary.outcomes] == ["bolt"]
        assert world.ledger.get_run(summary.reports[0].run_id).trigger == "cli@bolt"
        assert world.inventories["acme"].reads == []
        assert world.red("bolt", "bolt-main") == 9
        assert world.red("acme", "acme-east") == 5
