"""Specification of the policy and guard-limit value types."""

from __future__ import annotations

import pytest

from inventory_sync.domain.policy import GuardLimits, Mode, Policy, Precedence


class TestPolicy:
    def test_the_default_mirrors_with_first_precedence_and_zeroes_after_two(self):
        """Policy() is the documented default."""
        assert Policy() == Policy(
            mode=Mode.MIRROR,
            precedence=Precedence.FIRST,
            tolerance=0,
            buffer=0,
            cap=None,
            zero_absent_after=2,
        )

    @pytest.mark.parametrize("field", ["tolerance", "buffer", "cap", "zero_absent_after"], ids=str)
    def test_a_value_below_its_floor_is_refused(self, field):
        """Negative tolerance, buffer or cap, or zeroing after fewer than one miss, is refused."""
        with pytest.raises(ValueError, match=field):
            Policy(**{field: -1})

    def test_modes_and_precedences_read_from_config_strings(self):
        """The enums take the strings a config file uses."""
        assert (Mode("delta"), Precedence("sum")) == (Mode.DELTA, Precedence.SUM)


class TestGuardLimits:
    def test_the_defaults_hold_at_half_the_skus_or_units_or_fifty_zeroed(self):
        """GuardLimits() is the documented default, share rules from ten SKUs up."""
        assert GuardLimits() == GuardLimits(0.5, 0.5, 50, 10)

    @pytest.mark.parametrize(
        "field", ["max_changed_share", "max_units_share", "max_zeroed", "min_skus_for_share"]
    )
    def test_a_negative_limit_is_refused(self, field):
        """A negative limit could never be met, so it is refused."""
        with pytest.raises(ValueError, match=field):
            GuardLimits(**{field: -1})
