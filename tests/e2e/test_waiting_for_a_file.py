"""One-shot runs between two uploads: an archiving inbox that was read before and is empty now
waits for its next file (exit 0) and is still not planned from; first contact, and data past
max_age, still hold (exit 3); `status` turns unhealthy once the source is stale.

Budget: about 45 s (short commands against the emulator).
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from e2e_support import FEED, World, make_world

from inventory_sync.shipstation.models import InventoryUpdate


def now() -> datetime:
    """The time a test writes its files at: read when it runs, never at collection."""
    return datetime.now(UTC)


def put(path: Path, text: str, mtime: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))


def csv(levels: dict[str, int]) -> str:
    return "sku,quantity\n" + "".join(f"{sku},{q}\n" for sku, q in levels.items())


def source_toml(name: str, tmp: Path, *, interval: str = "15m", gates: str = "") -> str:
    return f"""
[[sources]]
name = "{name}"
type = "csv"
warehouses = ["main"]
interval = "{interval}"
[sources.gates]
{gates}
[sources.options]
path = "{tmp / f"{name}-in"}/*.csv"
archive_dir = "{tmp / f"{name}-done"}"
stable_seconds = 0
"""


def archiving_world(tmp: Path, *sources: str, reconcile: str = "") -> World:
    """The e2e world with the given [[sources]] (each inbox <name>-in, archived to <name>-done);
    the guards are open wide so that a wrong plan would be sent, not stopped by them."""
    world = make_world(tmp, f"sqlite:///{tmp / 'state' / 'ledger.db'}")
    config = tmp / "waiting.toml"
    config.write_text(
        f"""
state_dir = "{tmp / "state"}"

[shipstation]
base_url = "{world.emulator.base_url}"

[reconcile]
max_changed_share = 1.0
max_units_share = 100.0
max_zeroed = 100
{reconcile}

