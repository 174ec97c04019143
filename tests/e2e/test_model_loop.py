"""The whole loop as a state machine: feeds, sales, faults, kills and operator commands, checked.

Hypothesis drives the real commands (in-process through the click group, and as a SIGKILLed
subprocess) against the emulator over loopback and a real ledger, and checks after every step
what must always hold. A failure shrinks to a short sequence of steps, printed with the test.
Profiles (docs/reconcile.md, "How it is tested"): ``INVENTORY_SYNC_MODEL_PROFILE=ci`` (default,
fixed examples, derandomized) or ``nightly`` (many more, random).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from crash_support import DELTA_TYPES, WAREHOUSE, deltas_applied_twice
from hypothesis import HealthCheck, Phase, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from model_support import (
    FINAL,
    GHOST,
    MAX_ZEROED,
    RUN_CODES,
    SKUS,
    ZERO_ABSENT_AFTER,
    ModelWorld,
    Step,
    feed_text,
    listed_in,
    postgres_url,
)

from inventory_sync.domain.model import AdjustmentStatus
from inventory_sync.shipstation.models import InventoryUpdate

PROFILE_ENV = "INVENTORY_SYNC_MODEL_PROFILE"
_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
    "print_blob": True,
}
# ci: about a minute on SQLite and under a minute on PostgreSQL on the 2-core CI machine.
settings.register_profile(
    "model-ci", max_examples=6, stateful_step_count=16, derandomize=True, **_COMMON
)
settings.register_profile(
    "model-ci-postgres", max_examples=3, stateful_step_count=12, derandomize=True, **_COMMON
)
settings.register_profile("model-nightly", max_examples=200, stateful_step_count=40, **_COMMON)
# quick: a first look while changing the code; no shrinking, so a failure prints as found.
settings.register_profile(
    "model-quick",
    max_examples=4,
    stateful_step_count=12,
    phases=[Phase.explicit, Phase.generate],
    **_COMMON,
)
MAX_KILLS = 2  # per example: each costs a process start (about 1.5 s)
FAULTS = {
    "5xx": {"error_rate": 0.3},
    "lost_ack": {"lost_ack_rate": 0.3},
    "429_burst": {"burst_429_rate": 0.2, "burst_429_length": 3, "burst_retry_after": 0},
    "drop_before": {"drop_before_rate": 0.3},
}
NO_FAULTS = {
    "error_rate": 0.0,
    "lost_ack_rate": 0.0,
    "burst_429_rate": 0.0,
    "drop_before_rate": 0.0,
}
quantities = st.integers(min_value=0, max_value=30)
skus = st.sampled_from(SKUS)


def profile(postgres: bool) -> settings:
    chosen = os.environ.get(PROFILE_ENV, "ci")
    name = f"model-{chosen}" + ("-postgres" if postgres and chosen == "ci" else "")
    return settings.get_profile(name)


def reason_rule(body: dict) -> str:
    return str(body.get("reason") or "").removeprefix("inventory-sync ")


class ReconcileLoop(RuleBasedStateMachine):
    """The service under feeds, sales, faults and kills; invariants from the emulator and ledger."""

    postgres: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.w: ModelWorld | None = None
        self.values: dict[str, int] = {}
        self.text = ""
        self.since_listed: dict[str, int] = {}
        self.kills = 0
        self.plan: Path | None = None
        self.ghost_product = False
        self.seen_ids: set[str] = set()

    # -- set-up and tear-down ----------------------------------------------------------------

    @initialize(
        mode=st.sampled_from(["mirror", "delta"]),
        seed=st.integers(0, 10_000),
        first=st.lists(quantities, min_size=len(SKUS), max_size=len(SKUS)),
    )
    def start(self, mode: str, seed: int, first: list[int]) -> None:
        tmp = Path(tempfile.mkdtemp(prefix="model-loop-"))
        self.w = ModelWorld(tmp, mode, seed, self.postgres)
        self.since_listed = dict.fromkeys([*SKUS, GHOST], 0)
        self.write(dict(zip(SKUS, first, strict=True)))
        # The first load moves everything: a person's decision, hence --force.
        self.check_run(*self.w.step("reconcile", "--json", "--force"), forced=True)

    def teardown(self) -> None:
        if self.w is None:
            return
        try:
            self.converge()
        finally:
            self.w.close()
            shutil.rmtree(self.w.tmp, ignore_errors=True)

    # -- feed rules --------------------------------------------------------------------------

    def write(self, values: dict[str, int], text: str | None = None) -> None:
        assert self.w is not None
        self.values = values
        self.text = feed_text(values) if text is None else text
        self.w.feed.write_text(self.text, encoding="utf-8")

    @rule(sku=skus, quantity=quantities)
    def set_quantity(self, sku: str, quantity: int) -> None:
        self.write({**self.values, sku: quantity})

    @rule(sku=skus, quantity=quantities)
    def add_sku(self, sku: str, quantity: int) -> None:
        self.write({**self.values, sku: self.values.get(sku, quantity)})

    @rule(sku=skus)
    def drop_sku(self, sku: str) -> None:
        self.write({k: v for k, v in self.values.items() if k != sku})

    @rule(share=st.floats(0.05, 0.95))
    def truncate(self, share: float) -> None:
        """The feed cut off mid-upload at some byte: the tail is a partial row or missing."""
        full = feed_text(self.values)
        self.write(self.values, full[: max(1, int(len(full) * share))])

    @rule(sku=skus)
    def zero_sku(self, sku: str) -> None:
        self.write({**self.values, sku: 0})

    @rule()
    def zero_all(self) -> None:
        self.write(dict.fromkeys(self.values, 0))

    @rule(quantity=st.integers(1, 9))
    def list_unknown_product(self, quantity: int) -> None:
        """A SKU ShipStation has no product for: its changes fail until the product exists."""
        self.write({**self.values, GHOST: quantity})

    @rule()
    def create_unknown_product(self) -> None:
        assert self.w is not None
        with self.w.emulator.state.lock:
            self.w.emulator.state.products.add(GHOST)
        self.ghost_product = True

    # -- ShipStation between runs ------------------------------------------------------------

    @rule(sku=skus, units=st.integers(1, 5))
    def sell(self, sku: str, units: int) -> None:
        assert self.w is not None
        have = self.w.on_hand().get(sku, 0)
        if have > 0:
            self.w.emulator.state.apply_update(
                InventoryUpdate("decrement", sku, min(units, have), "se-11")
            )

    @rule(sku=skus, units=st.integers(1, 5))
    def restock(self, sku: str, units: int) -> None:
        assert self.w is not None
        self.w.emulator.state.apply_update(InventoryUpdate("increment", sku, units, "se-11"))

    @rule(kind=st.sampled_from(sorted(FAULTS)), seed=st.integers(0, 1000))
    def inject_faults(self, kind: str, seed: int) -> None:
        assert self.w is not None
        self.w.emulator.faults.update(**(NO_FAULTS | FAULTS[kind]), seed=seed)

    @rule()
    def stop_faults(self) -> None:
        assert self.w is not None
        self.w.emulator.faults.update(**NO_FAULTS)

    # -- commands ----------------------------------------------------------------------------

    @rule(force=st.booleans())
    def reconcile(self, force: bool) -> None:
        assert self.w is not None
        self.count_run()
        args = ["reconcile", "--json", *(["--force"] if force else [])]
        self.check_run(*self.w.step(*args), forced=force)

    @rule()
    def dry_run(self) -> None:
        assert self.w is not None
        self.count_run()
        result, step = self.w.step("reconcile", "--dry-run", "--json")
        self.check_run(result, step, forced=False)
        assert not step.bodies, f"a dry run wrote {step.bodies}"

    @precondition(lambda self: self.kills < MAX_KILLS)
    @rule(seed=st.integers(0, 1000))
    def killed_reconcile(self, seed: int) -> None:
        assert self.w is not None
        self.kills += 1
        self.count_run()
        said, step = self.w.killed_run(seed)
        note(f"killed run: {said.splitlines()[0]}")
        assert step.code in {*RUN_CODES, -9}, said
        self.check_bodies(step, forced=False)

    @rule(sale=st.booleans())
    def plan_then_apply(self, sale: bool) -> None:
        """Write a plan, maybe sell from one of its SKUs meanwhile, then apply exactly that."""
        assert self.w is not None
        self.plan = self.w.tmp / "plan.json"
        self.count_run()
        result, step = self.w.step("reconcile", "--plan-out", str(self.plan), "--json")
        self.check_run(result, step, forced=False)
        assert not step.bodies, f"--plan-out wrote {step.bodies}"
        rows = json.loads(self.plan.read_text())["adjustments"]
        if sale and rows:
            self.sell(rows[0]["sku"], 1)
        self.count_run()
        self.check_run(*self.w.step("reconcile", "--apply", str(self.plan), "--json"), forced=True)

    @precondition(lambda self: self.plan is not None)
    @rule()
    def apply_again(self) -> None:
        """Applying the same file twice sends nothing the second time."""
        assert self.w is not None
        assert self.plan is not None
        self.count_run()
        result, step = self.w.step("reconcile", "--apply", str(self.plan), "--json")
        self.check_run(result, step, forced=True)
        assert not step.bodies, f"a plan applied twice sent {step.bodies}"

    @rule(sku=skus, how=st.sampled_from(["--add", "--remove", "--set"]), n=st.integers(1, 4))
    def adjust(self, sku: str, how: str, n: int) -> None:
        assert self.w is not None
        reason = {"--add": "return", "--remove": "damage", "--set": "count"}[how]
        result, step = self.w.step(
            "adjust", sku, "-w", WAREHOUSE, how, str(n), "--reason", reason, "--json"
        )
        assert result.code in {0, 1, 2, 4, 5}, result.stderr[-3000:]
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        assert all(reason_rule(b).startswith("manual:") for b in step.bodies), step.bodies
        self.check_bodies(step, forced=True)

    @rule()
    def resolve_needs_review(self) -> None:
        """A person checks ShipStation (here: the emulator's record) and says what happened."""
        assert self.w is not None
        for entry in self.w.journal():
            if entry.status is AdjustmentStatus.NEEDS_REVIEW:
                landed = entry.adjustment.adjustment_id in self.w.landed()
                verdict = "--applied" if landed else "--not-applied"
                result = self.w.run("resolve", entry.adjustment.adjustment_id, verdict)
                # A verdict is the ledger's alone: ShipStation's faults cannot stop it.
                assert result.code == 0, result.stderr[-3000:]

    @rule(sku=st.sampled_from([*SKUS, GHOST]))
    def release(self, sku: str) -> None:
        assert self.w is not None
        result = self.w.run("release", sku, "-w", WAREHOUSE)
        assert result.code in {0, 2}, result.stderr[-3000:]  # no request: faults cannot stop it
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        if result.code == 2:
            assert "not quarantined" in result.stderr, result.stderr[-3000:]

    # -- what every step must leave true -----------------------------------------------------

    def count_run(self) -> None:
        """One more run that may have found each SKU absent (or listed: the count restarts)."""
        for sku in self.since_listed:
            listed = listed_in(self.text, sku)
            self.since_listed[sku] = 0 if listed else self.since_listed[sku] + 1

    def check_run(self, result, step: Step, *, forced: bool) -> None:
        tail = result.stderr[-3000:]
        assert result.code in RUN_CODES, f"exit {result.code}\n{tail}"
        assert "Traceback" not in result.stderr, tail
        assert step.report, f"no JSON report on stdout: {result.stdout[:500]!r}\n{tail}"
        holds = [h["subject"] for h in step.report.get("holds", [])]
        note(f"exit {result.code} {step.report.get('status')} holds={holds} {len(step.bodies)} w")
        if any(h.startswith(("source:", "warehouse:")) for h in holds) and not forced:
            assert not step.bodies, f"held by {holds} yet wrote {step.bodies}"
        for body in step.bodies:
            assert f"sku:{WAREHOUSE}/{body['sku']}" not in holds, f"held SKU written: {body}"
        self.check_bodies(step, forced=forced)

    def check_bodies(self, step: Step, *, forced: bool) -> None:
        zeroed = 0
        for body in step.bodies:
            sku, rule_name = body["sku"], reason_rule(body)
            if rule_name.endswith("zero_absent"):
                assert self.since_listed[sku] >= ZERO_ABSENT_AFTER, (
                    f"{sku} zeroed after {self.since_listed[sku]} runs without it: {body}"
                )
            elif not rule_name.startswith("manual:"):
                assert listed_in(self.text, sku), f"{sku} is not in the feed, yet: {body}"
            zeroed += body["transaction_type"] == "adjust" and body["quantity"] == 0
        if not forced:
            assert zeroed <= MAX_ZEROED, f"the max_zeroed guard let {zeroed} through"

    @invariant()
    def no_change_applied_twice(self) -> None:
        if self.w is not None:
            twice = deltas_applied_twice(self.w.emulator)
            assert not twice, f"applied more than once: {twice}"

    @invariant()
    def ledger_keeps_every_row_and_agrees_with_shipstation(self) -> None:
        if self.w is None:
            return
        entries = self.w.journal()
        ids = {e.adjustment.adjustment_id for e in entries}
        assert self.seen_ids <= ids, f"ledger rows lost: {sorted(self.seen_ids - ids)}"
        self.seen_ids = ids
        landed = self.w.landed()
        for e in entries:
            what = f"{e.adjustment.adjustment_id} {e.adjustment.sku} {e.status.value}"
            if e.status in {AdjustmentStatus.FAILED, AdjustmentStatus.SKIPPED}:
                assert e.error, f"{what} without a reason"
            if e.status is AdjustmentStatus.APPLIED and e.adjustment.rule != "release":
                assert e.adjustment.adjustment_id in landed, f"{what}: ShipStation never got it"
            if e.adjustment.transaction_type.value in DELTA_TYPES and e.status in {
                AdjustmentStatus.FAILED,
                AdjustmentStatus.SKIPPED,
            }:
                assert e.adjustment.adjustment_id not in landed, f"{what}, but it landed"

    # -- after faults stop, two runs reach the target ----------------------------------------

    def converge(self) -> None:
        assert self.w is not None
        self.stop_faults()
        if GHOST in self.values and not self.ghost_product:
            self.create_unknown_product()
        # Every SKU listed again, so no gate holds the feed and nothing is left to zero.
        final = {sku: self.values.get(sku, 5) for sku in SKUS}
        if not any(final.values()):  # an all-zero feed is held by its gate, on purpose
            final[SKUS[0]] = 5
        if GHOST in self.values:
            final[GHOST] = self.values[GHOST]
        self.write(final)
        self.settle_by_hand()
        for _ in range(2):
            self.count_run()
            self.check_run(*self.w.step("reconcile", "--json", "--force"), forced=True)
            self.settle_by_hand()
        self.check_target(final)
        self.check_explained(final)

    def settle_by_hand(self) -> None:
        """What a person does after an incident: resolve what needs review, release quarantines."""
        assert self.w is not None
        self.resolve_needs_review()
        for sku in {e.adjustment.sku for e in self.w.journal()}:
            self.release(sku)

    def check_target(self, final: dict[str, int]) -> None:
        assert self.w is not None
        entries = self.w.journal()
        left = [e for e in entries if e.status not in FINAL]
        assert not left, f"unsettled after the faults stopped: {left}"
        again, step = self.w.step("reconcile", "--dry-run", "--json")
        assert (again.code, step.report.get("planned")) == (0, 0), again.stdout[:3000]
        if self.w.mode == "mirror":
            assert self.w.on_hand() == final, (self.w.on_hand(), final)
        else:
            assert self.w.agreed() == final, (self.w.agreed(), final)

    def check_explained(self, final: dict[str, int]) -> None:
        """Every level change is ours (an applied adjustment) or someone else's (a movement)."""
        assert self.w is not None
        seed = {row["sku"]: row["on_hand"] for row in self.w.account["levels"]}
        on_hand = self.w.on_hand()
        for sku in final:
            result = self.w.run("explain", sku, "-w", WAREHOUSE, "--limit", "1000", "--json")
            assert result.code == 0, result.stderr[-3000:]
            (chain,) = json.loads(result.stdout)["warehouses"]
            events = sorted(
                [(a["planned_at"], a["before"], a["after"], a["adjustment_id"])
                 for a in chain["adjustments"] if a["status"] == "applied"]
                + [(m["observed_at"], m["before"], m["after"], "movement")
                   for m in chain["movements"]]
            )  # fmt: skip
            level = seed.get(sku)
            for _, before, after, what in events:
                assert before == level, (
                    f"{sku}: {what} starts at {before}, level was {level}; chain: {events}"
                )
                level = after
            assert chain["current"] == on_hand.get(sku) == level, (sku, chain["current"], events)


@pytest.mark.slow
class TestReconcileLoopOnSqlite(ReconcileLoop.TestCase):
    settings = profile(postgres=False)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(postgres_url() is None, reason="INVENTORY_SYNC_TEST_POSTGRES_URL is not set")
class TestReconcileLoopOnPostgres(ReconcileLoop.TestCase):
    settings = profile(postgres=True)

    def setUp(self) -> None:
        ReconcileLoop.postgres = postgres_url()

    def tearDown(self) -> None:
        ReconcileLoop.postgres = None
