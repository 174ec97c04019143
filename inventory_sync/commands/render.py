"""Readable output for people: tables of what changed, what was held, what was rejected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from inventory_sync import logs
from inventory_sync.commands.common import emit_json
from inventory_sync.domain.model import AdjustmentStatus, holding
from inventory_sync.report import RunReport
from inventory_sync.report_accounts import AccountsReport

_STYLE = {
    AdjustmentStatus.APPLIED: "green",
    AdjustmentStatus.PLANNED: "cyan",
    AdjustmentStatus.FAILED: "red",
    AdjustmentStatus.UNCERTAIN: "yellow",
    AdjustmentStatus.NEEDS_REVIEW: "yellow",
    AdjustmentStatus.SKIPPED: "dim",
}
_ROWS_SHOWN = 200


def add_whole_column(table: Table, header: str, values: Iterable[str]) -> None:
    """A column kept whole at any width: a run id or SKU cut to "run-2026…" cannot be copied,
    so the other columns wrap instead."""
    widest = max((len(v) for v in (header, *values)), default=0)
    table.add_column(header, no_wrap=True, min_width=widest)


def whole_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, title: str | None = None
) -> Table:
    """A table whose every column is kept whole (see add_whole_column)."""
    table = Table(title=title, title_justify="left")
    for n, header in enumerate(headers):
        add_whole_column(table, header, [row[n] for row in rows])
    for row in rows:
        table.add_row(*row)
    return table


def print_whole(table: Table, console: Console) -> None:
    """Print ``table`` no narrower than its whole columns need, past the console's width if
    it must (a terminal wraps the line; a pipe does not care): cropping would cut the ids."""
    # Each column: its minimum and a space either side; then one rule between and around.
    needed = sum((c.min_width or 1) + 2 for c in table.columns) + len(table.columns) + 1
    width = console.width
    console.width = max(width, needed)
    try:
        console.print(table)
    finally:
        console.width = width


def _fmt(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def adjustments_table(report: RunReport, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("warehouse", "sku", "type", "qty", "before", "after", "status"):
        table.add_column(
            column, justify="right" if column in {"qty", "before", "after"} else "left"
        )
    ordered = sorted(report.entries, key=lambda e: (e.adjustment.warehouse, e.adjustment.sku))
    for entry in ordered[:_ROWS_SHOWN]:
        a = entry.adjustment
        style = _STYLE.get(entry.status, "")
        table.add_row(
            a.warehouse,
            a.sku,
            a.transaction_type.value,
            _fmt(a.quantity),
            _fmt(a.before),
            _fmt(a.after),
            f"[{style}]{entry.status.value}[/]",
        )
    if len(report.entries) > _ROWS_SHOWN:
        table.caption = f"{len(report.entries) - _ROWS_SHOWN:,} more not shown (use --json)"
    return table


def print_report(report: RunReport, console: Console, *, title: str | None = None) -> None:
    """The run summary: changes, holds, rejected rows, then one line of counts."""
    verb = "Plan" if report.dry_run else "Changes"
    if report.entries:
        console.print(adjustments_table(report, title or f"{verb} ({report.run_id})"))
    elif holding(report.holds):
        # A held source or warehouse was not compared at all: "matches" would be untrue.
        console.print(f"[yellow]Nothing pushed[/] — held, see below ({report.run_id}).")
    elif report.holds:
        console.print(f"Nothing pushed — no new data, see below ({report.run_id}).")
    else:
        console.print(
            f"[green]Nothing to change[/] — ShipStation matches the sources ({report.run_id})."
        )
    for hold in report.holds:
        kind, _, name = hold.subject.partition(":")
        if hold.waiting:
            console.print(
                f"[cyan]waiting[/] {escape(name)}: {escape(hold.reason)}; its warehouses were"
                " not reconciled from it"
            )
        elif kind == "source":
            console.print(
                f"[red]held[/] source {name}: {hold.reason} — nothing of it was used, so its "
                "warehouses were not reconciled from it"
            )
        else:
            console.print(f"[red]held[/] {hold.subject}: {hold.reason}")
    for source, waiting in report.files_waiting.items():
        console.print(
            f"[yellow]{waiting:,} more file(s) wait[/] in the inbox of source {source}: "
            "a change feed applies one file per run"
        )
    _print_rejected(report, console)
    counts = report.counts()
    summary = ", ".join(
        f"{name} {value:,}" for name, value in counts.items() if value or name == "unchanged"
    )
    console.print(f"[bold]{report.status.value}[/]: {summary}")


def print_accounts(summary: AccountsReport, console: Console) -> None:
    """Each account's report under its name, then one line per account saying how it ended."""
    if len(summary.outcomes) == 1 and summary.reports:
        print_report(summary.reports[0], console)
        return
    for outcome in summary.outcomes:
        console.rule(f"account {outcome.account}", align="left")
        if outcome.report is not None:
            verb = "plan" if outcome.report.dry_run else "changes"
            title = f"{outcome.account}: {verb} ({outcome.report.run_id})"
            print_report(outcome.report, console, title=title)
    console.rule("accounts", align="left")
    for outcome in summary.outcomes:
        code = outcome.exit_code
        if outcome.error is not None:
            error = escape(logs.scrubber.scrub(f"{type(outcome.error).__name__}: {outcome.error}"))
            console.print(f"[red]{outcome.account}: failed[/] (exit {code}) — {error}")
        elif outcome.report is not None:
            console.print(f"{outcome.account}: {outcome.report.status.value} (exit {code})")
    failed = ", ".join(summary.failed_accounts) or "none"
    console.print(f"[bold]{summary.status.value}[/]: accounts failed: {failed}")


def show_report(report: RunReport, *, as_json: bool) -> None:
    """The report on stdout (one JSON object, or tables), then the exit code it maps to."""
    if as_json:
        emit_json(report.to_json())
    else:
        print_report(report, Console())
    if code := report.exit_code:
        raise SystemExit(code)


def show_accounts(summary: AccountsReport, *, as_json: bool) -> None:
    """A run of one or several accounts on stdout, then the exit code of the most serious."""
    if as_json:
        emit_json(summary.to_json())
    else:
        print_accounts(summary, Console())
    if code := summary.exit_code:
        raise SystemExit(code)


def _print_rejected(report: RunReport, console: Console) -> None:
    if not report.rejected:
        return
    console.print(f"[yellow]{len(report.rejected):,} row(s) quarantined[/] (good rows were used):")
    for rejected in report.rejected[:20]:
        console.print(f"  {escape(str(rejected))}")  # a value like "[red]" is not markup
    if len(report.rejected) > 20:  # noqa: PLR2004
        console.print(f"  … {len(report.rejected) - 20:,} more in the ledger")
