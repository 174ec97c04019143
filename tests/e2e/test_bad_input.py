"""Bad input to every command: a clear message naming what to fix, its exit code, no traceback,
and the ledger's rows as they were (checked after each case)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from e2e_support import FEED
from sweep_support import (
    SweepWorld,
    can_mount,
    ledger_rows,
    mount_tmpfs,
    sqlite_intact,
    sweep_world,
)

Prepare = Callable[[SweepWorld], None]


@dataclass(frozen=True)
class Case:
    """One bad input: what to set up, the command, its exit code and what the message says."""

    name: str
    args: tuple[str, ...]
    code: int | tuple[int, ...]  # a tuple: any of these (the outcome depends on timing)
    says: tuple[str, ...]  # fragments of what it prints (either stream), in any case
    prepare: Prepare | None = None
    needs: frozenset[str] = field(default_factory=frozenset)  # mount, postgres, unprivileged
    says_if_failed: tuple[str, ...] = ()  # fragments required only when it exits non-zero


def edit_config(old: str, new: str) -> Prepare:
    def prepare(s: SweepWorld) -> None:
        text = s.world.config.read_text()
        assert old in text, old
        s.world.config.write_text(text.replace(old, new))

    return prepare


def write_config(text: str) -> Prepare:
    def prepare(s: SweepWorld) -> None:
        s.world.config.write_text(text)

    return prepare


def write_feed(data: bytes) -> Prepare:
    def prepare(s: SweepWorld) -> None:
        s.world.feed.write_bytes(data)

    return prepare


def unreadable(which: str) -> Prepare:
    """The config or the feed exists but cannot be read (mode 000; see WITHOUT_OVERRIDE)."""

    def prepare(s: SweepWorld) -> None:
        path = s.world.config if which == "config" else s.world.feed
        path.chmod(0)
        s.unprivileged = True

    return prepare


def remove_feed(s: SweepWorld) -> None:
    s.world.feed.unlink()


def ledger_on_tmpfs(*, read_only: bool) -> Prepare:
    """The ledger in a small state directory of its own: mounted read-only, or full."""

    def prepare(s: SweepWorld) -> None:
        where = s.tmp / "small-state"
        s.undo.append(mount_tmpfs(where, "2m"))
        source = Path(s.world.ledger_url.removeprefix("sqlite:///"))
        (where / "ledger.db").write_bytes(source.read_bytes())
        s.env["INVENTORY_SYNC_LEDGER__URL"] = f"sqlite:///{where / 'ledger.db'}"
        if read_only:
            import subprocess  # noqa: PLC0415 - only this case remounts

            subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        else:
            with contextlib.suppress(OSError), (where / "filler").open("wb") as filler:
                while True:
                    filler.write(b"\0" * 65536)

    return prepare


def ledger_url_in_file(value: str) -> Prepare:
    """The configuration file's [ledger] url is ``value`` (no environment override)."""

    def prepare(s: SweepWorld) -> None:
        s.env["INVENTORY_SYNC_LEDGER__URL"] = None
        with s.world.config.open("a") as config:
            config.write(f'\n[ledger]\nurl = "{value}"\n')

    return prepare


def ledger_url_credential(value: str) -> Prepare:
    """The ledger_url credential file (systemd's LoadCredential=) holds ``value``."""

    def prepare(s: SweepWorld) -> None:
        directory = s.tmp / "credentials"
        directory.mkdir(exist_ok=True)
        (directory / "ledger_url").write_text(value + "\n")
        s.env.update({"INVENTORY_SYNC_LEDGER__URL": None, "CREDENTIALS_DIRECTORY": str(directory)})

    return prepare


def ledger_url_env(value: str) -> Prepare:
    return lambda s: s.env.update({"INVENTORY_SYNC_LEDGER__URL": value})


def newer_ledger(s: SweepWorld) -> None:
    path = s.world.ledger_url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE alembic_version SET version_num = '0099_future'")


