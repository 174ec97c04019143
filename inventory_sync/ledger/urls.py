"""The forms a ledger URL may take, and what is wrong with one that fits none of them."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ACCEPTED = (
    "sqlite:///PATH, postgresql+psycopg://USER@HOST:5432/DB, or a file path such as "
    "/var/lib/inventory-sync/ledger.db or ./ledger.db"
)
KINDS = ("sqlite", "postgresql")
# "scheme:" without "//": a URL mistyped, not a file name (sqlite:ledger.db, postgresql:/db).
_SCHEME_ONLY = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_PASSWORD = re.compile(r"(://[^/@:]*):[^@]*@")


def shown(value: str) -> str:
    """The value for a message: a URL's password masked, as SQLAlchemy renders it."""
    return _PASSWORD.sub(r"\1:***@", value)


def ledger_url_problem(value: str) -> str | None:
    """What is wrong with ``value`` as a ledger URL, naming it and what is accepted; None
    when it is a SQLite or PostgreSQL URL, or a plain path that names a file."""
    if "://" in value:
        return _url_problem(value)
    if _SCHEME_ONLY.match(value):
        return f"{shown(value)!r} is not a ledger URL (no '//' after the scheme); use {ACCEPTED}"
    # A bare word ("not a url") is more likely a mistake than a file name: a path must show
    # that it is one, by a directory or a suffix.
    if "/" in value or value.startswith("~") or Path(value).suffix:
        return None
    return f"{value!r} is neither a ledger URL nor a file path; use {ACCEPTED}"


def _url_problem(value: str) -> str | None:
    try:
        parsed = make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return f"{shown(value)!r} is not a valid URL; use {ACCEPTED}"
    kind = parsed.get_backend_name()
    if kind not in KINDS:
        return (
            f"{shown(value)!r} is a {kind} URL; the ledger is sqlite or postgresql: use {ACCEPTED}"
        )
    if kind == "sqlite" and (parsed.host or not parsed.database or parsed.database == ":memory:"):
        # sqlite://ledger.db names a host, not a file: SQLite would keep the ledger in memory,
        # and every run would forget what the last one did.
        return (
            f"{shown(value)!r} names no SQLite file (the ledger would be in memory); write "
            "sqlite:/// then the path (four slashes before an absolute one), or use another of "
            f"{ACCEPTED}"
        )
    return None
