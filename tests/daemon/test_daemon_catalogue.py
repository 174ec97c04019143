"""docs/monitoring.md names every event the code can log, not only those a test run emits."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from daemon_support import catalogue

PACKAGE = Path(__file__).parents[2] / "inventory_sync"
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
EVENT = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def logged_events(tree: ast.AST) -> set[str]:
    """Event names passed to log.<level>(...) or log.log(level, ...), literally or by a name
    assigned in the same function."""
    found: set[str] = set()
    for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        for call in [n for n in ast.walk(function) if _is_log_call(n)]:
            position = 1 if call.func.attr == "log" else 0
            if len(call.args) <= position:
                continue
            arg = call.args[position]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
            elif isinstance(arg, ast.Name):
                found |= _assigned_strings(function, arg.id)
    return found


def _is_log_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "log"
        and (node.func.attr in LEVELS or node.func.attr == "log")
    )


def _assigned_strings(function: ast.FunctionDef, name: str) -> set[str]:
    found = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            found |= {
                c.value
                for c in ast.walk(node.value)
                if isinstance(c, ast.Constant) and isinstance(c.value, str) and EVENT.match(c.value)
            }
    return found


def every_event_in_the_code() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        found |= logged_events(ast.parse(path.read_text(encoding="utf-8")))
    return found


class TestCatalogueIsComplete:
    def test_the_code_logs_events_this_test_can_find(self):
        assert {"run.finished", "adjustment.failed", "source.stale"} <= every_event_in_the_code()

    def test_every_event_the_code_can_log_is_documented(self):
        assert every_event_in_the_code() - catalogue().keys() == set()

    def test_every_documented_event_is_still_logged_somewhere(self):
        assert catalogue().keys() - every_event_in_the_code() == set()

    def test_every_event_name_is_dotted_lowercase(self):
        assert [e for e in every_event_in_the_code() if not EVENT.match(e)] == []
