"""A reconcile over several accounts: sources pulled once, then one run per account.

Each account's run has its own client (request budget, 429 pause, keys), so an account that is
throttled, refused (401) or without the Inventory add-on (402) stops only its own run; the
others go on and the report says which account failed and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import replace

import structlog

from inventory_sync import logs
from inventory_sync.app import App
from inventory_sync.domain.model import (
    AccountName,
    Adjustment,
    Hold,
    RunRecord,
    RunStatus,
    SnapshotUse,
    holding,
)
from inventory_sync.errors import MappingError, ShipStationError, StopRequested
from inventory_sync.ports import Watch
from inventory_sync.report import RunReport
from inventory_sync.report_accounts import AccountOutcome, AccountsReport
from inventory_sync.service.actions import apply_plan
from inventory_sync.service.frame import busy_run
from inventory_sync.service.run import RunOptions, reconcile
from inventory_sync.steps.account_lease import LEASE_HOLDER_KEY, Claim, claim_account
from inventory_sync.steps.gather import Gathered, gather
from inventory_sync.steps.leases import push_lease_name
from inventory_sync.steps.runs import Progress, new_run_id

log = structlog.get_logger(__name__)
ProgressFor = Callable[[App], Progress | None]


def reconcile_accounts(
    app: App,
    options: RunOptions,
    *,
    accounts: frozenset[str] = frozenset(),
    progress_for: ProgressFor | None = None,
    watch: Watch | None = None,
) -> AccountsReport:
    """Reconcile every chosen account (all, or ``accounts``), each on its own, at once.

    ``progress_for`` gives each account's push its progress callback; ``watch`` hears the
    reads (sources, then each account's levels, on the accounts' threads).

    A run that pushes first takes each account's lease where replicas share the ledger; an
    account whose lease another process holds is left alone (nothing pulled, read or sent)
    and its run recorded ``busy``. A dry run sends nothing and takes no lease."""
    chosen = chosen_accounts(app, options.warehouses, accounts)
    named = len(app.account_apps()) > 1  # several configured, whether or not all run
    with claimed(chosen, pushing=not options.dry_run) as claims:
        free = [a for a in chosen if not claims[a.account].busy]
        # One source may feed several accounts: pull it once, not once per account. Only the
        # free accounts' sources: a feed pulled is a feed committed (a file archived, say).
        wanted = {s.name for account in free for s in account.sources}
        sources = tuple(s for s in app.sources if s.name in wanted)
        several = len(free) > 1
        gathered = _gather_once(replace(app, sources=sources), options, watch) if several else None

        def work(account: App) -> AccountOutcome:
            claim = claims[account.account]
            trigger = _trigger(options.trigger, account, named=named)
            if claim.busy:
                return AccountOutcome(account.account, report=busy_account(account, trigger, claim))
            mine = None if gathered is None else narrowed(gathered, account)
            tick = progress_for(account) if progress_for else None
            fenced = replace(options, trigger=trigger, fence=claim.fence)
            return _run_account(account, fenced, tick, mine, watch)

        return AccountsReport(tuple(each_account(chosen, work)), dry_run=options.dry_run)


def apply_by_account(
    app: App,
    adjustments: Sequence[Adjustment],
    uses: Sequence[SnapshotUse] = (),
    *,
    progress_for: ProgressFor | None = None,
    watch: Watch | None = None,
) -> AccountsReport:
    """Apply a reviewed plan, each account's rows (and the change files its warehouses'
    plans were made from, ``uses``) through that account's App."""
    rows: dict[AccountName, list[Adjustment]] = {}
    for adjustment in adjustments:
        rows.setdefault(app.account_of(adjustment.warehouse), []).append(adjustment)
    counts: dict[AccountName, list[SnapshotUse]] = {}
    for use in uses:
        counts.setdefault(app.account_of(use.warehouse), []).append(use)

    chosen = [a for a in app.account_apps() if a.account in rows or a.account in counts]
    with claimed(chosen, pushing=True) as claims:

        def work(account: App) -> AccountOutcome:
            claim = claims[account.account]
            if claim.busy:
                return AccountOutcome(account.account, report=busy_account(account, "apply", claim))
            tick = progress_for(account) if progress_for else None
            mine, counted = rows.get(account.account, []), counts.get(account.account, [])
            return _stopping_account(
                account,
                lambda: apply_plan(
                    account, mine, counted, progress=tick, fence=claim.fence, watch=watch
                ),
            )

        return AccountsReport(tuple(each_account(chosen, work)))


@contextmanager
def claimed(accounts: Sequence[App], *, pushing: bool) -> Iterator[dict[AccountName, Claim]]:
    """Each account's lease for the block when the run pushes (see steps/account_lease.py)."""
    with ExitStack() as stack:
        claims = {}
        for account in accounts:
            with bound_account(account):
                claims[account.account] = (
                    stack.enter_context(claim_account(account))
                    if pushing
                    else Claim(push_lease_name(account.account))
                )
        yield claims


def busy_account(app: App, trigger: str, claim: Claim) -> RunReport:
    """The run of an account another process pushes to: recorded busy, naming the holder."""
    reason = (
        f"another inventory-sync process holds the account's lease {claim.lease} "
        "(a service replica pushes to this account); nothing was pulled, read or sent"
    )
    holder = claim.holder or "(let go since)"
    hold = Hold(f"account:{app.account}", reason, {"holder": holder, "lease": claim.lease})
    return busy_run(app, trigger, hold, {LEASE_HOLDER_KEY: holder})


