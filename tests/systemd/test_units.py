"""The unit files in systemd/: required directives present, and accepted by systemd-analyze."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inventory_sync.config import CONFIG_ENV, CREDENTIAL_FILES, DEFAULT_PATHS

UNITS_DIR = Path(__file__).resolve().parents[2] / "systemd"
DAEMON = "inventory-sync.service"
ONESHOT = "inventory-sync-reconcile.service"
TIMER = "inventory-sync-reconcile.timer"
SERVICES = [DAEMON, ONESHOT]
INSTALLED_COMMAND = "/usr/bin/inventory-sync"

Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Unit:
    """Section -> key -> every value in order (units repeat keys, which configparser rejects)."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith(("#", ";"))):
            continue
        if line.endswith("\\"):  # a continued line, joined with a space as systemd does
            pending += line[:-1].rstrip() + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        assert section is not None, f"assignment before any section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not an assignment: {line!r}"
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def load(name: str) -> Unit:
    return parse_unit((UNITS_DIR / name).read_text(encoding="utf-8"))


def values(name: str, section: str, key: str) -> list[str]:
    return load(name).get(section, {}).get(key, [])


class TestParser:
    def test_a_repeated_key_keeps_every_value_and_continuations_are_joined(self):
        unit = parse_unit("# c\n[Service]\nA=1\nA=2 \\\n  3\n; c\nB=\n")
        assert unit == {"Service": {"A": ["1", "2 3"], "B": [""]}}


class TestDaemonService:
    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("Type", "notify"),
            ("NotifyAccess", "main"),
            ("ExecStart", f"{INSTALLED_COMMAND} run"),
            ("ExecReload", "/bin/kill -HUP $MAINPID"),
            ("WatchdogSec", "60"),
            ("Restart", "on-failure"),
            ("RestartSec", "10"),
            ("TimeoutStopSec", "60"),
            ("RestartPreventExitStatus", "2"),
        ],
    )
    def test_runs_as_a_notify_service_with_a_watchdog_and_restarts(self, key, value):
        assert values(DAEMON, "Service", key) == [value]

    def test_starts_with_the_system(self):
        assert values(DAEMON, "Install", "WantedBy") == ["multi-user.target"]

    def test_waits_for_the_network(self):
        assert "network-online.target" in values(DAEMON, "Unit", "Wants")
        assert "network-online.target" in values(DAEMON, "Unit", "After")


# Identity, files, credentials and sandbox: the same in both services.
SHARED = {
    "DynamicUser": ["yes"],
    "User": ["inventory-sync"],
    "Group": ["inventory-sync"],
    "StateDirectory": ["inventory-sync"],
    "StateDirectoryMode": ["0700"],
    "ConfigurationDirectory": ["inventory-sync"],
    "Environment": [f"{CONFIG_ENV}={DEFAULT_PATHS[-1]}"],
    "LoadCredential": [
        "shipstation_api_key:/etc/inventory-sync/credentials/shipstation_api_key",
    ],
    "UMask": ["0077"],
    "ProtectSystem": ["strict"],
    "ProtectHome": ["yes"],
    "PrivateTmp": ["yes"],
    "PrivateDevices": ["yes"],
    "NoNewPrivileges": ["yes"],
    "ProtectKernelTunables": ["yes"],
    "ProtectKernelModules": ["yes"],
    "ProtectKernelLogs": ["yes"],
    "ProtectControlGroups": ["yes"],
    "ProtectClock": ["yes"],
    "ProtectHostname": ["yes"],
    "RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6"],
    "RestrictNamespaces": ["yes"],
    "RestrictRealtime": ["yes"],
    "RestrictSUIDSGID": ["yes"],
    "LockPersonality": ["yes"],
    "MemoryDenyWriteExecute": ["yes"],
    "SystemCallFilter": ["@system-service", "~@privileged @resources"],
    "SystemCallErrorNumber": ["EPERM"],
    "SystemCallArchitectures": ["native"],
    "CapabilityBoundingSet": [""],
}
# What only one of the two has, because one is a daemon and the other a single run.
OWN_KEYS = {
    DAEMON: {
        "Type",
        "NotifyAccess",
        "ExecStart",
        "ExecReload",
        "WatchdogSec",
        "Restart",
        "RestartSec",
        "RestartPreventExitStatus",
        "TimeoutStopSec",
        "SyslogIdentifier",
    },
    ONESHOT: {"Type", "ExecStart", "TimeoutStartSec", "TimeoutStopSec", "SyslogIdentifier"},
}


