"""Feed timestamps: what counts as "when this was true"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from inventory_sync.sources.timestamps import parse_timestamp

NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-05T12:00:00Z", NOON),
        ("2026-01-05T13:00:00+01:00", NOON),
        ("2026-01-05 12:00:00", NOON),  # naive means UTC
        (NOON.timestamp(), NOON),
        (int(NOON.timestamp()), NOON),
        (datetime(2026, 1, 5, 12, 0), NOON),  # noqa: DTZ001 - a naive value from a database
        (NOON.astimezone(timezone(timedelta(hours=-5))), NOON),
        ("yesterday", None),
        ("", None),
        (True, None),
        (None, None),
        (1e300, None),
    ],
)
def test_timestamps_become_utc_or_none(value, expected):
    assert parse_timestamp(value) == expected
