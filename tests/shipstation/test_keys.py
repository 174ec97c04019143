"""Key failover on 401, expiry warnings, and keys never leaking into text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from shipstation_seeds import KEY
from structlog.testing import capture_logs

from inventory_sync.clock import FixedClock
from inventory_sync.errors import AuthError
from inventory_sync.shipstation.keys import ApiKey
from inventory_sync.shipstation.models import InventoryUpdate

TODAY = date(2026, 11, 25)


def clock_at(day: date) -> FixedClock:
    return FixedClock(datetime(day.year, day.month, day.day, 9, tzinfo=UTC))


class TestFailover:
    def test_a_refused_primary_fails_over_to_the_secondary_and_stays_there(self, emulator, connect):
        keys = (ApiKey("revoked-key", label="primary"), ApiKey(KEY, label="secondary"))
        client = connect(emulator, keys=keys)
        with capture_logs() as logs:
            assert len(client.list_warehouses()) == 2
            client.list_locations()
        assert [r.api_key for r in emulator.requests] == ["revoked-key", KEY, KEY]
        [event] = [e for e in logs if e["event"] == "shipstation.key_failed_over"]
        assert event["log_level"] == "error"
        assert (event["failed_key"], event["now_using"]) == ("primary", "secondary")
        assert "revoked-key" not in repr(logs)

    def test_a_write_refused_with_the_primary_is_sent_once_more_with_the_secondary(
        self, emulator, connect
    ):
        client = connect(emulator, keys=(ApiKey("revoked-key"), ApiKey(KEY, label="secondary")))
        client.update_level(InventoryUpdate("increment", "SKU-A", 1, "se-2001", notes="once"))
        assert [e.count for e in emulator.applied()] == [1]

    def test_many_workers_hitting_a_revoked_primary_log_one_failover(self, emulator, connect):
        client = connect(emulator, keys=(ApiKey("revoked-key"), ApiKey(KEY, label="secondary")))
        updates = [InventoryUpdate("adjust", "SKU-A", n, "se-2001") for n in range(16)]
        results = []
        with capture_logs() as logs:
            client.update_many(updates, on_result=lambda u, r: results.append(r))
        assert all(r.status_code == 204 for r in results)
        assert [e["event"] for e in logs].count("shipstation.key_failed_over") == 1

    def test_every_key_refused_is_an_auth_error(self, emulator, connect):
        client = connect(emulator, keys=(ApiKey("bad-1"), ApiKey("bad-2", label="secondary")))
        with pytest.raises(AuthError):
            client.list_warehouses()
        assert [r.api_key for r in emulator.requests] == ["bad-1", "bad-2"]


class TestExpiry:
    @pytest.mark.parametrize("days_left", [14, 7, 1])
    def test_warns_at_each_threshold(self, emulator, connect, days_left):
        key = ApiKey(KEY, expires_on=TODAY + timedelta(days=days_left))
        client = connect(emulator, keys=(key,), clock=clock_at(TODAY))
        with capture_logs() as logs:
            notices = client.check_key_expiry(TODAY)
        assert [n.days_left for n in notices] == [days_left]
        [event] = logs
        assert event == {
            "event": "shipstation.key_expiring",
            "log_level": "warning",
            "key_label": "primary",
            "expires_on": key.expires_on.isoformat(),
            "days_left": days_left,
        }

    def test_warns_once_per_threshold_not_every_day(self, emulator, connect):
        key = ApiKey(KEY, expires_on=TODAY + timedelta(days=14))
        client = connect(emulator, keys=(key,), clock=clock_at(TODAY))
        warned = [len(client.check_key_expiry(TODAY + timedelta(days=n))) for n in range(14)]
        assert [n for n, count in enumerate(warned) if count] == [0, 7, 13]

    def test_a_far_expiry_is_silent(self, emulator, connect):
        client = connect(emulator, keys=(ApiKey(KEY, expires_on=TODAY + timedelta(days=15)),))
        with capture_logs() as logs:
            assert client.check_key_expiry(TODAY) == []
        assert logs == []

    def test_the_first_request_of_a_day_checks_expiry(self, emulator, connect):
        key = ApiKey(KEY, expires_on=TODAY + timedelta(days=3))
        client = connect(emulator, keys=(key,), clock=clock_at(TODAY))
        with capture_logs() as logs:
            client.list_warehouses()
        assert [e["event"] for e in logs] == ["shipstation.key_expiring"]

    def test_an_expired_key_is_never_sent(self, emulator, connect):
        keys = (ApiKey("old-key", expires_on=TODAY), ApiKey(KEY, label="secondary"))
        client = connect(emulator, keys=keys, clock=clock_at(TODAY))
        client.list_warehouses()
        assert {r.api_key for r in emulator.requests} == {KEY}

    def test_no_usable_key_is_an_auth_error_without_a_request(self, emulator, connect):
        client = connect(
            emulator,
            keys=(ApiKey(KEY, expires_on=TODAY - timedelta(days=1)),),
            clock=clock_at(TODAY),
        )
        with pytest.raises(AuthError):
            client.list_warehouses()
        assert emulator.requests == []


class TestRedaction:
    def test_repr_and_str_hide_the_value(self):
        key = ApiKey("super-secret", expires_on=TODAY, label="primary")
        assert "super-secret" not in repr(key)
        assert "super-secret" not in str(key)
        assert "super-secret" not in repr((key,))
        assert "primary" in repr(key)