[[warehouses]]
name = "main"
inventory_warehouse_id = "se-1"
inventory_location_id = "se-11"
{"".join(sources)}
""",
        encoding="utf-8",
    )
    return dataclasses.replace(world, config=config)


@pytest.fixture
def worlds(tmp_path: Path):
    made: list[World] = []

    def make(*sources: str, reconcile: str = "") -> World:
        made.append(archiving_world(tmp_path, *sources, reconcile=reconcile))
        return made[-1]

    yield make
    for world in made:
        world.emulator.stop()


def sent(world: World) -> int:
    return len(world.emulator.state.applied())


def events(result, name: str) -> list[dict]:
    return [e for e in result.log_events() if e["event"] == name]


def words(text: str) -> str:
    return " ".join(text.split())


class TestOneSource:
    def test_between_uploads_the_run_waits_exits_0_and_sends_nothing(self, worlds, tmp_path):
        world = worlds(source_toml("east", tmp_path))
        taken = (now() - timedelta(minutes=5)).replace(microsecond=0)
        put(tmp_path / "east-in" / "stock-1.csv", FEED, taken)
        first = world.run("reconcile", "--json")
        assert first.code == 0, first.stderr
        assert first.json()["applied"] == 2
        assert list((tmp_path / "east-in").iterdir()) == []  # archived
        before = sent(world)
        # A sale in ShipStation meanwhile: a run that planned from anything would undo it.
        world.emulator.state.apply_update(_sale("RED", 3))

        again = world.run("reconcile", "--json")
        assert again.code == 0, again.stderr
        summary = again.json()
        assert summary["status"] == "succeeded"
        assert summary["holds"] == []
        (waiting,) = summary["no_new_file"]
        assert waiting["source"] == "east"
        assert datetime.fromisoformat(waiting["since"]) == taken
        assert waiting["archive_dir"] == str(tmp_path / "east-done")
        assert (summary["planned"], summary["requests"]) == (0, 0)
        assert sent(world) == before
        assert world.on_hand()["RED"] == 9
        (logged,) = events(again, "source.no_new_file")
        assert logged["source"] == "east"
        assert datetime.fromisoformat(logged["since"]) == taken
        assert events(again, "source.unavailable") == []

        console = world.run("reconcile")
        assert console.code == 0, console.stderr
        said = words(console.stdout)
        assert (
            f"waiting east: no new file since {taken:%Y-%m-%d %H:%M} UTC (the last one was moved"
            f" to {tmp_path / 'east-done'}); its warehouses were not reconciled from it"
        ) in said
        assert "Nothing to change" not in said  # not compared, so not "matching"
        runs = world.run("history", "--json").json()["runs"]
        assert runs[0]["status"] == "succeeded"

        put(tmp_path / "east-in" / "stock-2.csv", FEED, now())
        arrived = world.run("reconcile", "--json")
        assert arrived.code == 0, arrived.stderr
        assert arrived.json()["no_new_file"] == []
        assert world.on_hand()["RED"] == 12  # the new file is reconciled, the sale undone

    def test_an_empty_inbox_that_was_never_read_holds_the_source(self, worlds, tmp_path):
        world = worlds(source_toml("east", tmp_path))
        (tmp_path / "east-in").mkdir()
        result = world.run("reconcile", "--json")
        assert result.code == 3, result.stderr
        summary = result.json()
        assert summary["no_new_file"] == []
        (hold,) = summary["holds"]
        assert hold["subject"] == "source:east"
        assert hold["reason"].startswith("unavailable: no file matches")
        assert events(result, "source.unavailable")
        assert events(result, "source.no_new_file") == []

    def test_past_max_age_without_a_new_file_the_source_is_held(self, worlds, tmp_path):
        world = worlds(source_toml("east", tmp_path, gates='max_age = "3h"'))
        put(tmp_path / "east-in" / "stock-1.csv", FEED, now() - timedelta(hours=2, minutes=30))
        first = world.run("reconcile")
        assert first.code == 0, first.stderr  # within max_age when read
        # The same file, a tighter rule: the last file (2h30m old) is now past it. No clock race.
        config = world.config.read_text(encoding="utf-8")
        world.config.write_text(config.replace('max_age = "3h"', 'max_age = "2h"'), "utf-8")
        result = world.run("reconcile", "--json")
        assert result.code == 3, result.stderr
        summary = result.json()
        assert summary["no_new_file"] == []
        (hold,) = summary["holds"]
        assert hold["subject"] == "source:east"
        assert re.match(r"no new file for 2h3\dm", hold["reason"]), hold["reason"]
        assert ", longer than max_age 2h (the last one was moved to " in hold["reason"]


class TestStatus:
    def test_between_uploads_status_stays_healthy(self, worlds, tmp_path):
        world = worlds(source_toml("east", tmp_path))
        put(tmp_path / "east-in" / "stock-1.csv", FEED, now() - timedelta(minutes=1))
        assert world.run("reconcile").code == 0
        assert world.run("reconcile").code == 0  # waiting
        status = world.run("status", "--json")
        assert status.code == 0, status.stdout
        assert status.json()["conditions"] == []

    def test_an_inbox_empty_past_the_stale_limit_makes_status_unhealthy(self, worlds, tmp_path):
        world = worlds(source_toml("east", tmp_path, interval="1m"))  # stale after 3 min
        put(tmp_path / "east-in" / "stock-1.csv", FEED, now() - timedelta(minutes=10))
        assert world.run("reconcile").code == 0
        assert world.run("reconcile").code == 0  # each run waits, and exits 0
        status = world.run("status", "--json")
        assert status.code == 1, status.stdout
        assert status.json()["conditions"] == ["source_stale"]
        assert any("source east: stale" in p for p in status.json()["problems"])


WEST_SKUS = ("PINK", "GREY", "GOLD", "TEAL", "NAVY")
EAST_SKUS = ("RED", "BLUE", "GREEN", "BLACK", "WHITE")


class TestTwoSources:
    def test_a_sum_with_a_waiting_part_is_not_planned_from_the_other_alone(self, worlds, tmp_path):
        world = worlds(
            source_toml("east", tmp_path),
            source_toml("west", tmp_path),
            reconcile='precedence = "sum"',
        )
        skus = (*EAST_SKUS, *WEST_SKUS)
        put(tmp_path / "east-in" / "e-1.csv", csv(dict.fromkeys(skus, 6) | {"RED": 8}), now())
        put(tmp_path / "west-in" / "w-1.csv", csv(dict.fromkeys(skus, 4)), now())
        first = world.run("reconcile", "--json")
        assert first.code == 0, first.stderr
        assert world.on_hand()["RED"] == 12
        before = sent(world)

        put(tmp_path / "west-in" / "w-2.csv", csv(dict.fromkeys(skus, 4) | {"BLUE": 9}), now())
        result = world.run("reconcile", "--json")
        # Not planned, and loud: a part that keeps arriving between the other's files would
        # otherwise leave the warehouse unreconciled, run after run, with every exit 0.
        assert result.code == 3, result.stderr
        summary = result.json()
        assert summary["status"] == "held"
        assert [w["source"] for w in summary["no_new_file"]] == ["east"]
        (hold,) = summary["holds"]
        assert hold["subject"] == "warehouse:main"
        assert hold["reason"].startswith("its sources are summed and east has no new file")
        assert summary["planned"] == 0
        assert sent(world) == before  # west alone would set every SKU to its 4
        assert world.on_hand()["BLUE"] == 10
        problems = " ".join(world.run("status", "--json").json()["problems"])
        assert "warehouse main: last run" in problems
        assert "its sources are summed and east has no new file" in problems

        put(tmp_path / "east-in" / "e-2.csv", csv(dict.fromkeys(skus, 6) | {"RED": 8}), now())
        put(tmp_path / "west-in" / "w-3.csv", csv(dict.fromkeys(skus, 4) | {"BLUE": 9}), now())
        together = world.run("reconcile", "--json")
        assert together.code == 0, together.stderr
        assert world.on_hand()["BLUE"] == 15  # both parts new: summed, 6 + 9

    def test_a_waiting_complete_source_lets_no_sku_be_zeroed_as_absent(self, worlds, tmp_path):
        world = worlds(
            source_toml("east", tmp_path),
            source_toml("west", tmp_path),
            reconcile="zero_absent_after = 1",
        )
        put(
            tmp_path / "east-in" / "e-1.csv", csv(dict.fromkeys(EAST_SKUS, 10) | {"RED": 12}), now()
        )
        put(tmp_path / "west-in" / "w-1.csv", csv(dict.fromkeys(WEST_SKUS, 10)), now())
        assert world.run("reconcile").code == 0
        assert world.on_hand()["RED"] == 12

        put(
            tmp_path / "west-in" / "w-2.csv", csv(dict.fromkeys(WEST_SKUS, 10) | {"GOLD": 4}), now()
        )
        result = world.run("reconcile", "--json")
        assert result.code == 0, result.stderr
        summary = result.json()
        assert [w["source"] for w in summary["no_new_file"]] == ["east"]
        assert [(a["sku"], a["after"]) for a in summary["adjustments"]] == [("GOLD", 4)]
        on_hand = world.on_hand()
        assert on_hand["GOLD"] == 4  # west's own change is applied
        assert {sku: on_hand[sku] for sku in EAST_SKUS} == {
            "RED": 12,
            "BLUE": 10,
            "GREEN": 10,
            "BLACK": 10,
            "WHITE": 10,
        }  # east's SKUs, absent from west's file, are not zeroed


def _sale(sku: str, units: int) -> InventoryUpdate:
    return InventoryUpdate("decrement", sku, units, "se-11")