def each_account(
    accounts: Sequence[App], work: Callable[[App], AccountOutcome]
) -> list[AccountOutcome]:
    """Do each account's work on a thread of its own, in configuration order.

    Each account has its own budget, so pushing them together takes as long as the slowest,
    not the sum. What is not about one account (the ledger, a stop) is raised after all end.
    """
    if not accounts:  # a reviewed plan with no rows concerns no account
        return []
    if len(accounts) == 1:
        with bound_account(accounts[0]):
            return [work(accounts[0])]

    def bound(account: App) -> AccountOutcome:
        with bound_account(account):  # a new thread starts with an empty log context
            return work(account)

    with ThreadPoolExecutor(len(accounts), thread_name_prefix="account") as pool:
        futures = [pool.submit(bound, account) for account in accounts]
    return [future.result() for future in futures]


def chosen_accounts(
    app: App, warehouses: frozenset[str], accounts: frozenset[str] = frozenset()
) -> list[App]:
    """The accounts a run covers: those named (all when none), with a named warehouse if any."""
    for name in accounts:
        app.for_account(name)  # an unknown name is a usage error, not an empty run
    for name in warehouses:
        app.account_of(name)
    return [
        a
        for a in app.account_apps()
        if (not accounts or a.account in accounts)
        and (not warehouses or warehouses & set(a.targets.names))
    ]


@contextmanager
def bound_account(app: App) -> Iterator[None]:
    """Every event logged while working on an account carries ``account``."""
    with structlog.contextvars.bound_contextvars(account=app.account):
        yield


def _trigger(trigger: str, app: App, *, named: bool) -> str:
    # With several accounts, each run's trigger names its account, so `status` can tell whose
    # warehouses a run without adjustments covered.
    return f"{trigger}@{app.account}" if named else trigger


def _run_account(
    app: App,
    options: RunOptions,
    progress: Progress | None,
    gathered: Gathered | None,
    watch: Watch | None,
) -> AccountOutcome:
    return _stopping_account(
        app, lambda: reconcile(app, options, progress=progress, gathered=gathered, watch=watch)
    )


def _stopping_account(app: App, work: Callable[[], RunReport]) -> AccountOutcome:
    """Do one account's work; what ShipStation says about the account stops only it."""
    try:
        report = work()
    except StopRequested:
        raise
    except (ShipStationError, MappingError) as exc:
        return account_failed(app, exc)
    return AccountOutcome(app.account, report=report)


def account_failed(app: App, exc: ShipStationError | MappingError) -> AccountOutcome:
    """Log ``account.failed`` (with ``account`` bound by the caller) and say so."""
    status_code = exc.status_code if isinstance(exc, ShipStationError) else None
    log.error(
        "account.failed",
        error=logs.scrubber.scrub(str(exc)),
        error_type=type(exc).__name__,
        status_code=status_code,
    )
    return AccountOutcome(app.account, error=exc)


def check_accounts(app: App) -> list[AccountOutcome]:
    """Resolve each account's warehouses and ask its ShipStation once (the service's start).

    An account that fails is logged (``account.failed``) and left for its jobs to retry; the
    error is raised only when no account passed, as for a service of one account.
    """
    failed = []
    for account in app.account_apps():
        with bound_account(account):
            try:
                account.targets.resolve()  # a mapping that does not match ShipStation fails
                found = account.inventory.list_warehouses()
            except StopRequested:
                raise
            except (ShipStationError, MappingError) as exc:
                failed.append(account_failed(account, exc))
                continue
            log.info("daemon.health_checked", shipstation_warehouses=len(found))
    if failed and len(failed) == len(app.account_apps()) and failed[0].error is not None:
        raise failed[0].error
    return failed


def _gather_once(app: App, options: RunOptions, watch: Watch | None) -> Gathered:
    """Pull every source in a pull run of its own, as the service's pull jobs do."""
    run_id = new_run_id(app)
    logs.bind_run(run_id)
    trigger = f"pull:{options.trigger}"
    app.ledger.begin_run(RunRecord(run_id, app.clock.now(), trigger, dry_run=options.dry_run))
    gathered = gather(app, run_id, record=not options.dry_run, watch=watch)
    status = RunStatus.HELD if holding(gathered.holds) else RunStatus.SUCCEEDED
    summary = {"rejected_rows": len(gathered.rejected)}
    app.ledger.finish_run(run_id, status=status, summary=summary, at=app.clock.now())
    return gathered


def narrowed(gathered: Gathered, app: App) -> Gathered:
    """What one account's run needs of a pull: its warehouses' snapshots, its sources' holds."""
    names = set(app.targets.names)
    sources = {s.name for s in app.sources}
    mine = Gathered()
    for name in names:
        mine.snapshots[name].extend(gathered.snapshots.get(name, ()))
    mine.holds = [h for h in gathered.holds if h.subject.removeprefix("source:") in sources]
    mine.rejected = [
        r
        for r in gathered.rejected
        if r.warehouse in names or (r.warehouse is None and r.source in sources)
    ]
    return mine
