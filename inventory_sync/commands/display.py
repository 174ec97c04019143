"""What a terminal shows while a run works: the sources and levels being read, the push's bars,
ShipStation's pauses. Silent when stderr is not a terminal: the log's events say it all."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from inventory_sync.domain.inventory import PagesRead
from inventory_sync.domain.model import SourceName, Warehouse
from inventory_sync.ports import Unwatched

Bar = Callable[[int, int], None]


class _Count(ProgressColumn):
    """Done of total ("6/10", "1,500/3,300"), done alone while the total is unknown, and
    nothing for work that has no count (a source being read)."""

    def render(self, task: Task) -> Text:
        if not task.fields.get("counted", True):
            return Text("")
        done = int(task.completed)
        if task.total is None:
            return Text(f"{done:,}", style="progress.download")
        return Text(f"{done:,}/{int(task.total):,}", style="progress.download")


class _Time(ProgressColumn):
    """Time left where the total is known; time spent so far where it is not."""

    def __init__(self) -> None:
        super().__init__()
        self._left = TimeRemainingColumn()
        self._spent = TimeElapsedColumn()

    def render(self, task: Task) -> Text:
        return self._spent.render(task) if task.total is None else self._left.render(task)


class RunDisplay:
    """A bar per account pushing, a line per source or warehouse being read, ShipStation's
    pauses. Reads end without a trace: the report after the run says what they found."""

    def __init__(
        self, console: Console, progress: Progress, accounts: Mapping[str, str] | None = None
    ) -> None:
        self._console = console
        self._progress = progress
        self._accounts = accounts or {}  # warehouse -> account, to name it with several
        self._tasks: dict[str, tuple[TaskID, str]] = {}
        self._reads: dict[str, TaskID] = {}
        self._lock = threading.Lock()  # each account's levels are read on a thread of its own

    def bar(self, label: str, requests_per_minute: int) -> Bar:
        """A push's progress callback, its estimate from the account's request budget; the bar
        appears at the first call (done 0)."""

        def update(done: int, total: int) -> None:
            if label not in self._tasks:
                minutes = total / requests_per_minute
                about = f"about {minutes:.0f} minutes" if minutes >= 1 else "under a minute"
                text = f"{label}pushing {total:,} requests, {about}"
                self._tasks[label] = (self._progress.add_task(text, total=total), text)
            task, text = self._tasks[label]
            self._progress.update(task, completed=done, description=text)

        return update

    def paused(self, seconds: float) -> None:
        """ShipStation asked every request to wait: say so, on the bars and above them."""
        wait = f"{seconds:.0f}" if seconds >= 1 else f"{seconds:.1f}"
        self._console.print(f"[yellow]ShipStation asked us to wait {wait} s[/] (rate limit)")
        for task, _text in self._tasks.values():
            self._progress.update(task, description=f"waiting {wait} s for ShipStation")

    # -- the reads before a push (the Watch port) ---------------------------------------------

    def source_started(self, source: SourceName, where: str | None) -> None:
        place = f" from {where}" if where else ""
        self._read(f"source:{source}", escape(f"reading source {source}{place}"))

    def source_finished(self, source: SourceName) -> None:
        self._forget(f"source:{source}")

    def levels_paged(self, warehouse: Warehouse, read: PagesRead) -> None:
        of = "" if read.pages_total is None else f" of {read.pages_total:,}"
        account = self._accounts.get(warehouse)
        label = f"{account}: " if account else ""
        text = f"{label}reading ShipStation's levels of {warehouse}, page {read.pages:,}{of}"
        self._read(f"levels:{warehouse}", escape(text), done=read.items, total=read.items_total)

    def levels_finished(self, warehouse: Warehouse) -> None:
        self._forget(f"levels:{warehouse}")

    def _read(
        self, key: str, text: str, *, done: int | None = None, total: int | None = None
    ) -> None:
        """Show a read's line, or bring it up to date. Drawn at once, not at the next tick: a
        page is a request (a few a second at most), so every count is seen, and so is a quick
        source's line."""
        with self._lock:
            task = self._reads.get(key)
            if task is None:
                counted = done is not None
                task = self._progress.add_task(text, total=total, counted=counted)
                self._reads[key] = task
            self._progress.update(task, description=text, completed=done or 0, total=total)
            self._progress.refresh()

    def _forget(self, key: str) -> None:
        with self._lock:
            task = self._reads.pop(key, None)
            if task is not None:
                self._progress.remove_task(task)
                self._progress.refresh()  # a log line printed next must not redraw it


class _Silent(Unwatched):
    """The display when stderr is not a terminal: the log's events (source.pulled,
    levels.progress, push.progress, shipstation.rate_limited) say it all."""

    def bar(self, _label: str, _requests_per_minute: int) -> Bar:
        return lambda _done, _total: None

    def paused(self, seconds: float) -> None:
        pass


@contextmanager
def run_display(
    console: Console, accounts: Mapping[str, str] | None = None
) -> Iterator[RunDisplay | _Silent]:
    """Progress lines and bars, a push's with an estimate from the request budget; silent when
    not a terminal. ``accounts`` (warehouse -> account) names the account of each read."""
    if not console.is_terminal:
        yield _Silent()
        return
    columns = (TextColumn("{task.description}"), BarColumn(), _Count(), _Time())
    with Progress(*columns, console=console, transient=True) as progress:
        yield RunDisplay(console, progress, accounts)