def locked_ledger(s: SweepWorld) -> None:
    """Another process holds the SQLite file's write lock for the whole command."""
    path = s.world.ledger_url.removeprefix("sqlite:///")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    s.undo.append(db.close)


def postgres_goes_away(s: SweepWorld) -> None:
    """The run's ledger is on PostgreSQL, whose backends are terminated once the push starts."""
    url = s.env["POSTGRES_URL"]
    s.env["INVENTORY_SYNC_LEDGER__URL"] = url
    s.world.emulator.faults.update(latency_ms=200)
    s.world.write_feed(s.world.feed.read_text().replace("RED,12", "RED,15"))
    stop = threading.Event()

    def terminate_while_pushing() -> None:
        # A connection killed between transactions is replaced (pool_pre_ping); one killed in
        # the middle of one fails that write. Which happens first depends on timing.
        while not stop.is_set():
            if any(r.method == "POST" for r in s.world.emulator.requests):
                _terminate_backends(url)
            time.sleep(0.02)

    killer = threading.Thread(target=terminate_while_pushing, name="pg-terminator")
    killer.start()
    s.undo.append(lambda: (stop.set(), killer.join(timeout=30)))


def _terminate_backends(url: str) -> None:
    database = sa.make_url(url).database
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
    finally:
        engine.dispose()


def plan_file(edit: Callable[[dict], None]) -> Prepare:
    """A plan written by --plan-out, then changed by ``edit``, at tmp/plan.json."""

    def prepare(s: SweepWorld) -> None:
        s.world.write_feed(s.world.feed.read_text().replace("RED,12", "RED,14"))
        path = s.tmp / "plan.json"
        made = s.run("reconcile", "--plan-out", str(path))
        assert made.code == 0, made.stderr
        document = json.loads(path.read_text())
        edit(document)
        path.write_text(json.dumps(document))

    return prepare


def plan_from_another_configuration(s: SweepWorld) -> None:
    """A plan written where the warehouse is called "west", applied where it is "main"."""
    ours = s.world.config.read_text()
    s.world.config.write_text(ours.replace('"main"', '"west"'))
    try:
        plan_file(lambda _document: None)(s)
    finally:
        s.world.config.write_text(ours)


def _raise_quantity(document: dict) -> None:
    row = document["adjustments"][0]
    row["quantity"] = row["after"] = 40


def _absurd_quantity(document: dict) -> None:
    row = document["adjustments"][0]
    row["quantity"] = row["after"] = 10**30


def raw_file(name: str, data: bytes) -> Prepare:
    def prepare(s: SweepWorld) -> None:
        (s.tmp / name).write_bytes(data)

    return prepare


