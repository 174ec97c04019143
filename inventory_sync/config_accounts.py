"""Per-account settings from the environment and credential files, laid over [[accounts]].

One scheme: ``INVENTORY_SYNC_ACCOUNTS__<NAME>__<KEY>`` (the account's name upper-cased, every
character other than a letter or digit written ``_``), and credential files
``shipstation_api_key.<name>`` / ``shipstation_secondary_api_key.<name>`` (the name as written).
The environment wins over a credential file, which wins over the TOML file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ACCOUNTS_ENV_PREFIX = "INVENTORY_SYNC_ACCOUNTS__"
# Credential file stem -> the account key it fills; the file is named "<stem>.<account name>".
ACCOUNT_CREDENTIALS = {
    "shipstation_api_key": "api_key",
    "shipstation_secondary_api_key": "secondary_api_key",
}
_NOT_ENV = re.compile(r"[^A-Z0-9]")


def env_name(account: str) -> str:
    """The account's part of a variable name: ``acme-eu`` -> ``ACME_EU``."""
    return _NOT_ENV.sub("_", account.upper())


def env_var(account: str, key: str) -> str:
    """The variable setting ``key`` of ``account``: INVENTORY_SYNC_ACCOUNTS__ACME__API_KEY."""
    return f"{ACCOUNTS_ENV_PREFIX}{env_name(account)}__{key.upper()}"


def credential_file(account: str, key: str) -> str | None:
    """The credential file name for a secret key of ``account``; None for other keys."""
    stem = next((s for s, k in ACCOUNT_CREDENTIALS.items() if k == key), None)
    return None if stem is None else f"{stem}.{account}"


def overlay_accounts(
    accounts: object, environ: Mapping[str, str], credentials_dir: Path | None
) -> object:
    """Lay env values and credential files over each account table (raw dicts).

    Anything that is not a list of tables is returned untouched for pydantic to report;
    variables that name no account are reported by :func:`stray_variables`.
    """
    if not isinstance(accounts, list):
        return accounts
    by_env: dict[str, dict[str, Any]] = {}
    merged: list[object] = []
    for raw in accounts:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            merged.append(raw)
            continue
        table = {**raw, **_credentials(raw["name"], credentials_dir)}
        by_env.setdefault(env_name(raw["name"]), table)
        merged.append(table)
    _apply_environment(by_env, environ)
    return merged


def _credentials(account: str, directory: Path | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if directory is None or not directory.is_dir():
        return found
    for stem, key in ACCOUNT_CREDENTIALS.items():
        path = directory / f"{stem}.{account}"
        if path.is_file():
            found[key] = path.read_text(encoding="utf-8").strip()
    return found


def _account_variables(environ: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """(variable, account part, key part, value) for every INVENTORY_SYNC_ACCOUNTS__ variable."""
    found = []
    for variable, value in sorted(environ.items()):
        if variable.upper().startswith(ACCOUNTS_ENV_PREFIX):
            account, _sep, key = variable[len(ACCOUNTS_ENV_PREFIX) :].partition("__")
            found.append((variable, account.upper(), key.lower(), value))
    return found


def _apply_environment(by_env: dict[str, dict[str, Any]], environ: Mapping[str, str]) -> None:
    for _variable, account, key, value in _account_variables(environ):
        table = by_env.get(account)
        if table is not None and key and key != "warehouses":
            table[key] = value


def stray_variables(accounts: list[str], environ: Mapping[str, str]) -> list[str]:
    """Problems ("VARIABLE: message") with account variables that set nothing."""
    known = {env_name(name): name for name in accounts}
    problems = []
    for variable, account, key, _value in _account_variables(environ):
        if not key:
            problems.append(f"{variable}: expected {ACCOUNTS_ENV_PREFIX}<ACCOUNT>__<KEY>")
        elif account not in known:
            names = ", ".join(sorted(known)) or "none configured"
            problems.append(f"{variable}: no account is named {account} (accounts: {names})")
        elif key == "warehouses":
            problems.append(f"{variable}: an account's warehouses are set in the file only")
    return problems
