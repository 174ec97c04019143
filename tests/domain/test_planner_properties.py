"""Properties of the planner that must hold for any input, checked with Hypothesis."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from planner_builders import RUN, levels, snapshot, warehouse_input

from inventory_sync.domain.model import Levels, Plan, QuantityBasis, Sku, TransactionType
from inventory_sync.domain.planner import (
    WarehouseInput,
    agreed_levels,
    next_absent_counts,
    plan_warehouse,
)
from inventory_sync.domain.policy import Mode, Policy

skus = st.sampled_from([f"S{i}" for i in range(8)])
source_rows = st.dictionaries(skus, st.integers(-5, 60))
shipstation_rows = st.dictionaries(skus, st.tuples(st.integers(-3, 60), st.integers(0, 5)))
policies = st.builds(
    Policy,
    tolerance=st.integers(0, 3),
    buffer=st.integers(0, 5),
    cap=st.none() | st.integers(0, 40),
    zero_absent_after=st.none() | st.integers(1, 3),
)
bases = st.sampled_from(QuantityBasis)


def apply(state: Levels, plan: Plan) -> Levels:
    """What ShipStation holds after every adjustment of the plan succeeded."""
    new = dict(state.on_hand)
    for adj in plan.adjustments:
        old = new.get(adj.sku, 0)
        new[adj.sku] = {
            TransactionType.ADJUST: adj.quantity,
            TransactionType.INCREMENT: old + adj.quantity,
            TransactionType.DECREMENT: old - adj.quantity,
        }[adj.transaction_type]
    return Levels(new, state.allocated)


def expected_target(
    value: int, sku: Sku, levels: Levels, policy: Policy, basis: QuantityBasis
) -> int:
    """The on-hand the docs promise, computed independently of the planner."""
    sellable = value - policy.buffer
    if policy.cap is not None:
        sellable = min(sellable, policy.cap)
    sellable = max(sellable, 0)
    has_row = sku in levels
    allocated = levels.allocated_of(sku) if has_row and basis is QuantityBasis.AVAILABLE else 0
    return sellable + allocated


class TestMirrorProperties:
    @given(source_rows, shipstation_rows, policies, bases, st.booleans())
    def test_applying_the_plan_reaches_every_target(self, source, ship, policy, basis, complete):
        """After applying, each listed SKU is within tolerance of its target (exact if changed)."""
        inp = warehouse_input(source, ship, basis=basis, complete=complete)
        after = apply(inp.levels, plan_warehouse(RUN, inp, policy))
        for sku, value in _values(inp).items():
            target = expected_target(value, sku, inp.levels, policy, basis)
            assert abs(after.on_hand.get(sku, 0) - target) <= policy.tolerance

    @given(source_rows, shipstation_rows, policies, bases, st.booleans())
    def test_planning_again_right_after_is_empty(self, source, ship, policy, basis, complete):
        """A plan, once applied, leaves nothing for the same inputs to do."""
        inp = warehouse_input(source, ship, basis=basis, complete=complete)
        applied = replace(inp, levels=apply(inp.levels, plan_warehouse(RUN, inp, policy)))
        assert plan_warehouse(RUN, applied, policy).adjustments == ()

    @given(source_rows, shipstation_rows, policies, st.booleans())
    def test_every_sku_looked_at_is_changed_or_unchanged(self, source, ship, policy, complete):
        """Adjustments plus unchanged count every SKU on either side exactly once."""
        inp = warehouse_input(source, ship, complete=complete)
        result = plan_warehouse(RUN, inp, policy)
        assert len(result.adjustments) + result.unchanged == len(source.keys() | ship.keys())
        assert len({a.sku for a in result.adjustments}) == len(result.adjustments)

    @given(source_rows, st.dictionaries(skus, st.integers(-3, 60)), policies, st.booleans())
    def test_the_on_hand_shortcut_plans_what_the_general_rules_plan(
        self, source, ship, policy, complete
    ):
        """On-hand values take an inlined loop; available values with nothing allocated take
        the general rules to the same targets. Both must give the same plan, ids included."""
        on_hand = warehouse_input(source, ship, complete=complete)
        available = warehouse_input(source, ship, complete=complete, basis=QuantityBasis.AVAILABLE)
        shortcut = plan_warehouse(RUN, on_hand, policy)
        general = plan_warehouse(RUN, available, policy)

        def shape(plan: Plan) -> list[tuple[object, ...]]:
            return sorted(
                (
                    *(a.adjustment_id, a.sku, a.transaction_type, a.quantity, a.before, a.after),
                    *sorted((k, str(v)) for k, v in a.basis.items() if k != "allocated"),
                )
                for a in plan.adjustments
            )

        assert shape(shortcut) == shape(general)
        assert shortcut.unchanged == general.unchanged

    @given(source_rows, shipstation_rows, policies)
    def test_no_adjustment_leaves_stock_below_zero(self, source, ship, policy):
        """Every adjustment's after is zero or more."""
        result = plan_warehouse(RUN, warehouse_input(source, ship), policy)
        assert all(a.after >= 0 for a in result.adjustments)