BINARY = bytes(range(256)) * 4
BAD_TOML = write_config("[shipstation\nbase_url = 1\n")
ADJUST = ("adjust", "RED", "-w")
APPLY = ("reconcile", "--apply")
CASES = [
    # -- the configuration file --
    Case("malformed TOML", ("reconcile",), 2, ("inventory-sync.toml", "line 1"), BAD_TOML),
    Case("malformed TOML for the service", ("run",), 2, ("not valid toml",), BAD_TOML),
    Case("malformed TOML for status", ("status",), 2, ("not valid toml",), BAD_TOML),
    Case("wrong type", ("reconcile",), 2, ("shipstation.concurrency", "eight"),
         edit_config('base_url = "', 'concurrency = "eight"\nbase_url = "')),
    Case("unknown key", ("reconcile",), 2, ("reconcile.mdoe",),
         edit_config("[reconcile]\n", '[reconcile]\nmdoe = "x"\n')),
    Case("unknown source kind", ("reconcile",), 2, ("ftp",),
         edit_config('type = "csv"', 'type = "ftp"')),
    Case("source for an unknown warehouse", ("reconcile",), 2, ("north",),
         edit_config('warehouses = ["main"]', 'warehouses = ["north"]')),
    Case("missing config file", ("reconcile",), 2, ("inventory-sync.toml",),
         lambda s: s.world.config.unlink()),
    Case("unreadable config file", ("reconcile",), 2, ("inventory-sync.toml", "not readable"),
         unreadable("config"), frozenset({"unprivileged"})),
    Case("config is binary", ("explain", "RED"), 2, ("inventory-sync.toml", "not utf-8"),
         lambda s: s.world.config.write_bytes(BINARY)),
    Case("no API key", ("reconcile",), 2, ("shipstation.api_key", "required"),
         lambda s: s.env.update({"INVENTORY_SYNC_SHIPSTATION__API_KEY": None})),
    Case("empty API key", ("reconcile",), 2, ("shipstation.api_key", "empty"),
         lambda s: s.env.update({"INVENTORY_SYNC_SHIPSTATION__API_KEY": ""})),
    Case("absurd concurrency", ("reconcile",), 2, ("concurrency",),
         edit_config('base_url = "', f'concurrency = {10**30}\nbase_url = "')),
    Case("unknown log level", ("--log-level", "loud", "status"), 2, ("loud",)),
    # -- feeds --
    # A source that cannot be read holds only itself and its warehouse: the run exits with the
    # guard code (3), so a timer notices the refused feed.
    Case("missing feed", ("reconcile",), 3,
         ("nothing pushed", "held source feed", "no file matches"), remove_feed),
    Case("unreadable feed", ("reconcile",), 3, ("held source feed", "permission denied"),
         unreadable("feed"), frozenset({"unprivileged"})),
    Case("latin-1 feed", ("reconcile", "--json"), 3, ("utf-8", "line 2"),
         write_feed("sku,quantity\nR\xc9D,12\nBLUE,10\n".encode("latin-1") + b"GREEN,7\n")),
    Case("binary feed", ("reconcile",), 3, ("feed.csv", "not valid utf-8", "options.encoding"),
         write_feed(BINARY)),
    Case("absurd quantity in feed", ("reconcile", "--json"), 3, ('"line": 2', "max_quantity"),
         write_feed(f"sku,quantity\nRED,{10**30}\nBLUE,10\nGREEN,7\n".encode())),
    Case("absurdly long SKU in feed", ("reconcile", "--json"), 1, ("has no product record",),
         write_feed(FEED.encode() + b"R" * 100_000 + b",3\n")),
    # -- the ledger and the state directory --
    Case("read-only state directory", ("reconcile",), 1, ("small-state/ledger.db", "read-only"),
         ledger_on_tmpfs(read_only=True), frozenset({"mount"})),
    Case("full state directory", ("reconcile",), 1, ("small-state/ledger.db", "may be full"),
         ledger_on_tmpfs(read_only=False), frozenset({"mount"})),
    Case("state directory that cannot be made", ("history",), 1, ("/proc/none", "state_dir"),
         lambda s: s.env.update({"INVENTORY_SYNC_LEDGER__URL": "sqlite:////proc/none/l.db"})),
    Case("ledger from a newer release", ("reconcile",), 1, ("0099_future", "newer release"),
         newer_ledger),
    Case("locked ledger", ("reconcile",), 1, ("ledger.db", "locked", "write lock"), locked_ledger),
    # A ledger URL that fits no accepted form is a configuration mistake, from any place it is
    # set; the message names it (its password masked) and the forms accepted.
    Case("ledger URL of an unknown kind", ("history",), 2,
         ("ledger.url", "mysql://nowhere/x", "sqlite or postgresql", "postgresql+psycopg://"),
         ledger_url_env("mysql://nowhere/x")),
    Case("ledger URL of an unknown kind in the file", ("reconcile",), 2,
         ("ledger.url", "'foo://x'", "sqlite:///path", "postgresql+psycopg://"),
         ledger_url_in_file("foo://x")),
    Case("ledger URL that is a bare word in the file", ("status",), 2,
         ("ledger.url", "'not a url'", "neither a ledger url nor a file path", "./ledger.db"),
         ledger_url_in_file("not a url")),
    Case("ledger URL credential of an unknown kind", ("history",), 2,
         ("ledger.url", "mysql://app:***@db/x", "sqlite or postgresql"),
         ledger_url_credential("mysql://app:s3cret-pw@db/x")),
    Case("ledger URL with an unusable port", ("history",), 2,
         ("ledger.url", "postgresql+psycopg://app:***@db:fivefour/x", "not a valid url"),
         ledger_url_env("postgresql+psycopg://app:s3cret-pw@db:fivefour/x")),
    Case("SQLite ledger URL with two slashes", ("reconcile",), 2,
         ("ledger.url", "sqlite://ledger.db", "no sqlite file", "four slashes"),
         ledger_url_env("sqlite://ledger.db")),
    Case("PostgreSQL goes away mid-run", ("reconcile", "--json"), (0, 1), (),
         postgres_goes_away, frozenset({"postgres"}), says_if_failed=("ledger", "failed")),
    # -- plan files --
    Case("plan edited by hand", (*APPLY, "{tmp}/plan.json"), 2, ("adjustments[0]", "edited"),
         plan_file(_raise_quantity)),
    Case("plan from another configuration", (*APPLY, "{tmp}/plan.json"), 2, ("west",),
         plan_from_another_configuration),
    Case("plan with an absurd quantity", (*APPLY, "{tmp}/plan.json"), 2,
         ("adjustments[0]", "quantity must be"), plan_file(_absurd_quantity)),
    Case("plan that is binary", (*APPLY, "{tmp}/bin.json"), 2, ("bin.json", "not utf-8"),
         raw_file("bin.json", BINARY)),
    Case("plan that is missing", (*APPLY, "{tmp}/none.json"), 2, ("none.json",)),
    Case("plan-out into a missing directory", ("reconcile", "--plan-out", "{tmp}/no/plan.json"),
         2, ("no/plan.json", "cannot write")),
    Case("--apply with --force", (*APPLY, "{tmp}/bin.json", "--force"), 2, ("--apply",),
         raw_file("bin.json", BINARY)),
    # -- commands and options --
    Case("unknown warehouse for reconcile", ("reconcile", "-w", "north"), 2, ("north",)),
    Case("support bundle for an unknown id", ("support-bundle", "adj-0000"), 2, ("adj-0000",)),
    Case("support bundle for an unknown run", ("support-bundle", "run-0000"), 2, ("run-0000",)),
    Case("resolve an unknown adjustment", ("resolve", "adj-0000", "--applied"), 2,
         ("adj-0000",)),
    Case("release a SKU never quarantined", ("release", "RED", "-w", "main"), 2,
         ("not quarantined",)),
    Case("release in an unknown warehouse", ("release", "RED", "-w", "north"), 2, ("north",)),
    Case("adjust without a change", (*ADJUST, "main", "--reason", "count"), 2,
         ("--set", "--add", "--remove")),
    Case("adjust by an absurd amount", (*ADJUST, "main", "--add", str(10**30), "--reason",
                                        "return"), 2, ("--add", "2147483647")),
    Case("adjust removing more than there is", (*ADJUST, "main", "--remove", "500", "--reason",
                                                "damage"), 2, ("500",)),
    Case("adjust in an unknown warehouse", (*ADJUST, "north", "--set", "1", "--reason", "count"),
         2, ("north",)),
    Case("explain in an unknown warehouse", ("explain", "RED", "-w", "north"), 2, ("north",)),
    Case("explain with a negative limit", ("explain", "RED", "--limit", "-5"), 2, ("--limit",)),
    Case("history with an unknown status", ("history", "--status", "bogus"), 2, ("bogus",)),
    Case("history for an unknown run", ("history", "--run", "run-0000"), 2, ("run-0000",)),
    Case("history with a zero limit", ("history", "--limit", "0"), 2, ("--limit",)),
    Case("db upgrade of a URL of no known kind", ("db", "upgrade", "--url", "nosuch://x"), 2,
         ("--url", "'nosuch://x'", "sqlite or postgresql", "sqlite:///path")),
    Case("db upgrade of a bare word", ("db", "upgrade", "--url", "not a url"), 2,
         ("--url", "'not a url'", "neither a ledger url nor a file path", "sqlite:///path")),
    Case("demo in a directory that cannot be made", ("demo", "--state-dir", "/proc/none"), 2,
         ("--state-dir", "/proc/none")),
    Case("emulator with a missing seed", ("emulator", "--seed", "{tmp}/none.json"), 2,
         ("none.json",)),
    Case("emulator with a binary seed", ("emulator", "--seed", "{tmp}/bin.json"), 2,
         ("bin.json", "not a seed", "UnicodeDecodeError"), raw_file("bin.json", BINARY)),
    Case("ShipStation unreachable", ("warehouses",), 4, ("http://127.0.0.1:9",),
         edit_config('base_url = "http://127.0.0.1:', 'base_url = "http://127.0.0.1:9/')),
]  # fmt: skip


