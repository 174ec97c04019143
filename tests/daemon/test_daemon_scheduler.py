"""The scheduler's listeners: a failing or missed job is an event, and the scheduler carries on."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from daemon_support import wait_for
from structlog.testing import capture_logs

from inventory_sync.daemon.schedule import listen, trigger_for


@pytest.fixture
def scheduler():
    running = BackgroundScheduler(timezone=UTC)
    listen(running)
    running.start()
    try:
        yield running
    finally:
        running.shutdown(wait=True)


def explode() -> None:
    raise RuntimeError("disk on fire")


class TestListeners:
    def test_a_failing_job_is_logged_and_the_scheduler_keeps_running(self, scheduler):
        later = threading.Event()
        with capture_logs() as logs:
            scheduler.add_job(explode, id="explodes", next_run_time=datetime.now(UTC))
            scheduler.add_job(later.set, id="later", next_run_time=datetime.now(UTC))
            wait_for(later.is_set, 10, "the job after the failing one")
            wait_for(lambda: [e for e in logs if e["event"] == "scheduler.job_failed"], 10, "it")
        (failed,) = [e for e in logs if e["event"] == "scheduler.job_failed"]
        assert failed["job_id"] == "explodes"
        assert failed["error_type"] == "RuntimeError"
        assert "disk on fire" in failed["traceback"]
        assert scheduler.running

    def test_a_run_later_than_its_grace_is_logged_as_missed(self, scheduler):
        long_ago = datetime.now(UTC) - timedelta(hours=1)
        with capture_logs() as logs:
            scheduler.add_job(print, "date", run_date=long_ago, id="late", misfire_grace_time=1)
            wait_for(lambda: [e for e in logs if e["event"] == "scheduler.job_missed"], 10, "it")
        (missed,) = [e for e in logs if e["event"] == "scheduler.job_missed"]
        assert missed["job_id"] == "late"
        assert missed["scheduled_at"].startswith(long_ago.isoformat()[:16])


class TestTriggers:
    def test_a_time_of_day_runs_daily_in_utc(self):
        trigger = trigger_for("03:30")
        now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
        assert trigger.get_next_fire_time(None, now) == datetime(2026, 11, 26, 3, 30, tzinfo=UTC)

    def test_a_duration_runs_that_often(self):
        trigger = trigger_for(timedelta(hours=6))
        first = trigger.get_next_fire_time(None, datetime.now(UTC))
        assert trigger.get_next_fire_time(first, first) - first == timedelta(hours=6)