class TestDeltaProperties:
    @given(
        st.integers(100, 200),
        st.lists(st.tuples(st.integers(0, 10), st.integers(100, 200)), max_size=6),
    )
    def test_sales_recorded_in_shipstation_are_kept(self, first_value, steps):
        """After sales between runs, ShipStation holds the source value less every sale."""
        policy = Policy(mode=Mode.DELTA)
        inp = warehouse_input({"A": first_value}, {}, complete=False)
        inp = _run(inp, policy)  # first sight: adjusts to the source value
        sold = 0
        for sale, value in steps:
            sold += sale
            on_hand = inp.levels.on_hand[Sku("A")] - sale
            inp = replace(
                inp,
                snapshots=(snapshot({"A": value}, complete=False),),
                levels=levels({"A": on_hand}),
            )
            inp = _run(inp, policy)
        final_value = steps[-1][1] if steps else first_value
        assert inp.levels.on_hand[Sku("A")] == final_value - sold

    @given(source_rows, shipstation_rows, st.dictionaries(skus, st.integers(0, 60)), policies)
    def test_planning_again_after_applying_and_agreeing_is_empty(
        self, source, ship, agreed, policy
    ):
        """Once a delta plan is applied and the agreed levels advanced, nothing is left to do."""
        inp = warehouse_input(source, ship, agreed=agreed, complete=False)
        delta = replace(policy, mode=Mode.DELTA)
        assert plan_warehouse(RUN, _run(inp, delta), delta).adjustments == ()

    @given(st.integers(0, 50), st.integers(-60, 60), st.integers(0, 50))
    def test_a_decrement_never_takes_stock_below_zero(self, on_hand, change, agreed):
        """Whatever the change, delta leaves a non-negative level non-negative."""
        inp = warehouse_input({"A": agreed + change}, {"A": on_hand}, agreed={"A": agreed})
        after = apply(inp.levels, plan_warehouse(RUN, inp, Policy(mode=Mode.DELTA)))
        assert after.on_hand[Sku("A")] >= 0


class TestAbsentProperties:
    @given(st.integers(1, 4), st.lists(st.sampled_from(["listed", "missing", "partial"])))
    def test_absent_skus_are_never_zeroed_before_n_complete_snapshots(self, n, runs):
        """B is zeroed exactly when a complete snapshot makes n in a row that missed it."""
        policy = Policy(zero_absent_after=n)
        counts: dict[Sku, int] = {}
        streak = 0
        for kind in runs:
            source = {"A": 1, "B": 5} if kind == "listed" else {"A": 1}
            inp = warehouse_input(source, {"A": 1, "B": 5}, complete=kind != "partial")
            inp = replace(inp, absent_counts=counts)
            streak = {"listed": 0, "missing": streak + 1, "partial": streak}[kind]
            zeroed = [a.sku for a in plan_warehouse(RUN, inp, policy).adjustments]
            # Only a complete snapshot can zero: a partial one says nothing about B.
            assert zeroed == (["B"] if kind == "missing" and streak >= n else [])
            counts = next_absent_counts(inp)


def _values(inp: WarehouseInput) -> dict[Sku, int]:
    return {o.sku: o.quantity for o in inp.snapshots[0].observations}


def _run(inp: WarehouseInput, policy: Policy) -> WarehouseInput:
    """Plan, apply, and advance the ledger as the service would."""
    applied = apply(inp.levels, plan_warehouse(RUN, inp, policy))
    return replace(inp, levels=applied, agreed=agreed_levels(inp, policy))