class TestBothServices:
    @pytest.mark.parametrize("unit", SERVICES)
    @pytest.mark.parametrize("key", sorted(SHARED))
    def test_carry_the_identity_credentials_and_sandbox(self, unit, key):
        assert values(unit, "Service", key) == SHARED[key]

    @pytest.mark.parametrize("unit", SERVICES)
    def test_set_nothing_beyond_the_shared_settings_and_their_own_role(self, unit):
        extra = set(load(unit)["Service"]) - set(SHARED) - OWN_KEYS[unit]
        assert extra == set(), "add the key to both services (SHARED) or to OWN_KEYS"

    @pytest.mark.parametrize("unit", SERVICES)
    def test_load_only_credentials_that_inventory_sync_reads(self, unit):
        for entry in values(unit, "Service", "LoadCredential"):
            name, _, path = entry.partition(":")
            assert name in CREDENTIAL_FILES
            assert path == f"/etc/inventory-sync/credentials/{name}"


class TestReconcileService:
    def test_is_one_run_of_the_reconcile_command(self):
        assert values(ONESHOT, "Service", "Type") == ["oneshot"]
        assert values(ONESHOT, "Service", "ExecStart") == [f"{INSTALLED_COMMAND} reconcile"]

    def test_treats_failed_held_and_unreachable_runs_as_failures(self):
        listed = " ".join(values(ONESHOT, "Service", "SuccessExitStatus")).split()
        assert {"1", "3", "4"}.isdisjoint(listed)

    def test_is_not_restarted_by_systemd_but_by_its_timer(self):
        assert values(ONESHOT, "Service", "Restart") in ([], ["no"])

    def test_a_hung_run_is_stopped_before_the_next_is_due(self):
        (timeout,) = values(ONESHOT, "Service", "TimeoutStartSec")
        minutes = re.fullmatch(r"(\d+)min", timeout)
        assert minutes is not None
        assert int(minutes.group(1)) < 15


class TestTimer:
    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("OnCalendar", "*:0/15"),
            ("Persistent", "true"),
            ("RandomizedDelaySec", "60"),
            ("AccuracySec", "1s"),
            ("Unit", ONESHOT),
        ],
    )
    def test_starts_the_reconcile_service_every_quarter_hour(self, key, value):
        assert values(TIMER, "Timer", key) == [value]

    def test_is_enabled_with_the_other_timers(self):
        assert values(TIMER, "Install", "WantedBy") == ["timers.target"]


def _executable_for_verify() -> str:
    """The venv's own console script if installed, else true(1): any existing executable."""
    script = Path(sys.executable).with_name("inventory-sync")
    if script.is_file() and os.access(script, os.X_OK):
        return str(script)
    true = shutil.which("true")
    assert true is not None
    return true


@pytest.fixture
def unit_copies(tmp_path: Path) -> list[Path]:
    """The units, with ExecStart= pointing at an executable that exists on this machine.

    systemd-analyze verify fails a unit whose command is missing, and /usr/bin/inventory-sync
    exists only where the service is installed (docs/deploy.md). Only that path is rewritten.
    """
    copies = []
    for name in (DAEMON, ONESHOT, TIMER):
        text = (UNITS_DIR / name).read_text(encoding="utf-8")
        copy = tmp_path / name
        copy.write_text(text.replace(INSTALLED_COMMAND, _executable_for_verify()), "utf-8")
        copies.append(copy)
    return copies


def _verify(units: list[Path]) -> tuple[int, list[str]]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    # --man=no: no man(1) look-ups for Documentation=; --generators=no: nothing of the host's.
    # Works offline: no running systemd, no D-Bus, not root.
    result = subprocess.run(
        [analyze, "verify", "--man=no", "--generators=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SYSTEMD_COLORS": "0"},
    )
    output = (result.stdout + result.stderr).splitlines()
    # Unknown keys and bad values are only warnings (exit status 0), so read every line about
    # our units; lines about the host's own units are not ours to judge.
    ours = [line for line in output if "inventory-sync" in line]
    return result.returncode, ours


class TestSystemdAnalyzeVerify:
    def test_accepts_every_unit_without_a_warning(self, unit_copies):
        assert _verify(unit_copies) == (0, [])

    def test_would_report_a_misspelt_directive(self, unit_copies):
        daemon = unit_copies[0]
        text = daemon.read_text(encoding="utf-8")
        daemon.write_text(text.replace("\nWatchdogSec=", "\nWatchdogSecs="), "utf-8")
        _, findings = _verify([daemon])
        assert any("Unknown key" in line and "WatchdogSecs" in line for line in findings)
