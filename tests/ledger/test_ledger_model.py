"""MemoryLedger stays honest: random sequences of calls give the same answers as SqlLedger."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    LocationId,
    Outcome,
    RunId,
    RunRecord,
    Sku,
    TransactionType,
    Warehouse,
)
from inventory_sync.errors import LedgerError
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.ledger.repository import open_ledger

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
IDS = st.sampled_from(["a1", "a2", "a3", "a4"])
SKUS = st.sampled_from(["A", "B", "C"])
WAREHOUSES = st.sampled_from(["east", "west"])
MINUTES = st.integers(0, 12).map(lambda m: T0 + timedelta(minutes=m))
HOLDERS = st.sampled_from(["host-a", "host-b"])
LOCKS = st.sampled_from(["push:east", "push:west"])


def call(ledger, method: str, *args, **kwargs):
    """The result of a call, or the kind of error it raised."""
    try:
        return getattr(ledger, method)(*args, **kwargs)
    except LedgerError:
        return LedgerError


class LedgerPair(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.scratch = Path(tempfile.mkdtemp(prefix="ledger-model-"))
        self.memory = MemoryLedger()
        self.sql = open_ledger(str(self.scratch / "ledger.db"))
        for ledger in (self.memory, self.sql):
            ledger.begin_run(RunRecord(RunId("r1"), T0, "test"))

    def both(self, method: str, *args, **kwargs):
        expected = call(self.memory, method, *args, **kwargs)
        assert call(self.sql, method, *args, **kwargs) == expected, method
        return expected

    @rule(adjustment_id=IDS, sku=SKUS, after=st.integers(0, 50), at=MINUTES)
    def plan(self, adjustment_id, sku, after, at):
        adjustment = Adjustment(
            AdjustmentId(adjustment_id),
            Warehouse("east"),
            LocationId("loc"),
            Sku(sku),
            TransactionType.ADJUST,
            after,
            None,
            after,
            "rule",
            {"n": after},
        )
        self.both("record_planned", RunId("r1"), [adjustment], at=at)

    @rule(adjustment_id=IDS, at=MINUTES, request=st.text(max_size=20))
    def send(self, adjustment_id, at, request):
        self.both("mark_sent", AdjustmentId(adjustment_id), request=request, at=at)

    @rule(adjustment_id=IDS, status=st.sampled_from(AdjustmentStatus), at=MINUTES)
    def settle(self, adjustment_id, status, at):
        self.both("mark_outcome", AdjustmentId(adjustment_id), Outcome(status, at, "req", "{}"))

    @rule(warehouse=WAREHOUSES, sku=SKUS, quantity=st.integers(0, 9), at=MINUTES)
    def agree(self, warehouse, sku, quantity, at):
        self.both("record_agreed", Warehouse(warehouse), {Sku(sku): quantity}, at=at)

    @rule(name=LOCKS, holder=HOLDERS, ttl=st.integers(1, 5), now=MINUTES)
    def acquire(self, name, holder, ttl, now):
        self.both("acquire_lock", name, holder, timedelta(minutes=ttl), now)

    @rule(name=LOCKS, holder=HOLDERS, ttl=st.integers(1, 5), now=MINUTES)
    def refresh(self, name, holder, ttl, now):
        self.both("refresh_lock", name, holder, timedelta(minutes=ttl), now)

    @rule(name=LOCKS, holder=HOLDERS)
    def release(self, name, holder):
        self.both("release_lock", name, holder)

    @rule(older_than=MINUTES)
    def prune(self, older_than):
        self.both("prune", older_than)

    @invariant()
    def the_same_state_is_visible(self):
        self.both("journal")
        self.both("unsettled")
        for warehouse in ("east", "west"):
            self.both("agreed_levels", Warehouse(warehouse))
        for name in ("push:east", "push:west"):
            for minute in (3, 10):
                self.both("lock_holder", name, T0 + timedelta(minutes=minute))

    def teardown(self) -> None:
        self.sql.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


LedgerPair.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=15,
    deadline=None,  # SQLite fsyncs; the test is about answers, not speed
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedgerPair = pytest.mark.slow(LedgerPair.TestCase)


def test_the_memory_ledger_imports_no_sql():
    code = (
        "import sys, inventory_sync.ledger.memory; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