def human(stderr: str) -> str:
    """What a person reads on stderr: the lines that are not JSON log events."""
    lines = [line for line in stderr.splitlines() if not line.startswith("{")]
    return " | ".join(lines)[-1500:] or stderr[-1500:]


def needs_met(case: Case, postgres: str | None) -> str | None:
    if "mount" in case.needs and not can_mount():
        return "a small tmpfs needs root and mount(8); not available here"
    if "unprivileged" in case.needs and os.geteuid() == 0 and not shutil.which("setpriv"):
        return "running as root without setpriv(1): a file's mode cannot refuse root"
    if "postgres" in case.needs and not postgres:
        return "INVENTORY_SYNC_TEST_POSTGRES_URL is not set"
    return None


@pytest.fixture
def pg_url(request) -> str | None:
    case = request.getfixturevalue("case")
    if "postgres" not in case.needs:
        return None
    return request.getfixturevalue("scratch_postgres_url")


class TestBadInputSweep:
    @pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
    def test_each_gets_a_clear_message_and_its_exit_code_and_loses_no_ledger_row(
        self, tmp_path, case, pg_url
    ):
        if reason := needs_met(case, pg_url):
            pytest.skip(reason)
        with sweep_world(tmp_path) as sweep:
            if pg_url:
                sweep.env["POSTGRES_URL"] = pg_url
                prime = dict(sweep.env, INVENTORY_SYNC_LEDGER__URL=pg_url)
                sweep.env, saved = prime, sweep.env
                assert sweep.run("reconcile").code == 0
                sweep.env = saved
            before = ledger_rows(pg_url or sweep.world.ledger_url)
            if case.prepare is not None:
                case.prepare(sweep)
            args = [a.replace("{tmp}", str(tmp_path)) for a in case.args]
            result = sweep.run(*args)
            for undo in reversed(sweep.undo):
                undo()
            sweep.undo.clear()
            said = (result.stdout + result.stderr).lower()
            where = f"{case.name}: exit {result.code}; said: {human(result.stdout + result.stderr)}"
            assert "traceback" not in said, where
            codes = case.code if isinstance(case.code, tuple) else (case.code,)
            assert result.code in codes, where
            for fragment in case.says + (case.says_if_failed if result.code else ()):
                assert fragment.lower() in said, f"{fragment!r} not said. {where}"
            after = ledger_rows(pg_url or sweep.world.ledger_url)
            assert {k: v for k, v in after.items() if k in before} == before, where
            if not pg_url:
                assert sqlite_intact(sweep.world.ledger_url)
