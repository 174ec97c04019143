"""The one map from how a command ended to its exit code, and the README table that states it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inventory_sync import exits
from inventory_sync.errors import (
    AuthError,
    ConfigError,
    LedgerError,
    LockHeld,
    MappingError,
    OutcomeUncertain,
    RunHeld,
    ServerError,
    TransportError,
    UsageError,
)

README = Path(__file__).parents[2] / "README.md"


class TestErrorsToExitCodes:
    @pytest.mark.parametrize(
        ("error", "code"),
        [
            (ConfigError([]), 2),
            (UsageError("no such warehouse"), 2),
            (RunHeld("held", reasons=[]), 3),
            (AuthError("refused", status_code=401), 4),
            (TransportError("timed out"), 4),
            (ServerError("down", status_code=503), 4),
            (OutcomeUncertain("lost answer", status_code=502), 4),
            (MappingError("wrong place", findings=[]), 4),
            (LockHeld("east", holder="other:1:run"), 5),
            (LedgerError("database is locked"), 1),
            (KeyboardInterrupt(), 130),
            (RuntimeError("a bug"), 70),
        ],
    )
    def test_each_kind_of_error_has_its_code(self, error, code):
        assert exits.for_error(error) == code

    def test_an_unhealthy_status_exits_1(self):
        assert (exits.for_health(healthy=True), exits.for_health(healthy=False)) == (0, 1)


class TestTheReadmeStatesTheSameCodes:
    def test_the_readme_table_lists_exactly_the_codes_of_the_map(self):
        rows = re.findall(r"^\| (\d+) \| ", README.read_text(encoding="utf-8"), re.MULTILINE)
        assert sorted(map(int, rows)) == sorted(code for code, _ in exits.MEANINGS)

    def test_the_help_text_lists_every_code(self):
        for code, meaning in exits.MEANINGS:
            assert f"{code:>3}  {meaning}" in exits.HELP
