"""The service's health as the ledger and the configuration show it: what `status` reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from inventory_sync.config import Settings
from inventory_sync.daemon.health import Problem, Unhealthy
from inventory_sync.daemon.replica_overview import leases_json, replicas_json
from inventory_sync.domain.model import (
    BUSY_KEY,
    HELD_KEY,
    HELD_PREFIX,
    WAREHOUSES_KEY,
    AdjustmentStatus,
    JournalEntry,
    RunRecord,
    RunStatus,
    SourceName,
    shown_summary,
)
from inventory_sync.ports import Leases, Ledger
from inventory_sync.steps.account_lease import LEASE_HOLDER_KEY

RUNS_LOOKED_AT = 500  # pull records interleave with runs; this reaches back far enough
KEY_WARNING_DAYS = 7
_BAD_RUNS = {RunStatus.FAILED: Unhealthy.RUN_FAILED, RunStatus.HELD: Unhealthy.RUN_HELD}


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything `status` shows; ``problems`` empty means healthy."""

    warehouses: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    adjustments: dict[str, Any]
    keys: list[dict[str, Any]]
    problems: list[Problem] = field(default_factory=list)
    replicas: list[dict[str, Any]] = field(default_factory=list)  # empty on SQLite
    leases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "problems": [p.text for p in self.problems],
            "conditions": sorted({p.condition.value for p in self.problems}),
            "warehouses": self.warehouses,
            "sources": self.sources,
            "adjustments": self.adjustments,
            "keys": self.keys,
            "replicas": self.replicas,
            "leases": self.leases,
        }


def overview(
    settings: Settings,
    ledger: Ledger,
    now: datetime,
    leases: Leases | None = None,
    *,
    account: str | None = None,
) -> Overview:
    """Read the ledger (through its ports only) and judge what it shows; ``account`` narrows it
    to that account's warehouses, the sources that feed them, and its keys."""
    problems: list[Problem] = []
    runs = [r for r in ledger.list_runs(RUNS_LOOKED_AT) if not r.dry_run]
    last = last_runs(settings, ledger, runs)
    names = _names(settings, account)
    warehouses = [
        _warehouse_json(name, last.get(name), problems) | {"account": settings.account_of(name)}
        for name in names
    ]
    sources = [
        _source_json(settings, ledger, index, now, problems)
        for index, source in enumerate(settings.sources)
        if account is None or set(source.warehouses) & set(names)
    ]
    recent = [e for n, run in last.items() if n in names for e in ledger.journal(run_id=run.run_id)]
    unsettled = [e for e in ledger.unsettled() if e.adjustment.warehouse in names]
    adjustments = _adjustments_json(unsettled, recent, settings, now, problems)
    adjustments["needs_review"] = _needs_review(ledger, problems, set(names))
    keys = _keys_json(settings, now.date(), problems, account)
    if leases is None:
        return Overview(warehouses, sources, adjustments, keys, problems)
    ttl = timedelta(seconds=settings.daemon.lease_seconds)
    return Overview(
        warehouses,
        sources,
        adjustments,
        keys,
        problems,
        replicas=replicas_json(leases, ttl, now),
        leases=leases_json(leases, now),
    )


def _names(settings: Settings, account: str | None = None) -> list[str]:
    return [
        w.name
        for a in settings.all_accounts()
        if account is None or a.name == account
        for w in a.warehouses
    ]


def last_runs(settings: Settings, ledger: Ledger, runs: list[RunRecord]) -> dict[str, RunRecord]:
    """The latest finished-or-running reconcile per warehouse, newest first in ``runs``.

    Daemon runs name their warehouse in the trigger (``daemon:<name>``); other runs count for
    the warehouses of their adjustments, or for all when they have none (a run of every
    warehouse that found nothing to change)."""
    wanted = set(_names(settings))
    found: dict[str, RunRecord] = {}
    for run in runs:
        # A pull, a drift scan and a release reconcile nothing: a release made while
        # ShipStation is down must not hide the failed run before it.
        if run.trigger.startswith("pull:") or run.trigger in {"drift-scan", "release"}:
            continue
        for name in _run_warehouses(settings, ledger, run, wanted) - found.keys():
            found[name] = run
        if found.keys() >= wanted:
            break
    return found


def _run_warehouses(
    settings: Settings, ledger: Ledger, run: RunRecord, wanted: set[str]
) -> set[str]:
    if run.trigger.startswith("daemon:"):
        return {run.trigger.partition(":")[2]} & wanted
    if LEASE_HOLDER_KEY in run.summary:  # refused the account's lease: it reconciled nothing
        return set()
    skipped = run.summary.get(BUSY_KEY)  # another process pushed to these: not judged here
    wanted = wanted - set(skipped.split(",")) if isinstance(skipped, str) else wanted
    named = run.summary.get(WAREHOUSES_KEY)
    if isinstance(named, str) and named:  # the run says which (-w east, even if it failed)
        return set(named.split(",")) & wanted
    _trigger, at, account = run.trigger.rpartition("@")
    if at:  # a run of one account among several covers only that account's warehouses
        wanted = wanted & set(_names(settings, account))
    touched = {str(e.adjustment.warehouse) for e in ledger.journal(run_id=run.run_id)}
    return (touched or wanted) & wanted


