"""Every condition that makes `status` unhealthy, in one list that code and alert rules share."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from inventory_sync.domain.model import RunStatus


class Unhealthy(StrEnum):
    """What `status` judges; any one present means unhealthy (exit 1). docs/monitoring.md
    lists the same, in the same order."""

    RUN_FAILED = "run_failed"  # a warehouse's last run failed: ShipStation refused, a ledger error
    RUN_HELD = "run_held"  # a warehouse's last run was held: a guard, or a source's sanity gate
    SOURCE_STALE = "source_stale"  # no good data within stale_after_intervals x interval
    ADJUSTMENTS_OVERDUE = "adjustments_overdue"  # unsettled for longer than unsettled_after
    KEY_EXPIRING = "key_expiring"  # an API key expires within KEY_WARNING_DAYS


# How a run's ending maps onto the conditions; any other ending is healthy.
RUN_CONDITIONS = {RunStatus.FAILED: Unhealthy.RUN_FAILED, RunStatus.HELD: Unhealthy.RUN_HELD}


@dataclass(frozen=True, slots=True)
class Problem:
    """One condition found, about one subject (``warehouse:east``, ``source:feed``, ...)."""

    condition: Unhealthy
    subject: str
    message: str

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, str]:
        return {"condition": self.condition.value, "subject": self.subject, "message": self.message}
