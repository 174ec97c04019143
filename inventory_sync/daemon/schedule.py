"""APScheduler wiring: one job per source, per warehouse and per daily task, and the listeners."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from inventory_sync.daemon import jobs
from inventory_sync.daemon.runtime import Runtime
from inventory_sync.domain.model import SourceName, Warehouse

log = structlog.get_logger(__name__)
DAILY_GRACE_SECONDS = 3600  # a daily task up to an hour late (a host resumed) still runs
_ALWAYS = ("heartbeat", "replica")


def quiet_scheduler_logs() -> None:
    """APScheduler narrates every run in sentences; the listeners below say it as events."""
    logging.getLogger("apscheduler.executors").setLevel(logging.CRITICAL)
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)


def build_scheduler(runtime: Runtime, heartbeat_seconds: float) -> BackgroundScheduler:
    """A scheduler with the jobs of the current configuration, not yet started."""
    generation = runtime.current
    workers = len(generation.app.sources) + len(generation.app.targets.names) + 3
    scheduler = BackgroundScheduler(
        executors={
            "default": ThreadPoolExecutor(max_workers=workers),
            # Its own thread, so that long pushes filling the pool cannot starve the heartbeat
            # and have a healthy service killed by the watchdog.
            "heartbeat": ThreadPoolExecutor(max_workers=1),
            # Likewise for lease renewals: a starved renewal would hand the lease away.
            "replica": ThreadPoolExecutor(max_workers=1),
        },
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=UTC,
    )
    listen(scheduler)
    scheduler.add_job(
        jobs.heartbeat,
        IntervalTrigger(seconds=heartbeat_seconds),
        args=[runtime],
        id="heartbeat",
        executor="heartbeat",
        misfire_grace_time=max(1, int(heartbeat_seconds)),
    )
    if runtime.replicas is not None:
        every = runtime.replicas.times.renew_every
        scheduler.add_job(
            jobs.tick_replica,
            IntervalTrigger(seconds=every),
            args=[runtime, lambda: pull_now(scheduler)],
            id="replica",
            executor="replica",
            misfire_grace_time=max(1, int(every)),
        )
    schedule_jobs(scheduler, runtime)
    return scheduler


def pull_now(scheduler: BackgroundScheduler) -> None:
    """Bring every pull forward to now: a lease just taken means work to start at once."""
    now = datetime.now(UTC)
    for job in scheduler.get_jobs():
        if job.id.startswith("pull:"):
            job.modify(next_run_time=now)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job as the configuration asks for it."""

    func: Callable[..., None]
    trigger: BaseTrigger
    args: list[Any]
    grace: int
    first: datetime | None = None  # None: when the trigger first fires


def listen(scheduler: BackgroundScheduler) -> None:
    """Turn a job's failure, a missed run and a skipped run into events; none stops anything."""
    scheduler.add_listener(_job_missed, EVENT_JOB_MISSED)
    scheduler.add_listener(_job_failed, EVENT_JOB_ERROR)
    scheduler.add_listener(_job_skipped, EVENT_JOB_MAX_INSTANCES)


def schedule_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """(Re)create every job from the current configuration; jobs no longer configured go."""

    def hasten(warehouse: Warehouse) -> None:
        bring_forward(scheduler, runtime, warehouse)

    wanted = wanted_jobs(runtime, hasten)
    for job in scheduler.get_jobs():
        if job.id not in wanted and job.id not in _ALWAYS:
            job.remove()
    for job_id, spec in wanted.items():
        first = {} if spec.first is None else {"next_run_time": spec.first}
        scheduler.add_job(
            spec.func,
            spec.trigger,
            args=spec.args,
            id=job_id,
            replace_existing=True,
            misfire_grace_time=spec.grace,
            **first,
        )


def wanted_jobs(runtime: Runtime, hasten: jobs.Hasten) -> dict[str, JobSpec]:
    """Job id -> spec: a pull per source, a reconcile per warehouse, and the daily tasks."""
    settings = runtime.current.settings
    daemon = settings.daemon
    wanted = {
        f"pull:{source.name}": JobSpec(
            jobs.pull_source,
            IntervalTrigger(seconds=source.interval.total_seconds()),
            [runtime, SourceName(source.name), hasten],
            _grace(source.interval),
            # The first pull at once: the service can do nothing until data arrives.
            first=datetime.now(UTC),
        )
        for source in settings.sources
    }
    for name in runtime.current.app.targets.names:
        wanted[f"reconcile:{name}"] = JobSpec(
            jobs.reconcile_warehouse,
            IntervalTrigger(seconds=daemon.reconcile_interval.total_seconds()),
            [runtime, name, hasten],
            _grace(daemon.reconcile_interval),
        )
    for job_id, func, when in (
        ("drift-scan", jobs.scan_drift, daemon.drift_scan),
        ("key-check", jobs.check_keys, daemon.key_check),
        ("retention", jobs.prune_ledger, daemon.retention),
    ):
        wanted[job_id] = JobSpec(func, trigger_for(when), [runtime], _grace_for(when))
    return wanted


def trigger_for(when: str | timedelta) -> BaseTrigger:
    """ "HH:MM" runs daily at that UTC time; a duration runs that often."""
    if isinstance(when, timedelta):
        return IntervalTrigger(seconds=when.total_seconds())
    hour, minute = when.split(":")
    return CronTrigger(hour=int(hour), minute=int(minute), timezone=UTC)


def _grace_for(when: str | timedelta) -> int:
    return DAILY_GRACE_SECONDS if isinstance(when, str) else _grace(when)


def _grace(interval: timedelta) -> int:
    # Half an interval late is still worth running; later than that, the next run is closer.
    return max(1, int(interval.total_seconds() / 2))


def bring_forward(scheduler: BackgroundScheduler, runtime: Runtime, warehouse: Warehouse) -> None:
    """Run the warehouse's reconcile debounce_seconds from now, unless it is due sooner."""
    job_id = f"reconcile:{warehouse}"
    runtime.dirty.add(warehouse)
    job = scheduler.get_job(job_id)
    if job is None or runtime.activity.is_running(job_id):
        return  # a running reconcile sees the dirty mark when it ends
    debounce = runtime.current.settings.daemon.debounce_seconds
    at = datetime.now(UTC) + timedelta(seconds=debounce)
    # The earlier time wins: a reconcile already pending takes in this data too when it runs,
    # and a steady trickle of pulls cannot postpone it forever.
    if job.next_run_time is None or job.next_run_time > at:
        job.modify(next_run_time=at)


def _job_missed(event: JobExecutionEvent) -> None:
    log.warning(
        "scheduler.job_missed",
        job_id=event.job_id,
        scheduled_at=event.scheduled_run_time.isoformat(),
    )


def _job_failed(event: JobExecutionEvent) -> None:
    log.error(
        "scheduler.job_failed",
        job_id=event.job_id,
        error=str(event.exception),
        error_type=type(event.exception).__name__,
        traceback=event.traceback,
    )


def _job_skipped(event: JobSubmissionEvent) -> None:
    log.info("scheduler.job_skipped", job_id=event.job_id, reason="still running")