def _warehouse_json(name: str, run: RunRecord | None, problems: list[Problem]) -> dict[str, Any]:
    if run is None:
        return {"warehouse": name, "last_run": None}
    if run.status in _BAD_RUNS and not _reconciled_in_held_run(name, run):
        # why a refused run failed, or why a held one held this warehouse, kept by the run frame
        error = run.summary.get("error") or run.summary.get(HELD_PREFIX + name)
        why = f": {error}" if error else ""
        text = f"warehouse {name}: last run {run.run_id} {run.status.value}{why}"
        problems.append(Problem(_BAD_RUNS[run.status], text))
    return {
        "warehouse": name,
        "last_run": {
            "run_id": run.run_id,
            "status": run.status.value,
            "trigger": run.trigger,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            **shown_summary(run.summary),
        },
    }


def _reconciled_in_held_run(name: str, run: RunRecord) -> bool:
    """True when a held run says which warehouses it held and this one is not among them: the
    run reconciled it in full (another warehouse's source or guard held the run)."""
    held = run.summary.get(HELD_KEY)
    if run.status is not RunStatus.HELD or not isinstance(held, str):
        return False  # a run recorded before held_warehouses was kept: judged as a whole
    return name not in held.split(",")


def _source_json(
    settings: Settings, ledger: Ledger, index: int, now: datetime, problems: list[Problem]
) -> dict[str, Any]:
    source = settings.sources[index]
    limit = source.interval * settings.daemon.stale_after_intervals
    good = ledger.last_good_snapshot(SourceName(source.name))
    age = None if good is None else now - good.taken_at
    stale = age is None or age > limit
    if stale:
        since = "never" if age is None else f"{age.total_seconds():.0f} s ago"
        text = f"source {source.name}: stale (last good data {since})"
        problems.append(Problem(Unhealthy.SOURCE_STALE, text))
    return {
        "source": source.name,
        "interval_seconds": source.interval.total_seconds(),
        "stale_after_seconds": limit.total_seconds(),
        "stale": stale,
        "last_good": None
        if good is None
        else {
            "snapshot_id": good.snapshot_id,
            "taken_at": good.taken_at.isoformat(),
            "age_seconds": round(age.total_seconds(), 3) if age is not None else None,
            "rows": good.rows,
        },
    }


def _adjustments_json(
    unsettled: list[JournalEntry],
    recent: list[JournalEntry],
    settings: Settings,
    now: datetime,
    problems: list[Problem],
) -> dict[str, Any]:
    bound = settings.daemon.unsettled_after
    overdue = [e for e in unsettled if now - e.planned_at > bound]
    if overdue:
        text = f"{len(overdue)} adjustment(s) unsettled for more than {bound.total_seconds():.0f} s"
        problems.append(Problem(Unhealthy.ADJUSTMENTS_UNSETTLED, text))
    return {
        "pending": _count(unsettled, AdjustmentStatus.PLANNED, AdjustmentStatus.SENT),
        "uncertain": _count(unsettled, AdjustmentStatus.UNCERTAIN),
        "overdue": len(overdue),
        "oldest_unsettled_at": _oldest(unsettled),
        "failed_in_last_runs": _count(recent, AdjustmentStatus.FAILED),
        "needs_review_in_last_runs": _count(recent, AdjustmentStatus.NEEDS_REVIEW),
    }


def _needs_review(ledger: Ledger, problems: list[Problem], names: set[str]) -> int:
    # Unlike the counts of the last runs, this stays until a person resolves each one.
    entries = ledger.journal(status=AdjustmentStatus.NEEDS_REVIEW)
    waiting = sum(1 for e in entries if e.adjustment.warehouse in names)
    if waiting:
        text = f"{waiting} adjustment(s) need review (inventory-sync resolve)"
        problems.append(Problem(Unhealthy.ADJUSTMENTS_NEED_REVIEW, text))
    return waiting


def _oldest(entries: list[JournalEntry]) -> str | None:
    oldest = min((e.planned_at for e in entries), default=None)
    return None if oldest is None else oldest.isoformat()


def _count(entries: list[JournalEntry], *statuses: AdjustmentStatus) -> int:
    return sum(1 for e in entries if e.status in statuses)


def _keys_json(
    settings: Settings, today: date, problems: list[Problem], account: str | None
) -> list[dict[str, Any]]:
    found = []
    several = len(settings.all_accounts()) > 1
    for ss in settings.all_accounts():
        if account is not None and ss.name != account:
            continue
        for label, expires in (
            ("primary", ss.api_key_expires),
            ("secondary", ss.secondary_api_key_expires),
        ):
            if expires is None:
                continue
            left = (expires - today).days
            named = f"{ss.name} {label}" if several else label
            if left <= KEY_WARNING_DAYS:
                text = f"API key {named}: expires {expires.isoformat()} ({left} day(s))"
                problems.append(Problem(Unhealthy.KEY_EXPIRING, text))
            found.append(
                {
                    "key": label,
                    "account": ss.name,
                    "expires_on": expires.isoformat(),
                    "days_left": left,
                }
            )
    return found
