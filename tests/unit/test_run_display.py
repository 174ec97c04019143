"""The terminal's lines for reads: named by account when there are several, never markup."""

from __future__ import annotations

import io
import re

from rich.console import Console

from inventory_sync.commands.display import run_display
from inventory_sync.domain.inventory import PagesRead
from inventory_sync.domain.model import SourceName, Warehouse

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def drawn(out: io.StringIO) -> str:
    return _ANSI.sub("", out.getvalue())


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120), out


class TestRunDisplay:
    def test_with_several_accounts_a_warehouse_read_is_named_by_its_account(self):
        console, out = terminal()
        with run_display(console, {"acme-east": "acme"}) as display:
            display.levels_paged(Warehouse("acme-east"), PagesRead(2, 1000, 7, 3300))
            display.levels_finished(Warehouse("acme-east"))
        assert "acme: reading ShipStation's levels of acme-east, page 2 of 7" in drawn(out)
        assert "1,000/3,300" in drawn(out)

    def test_without_a_total_the_levels_read_are_counted_alone(self):
        console, out = terminal()
        with run_display(console) as display:
            display.levels_paged(Warehouse("main"), PagesRead(3, 1500))
        assert re.search(r"main, page 3 .* 1,500 ", drawn(out))
        assert "page 3 of" not in drawn(out)

    def test_a_source_name_or_place_is_shown_as_written_not_as_markup(self):
        console, out = terminal()
        with run_display(console) as display:
            display.source_started(SourceName("feed[red]"), "/srv/[bold]/stock.csv")
            display.source_finished(SourceName("feed[red]"))
        assert "reading source feed[red] from /srv/[bold]/stock.csv" in drawn(out)

    def test_off_a_terminal_nothing_is_drawn(self):
        out = io.StringIO()
        with run_display(Console(file=out, force_terminal=False)) as display:
            display.source_started(SourceName("feed"), None)
            display.levels_paged(Warehouse("main"), PagesRead(1, 3, 4, 10))
            display.levels_finished(Warehouse("main"))
            display.source_finished(SourceName("feed"))
        assert out.getvalue() == ""
