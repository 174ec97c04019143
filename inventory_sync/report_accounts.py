"""What a run over several accounts tells its caller: each account's report, or why it stopped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from inventory_sync import exits, logs
from inventory_sync.domain.model import AccountName, RunId, RunStatus
from inventory_sync.errors import InventorySyncError, ShipStationError
from inventory_sync.report import RunReport, entry_json, holds_json, rejected_json, waiting_json

NO_RUN = RunReport(RunId("none"), RunStatus.SUCCEEDED, dry_run=False, entries=(), unchanged=0)


@dataclass(frozen=True, slots=True)
class AccountOutcome:
    """One account's part of a run: its report, or the error that stopped its work."""

    account: AccountName
    report: RunReport | None = None
    error: InventorySyncError | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return exits.for_error(self.error)
        return self.report.exit_code if self.report is not None else exits.OK

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"account": self.account, "exit_code": self.exit_code}
        if self.report is not None:
            return found | {
                "run_id": self.report.run_id,
                "status": self.report.status.value,
                "error": None,
                **self.report.counts(),
            }
        error = self.error
        status_code = error.status_code if isinstance(error, ShipStationError) else None
        return found | {
            "run_id": None,
            "status": RunStatus.FAILED.value,
            "error": logs.scrubber.scrub(str(error)),
            "error_type": type(error).__name__,
            "status_code": status_code,
        }


@dataclass(frozen=True, slots=True)
class AccountsReport:
    """A reconcile of several accounts; one account's failure stops only that account."""

    outcomes: tuple[AccountOutcome, ...]
    dry_run: bool = False

    @property
    def reports(self) -> list[RunReport]:
        return [o.report for o in self.outcomes if o.report is not None]

    @property
    def failed_accounts(self) -> list[AccountName]:
        return [o.account for o in self.outcomes if o.error is not None]

    @property
    def status(self) -> RunStatus:
        if self.outcomes and len(self.failed_accounts) == len(self.outcomes):
            return RunStatus.FAILED
        statuses = {r.status for r in self.reports}
        if self.failed_accounts or statuses & {RunStatus.PARTIAL, RunStatus.FAILED}:
            return RunStatus.PARTIAL
        return RunStatus.HELD if RunStatus.HELD in statuses else RunStatus.SUCCEEDED

    @property
    def exit_code(self) -> int:
        return exits.most_serious(o.exit_code for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        # Every count, zero with no report (a reviewed plan with no rows), as one run has.
        total: Counter[str] = Counter(dict.fromkeys(NO_RUN.counts(), 0))
        for report in self.reports:
            total.update(report.counts())
        return dict(total)

    def to_json(self) -> dict[str, Any]:
        """One report's JSON as before when one account ran; else the sums, and per account."""
        reports = self.reports
        if len(self.outcomes) == 1 and reports:
            found = reports[0].to_json() | {"account": self.outcomes[0].account}
        else:
            found = self._summed()
        return found | {
            "exit_code": self.exit_code,
            "failed_accounts": self.failed_accounts,
            "accounts": [o.to_json() for o in self.outcomes],
        }

    def _summed(self) -> dict[str, Any]:
        reports = self.reports
        return {
            "run_id": None,
            "run_ids": [r.run_id for r in reports],
            "status": self.status.value,
            "dry_run": self.dry_run,
            **self.counts(),
            "adjustments": [
                entry_json(e) | {"account": o.account}
                for o in self.outcomes
                if o.report is not None
                for e in o.report.entries
            ],
            "holds": holds_json(h for r in reports for h in r.holds),
            "no_new_file": waiting_json(h for r in reports for h in r.holds),
            "rejected": [rejected_json(x) for r in reports for x in r.rejected],
            "settled": [entry_json(e) for r in reports for e in r.settled],
            "files_waiting": {k: v for r in reports for k, v in r.files_waiting.items()},
            "requests": sum(r.requests for r in reports),
            "duration_seconds": round(sum(r.duration_seconds for r in reports), 3),
        }
