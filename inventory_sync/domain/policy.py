"""How a warehouse is reconciled (policy) and how much one run may change it (guard limits)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    """How a source's number becomes ShipStation's number."""

    MIRROR = "mirror"  # ShipStation's on-hand becomes the source's value
    DELTA = "delta"  # ShipStation moves by the source's change since the last agreed level


class Precedence(StrEnum):
    """How several sources for one warehouse combine, per SKU."""

    FIRST = "first"  # the first snapshot (in configured order) that lists the SKU wins
    SUM = "sum"  # values add up across snapshots


@dataclass(frozen=True, slots=True)
class Policy:
    """What one warehouse's ShipStation levels should be, given its sources."""

    mode: Mode = Mode.MIRROR
    precedence: Precedence = Precedence.FIRST
    tolerance: int = 0  # |target - current| <= tolerance: leave alone
    buffer: int = 0  # publish target - buffer (never below zero)
    cap: int | None = None  # publish at most this
    zero_absent_after: int | None = 2  # None: never zero a SKU the sources stopped listing

    def __post_init__(self) -> None:
        # Config validates at the edge too; this keeps a hand-built Policy from planning nonsense.
        _require_at_least("tolerance", self.tolerance, 0)
        _require_at_least("buffer", self.buffer, 0)
        _require_at_least("cap", self.cap, 0)
        _require_at_least("zero_absent_after", self.zero_absent_after, 1)


@dataclass(frozen=True, slots=True)
class GuardLimits:
    """How much one run may change one warehouse before the run is held for a person."""

    max_changed_share: float | None = 0.5  # share of the warehouse's SKUs changed
    max_units_share: float | None = 0.5  # share of the warehouse's units moved
    max_zeroed: int | None = 50  # SKUs set to zero in one run
    # Below this many SKUs a share is too coarse to mean anything (1 change of 3 is 33%),
    # so the share rules do not hold such a warehouse; max_zeroed still does.
    min_skus_for_share: int = 10

    def __post_init__(self) -> None:
        _require_at_least("max_changed_share", self.max_changed_share, 0)
        _require_at_least("max_units_share", self.max_units_share, 0)
        _require_at_least("max_zeroed", self.max_zeroed, 0)
        _require_at_least("min_skus_for_share", self.min_skus_for_share, 0)


def _require_at_least(name: str, value: float | None, floor: int) -> None:
    if value is not None and value < floor:
        raise ValueError(f"{name} must be at least {floor}, got {value!r}")
