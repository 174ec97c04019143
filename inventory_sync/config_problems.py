"""Every problem of a configuration, named by its key: pydantic's errors, and cross-references."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from inventory_sync.config_accounts import env_name, stray_variables
from inventory_sync.errors import ConfigProblem

if TYPE_CHECKING:
    from inventory_sync.config import Settings


def cross_reference_problems(settings: Settings) -> list[str]:
    """Problems no single section can see: duplicate names, unknown warehouse references."""
    problems = _account_problems(settings)
    placed = _warehouse_keys(settings)
    known = [name for name, _key in placed]
    problems += _duplicates_at(placed)
    problems += _duplicates("sources", [s.name for s in settings.sources])
    for index, source in enumerate(settings.sources):
        for name in source.warehouses:
            if name not in known:
                problems.append(
                    f"sources[{index}].warehouses: {name!r} is not a configured warehouse "
                    f"(known: {', '.join(known) or 'none'})"
                )
    return problems


def _account_problems(settings: Settings) -> list[str]:
    names = [a.name for a in settings.accounts]
    problems = _duplicates("accounts", names)
    spelled: dict[str, str] = {}
    for index, name in enumerate(names):
        env = env_name(name)
        if env in spelled and spelled[env] != name:
            problems.append(
                f"accounts[{index}].name: {name!r} and {spelled[env]!r} share the environment "
                f"name {env} (INVENTORY_SYNC_ACCOUNTS__{env}__...); rename one"
            )
        spelled.setdefault(env, name)
    ss = settings.shipstation
    if settings.accounts and (ss.api_key or ss.secondary_api_key):
        problems.append(
            "shipstation.api_key: with [[accounts]], each account has its own keys "
            "(INVENTORY_SYNC_ACCOUNTS__<NAME>__API_KEY or the credential "
            "shipstation_api_key.<name>); this one would be used by none"
        )
    if settings.accounts and settings.warehouses:
        problems.append(
            "warehouses: with [[accounts]], each warehouse goes under its account "
            "([[accounts.warehouses]])"
        )
    return problems + stray_variables(names, os.environ)


def _warehouse_keys(settings: Settings) -> list[tuple[str, str]]:
    """(warehouse name, its key in the file) for every warehouse, top level and per account."""
    placed = [(w.name, f"warehouses[{i}]") for i, w in enumerate(settings.warehouses)]
    for a_index, account in enumerate(settings.accounts):
        placed += [
            (w.name, f"accounts[{a_index}].warehouses[{i}]")
            for i, w in enumerate(account.warehouses)
        ]
    return placed


def _duplicates_at(placed: list[tuple[str, str]]) -> list[str]:
    seen: dict[str, str] = {}
    found = []
    for name, key in placed:
        if name in seen:
            found.append(f"{key}.name: {name!r} is used more than once (also {seen[name]})")
        seen.setdefault(name, key)
    return found


def _duplicates(section: str, names: list[str]) -> list[str]:
    seen: set[str] = set()
    found = []
    for index, name in enumerate(names):
        if name in seen:
            found.append(f"{section}[{index}].name: {name!r} is used more than once")
        seen.add(name)
    return found


def problems_from(exc: ValidationError) -> list[ConfigProblem]:
    """Turn pydantic's errors into one ConfigProblem per key, in the file's own terms."""
    problems: list[ConfigProblem] = []
    for error in exc.errors(include_url=False):
        key = _key(error["loc"])
        nested = (error.get("ctx") or {}).get("problems")
        if nested:
            problems += [_nested_problem(key, text) for text in nested]
        else:
            problems.append(ConfigProblem(key or "(top level)", _message(error, key)))
    return problems


def _nested_problem(key: str, text: str) -> ConfigProblem:
    head, sep, tail = text.partition(": ")
    if not sep:
        return ConfigProblem(key or "(top level)", text)
    return ConfigProblem(f"{key}.{head}" if key else head, tail)


def _message(error: Any, key: str) -> str:  # noqa: ANN401
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see docs/configuration.md)"
    secret = "key" in key.rsplit(".", 1)[-1] or key.endswith("url")
    shown = "input" in error and error["type"] != "missing" and not secret
    if shown and not isinstance(error["input"], dict | list):
        return f"{message} (got {error['input']!r})"
    return message


def _key(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif not str(part).startswith(("function-", "model-")):
            key += f".{part}" if key else str(part)
    return key
