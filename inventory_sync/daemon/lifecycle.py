"""The daemon's life: start, serve (watchdog, staleness), reload on SIGHUP, stop on SIGTERM."""

from __future__ import annotations

import logging
import os
import queue
import time
from collections.abc import Callable
from pathlib import Path

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

from inventory_sync import bootstrap
from inventory_sync.app import App
from inventory_sync.config import Settings, load_settings
from inventory_sync.daemon import jobs, signals
from inventory_sync.daemon.replicas import ReplicaLeases
from inventory_sync.daemon.runtime import Generation, Runtime
from inventory_sync.daemon.schedule import build_scheduler, quiet_scheduler_logs, schedule_jobs
from inventory_sync.errors import ConfigError, InventorySyncError
from inventory_sync.notify import Notifier
from inventory_sync.service.accounts import check_accounts

log = structlog.get_logger(__name__)
TICK_SECONDS = 5.0  # the main loop's pace when there is no watchdog to feed
BEATS_MISSED = 3  # heartbeats the scheduler may miss before the watchdog stops being fed


class Daemon:
    """Owns the scheduler and the main thread; ``serve`` returns the exit code."""

    def __init__(
        self,
        config_path: Path | None,
        settings: Settings,
        notifier: Notifier,
        configure_logs: Callable[[Settings], None],
    ) -> None:
        self.config_path = config_path
        self.configure_logs = configure_logs
        self.notifier = notifier
        self.inbox: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        app = bootstrap.build(settings)
        self.runtime = Runtime(Generation.build(settings, app), notifier, _replicas(app))
        self.tick = notifier.watchdog_interval() or TICK_SECONDS
        self.scheduler: BackgroundScheduler | None = None
        self._unhealthy_logged = False

    def check_shipstation(self) -> None:
        """The first health check: ShipStation answers each account with its key; raises when
        no account does (an account that fails is logged, and its jobs keep trying)."""
        check_accounts(self.runtime.current.app)

    def serve(self) -> int:
        self.check_shipstation()
        self._join_replicas()
        signals.install(self.inbox)
        quiet_scheduler_logs()
        self.scheduler = build_scheduler(self.runtime, heartbeat_seconds=self.tick / 2)
        self.scheduler.start()
        self.notifier.ready()
        generation = self.runtime.current
        self.notifier.status(
            f"running: {len(generation.app.sources)} source(s), "
            f"{len(generation.app.targets.names)} warehouse(s); no run yet"
        )
        log.info(
            "daemon.started",
            pid=os.getpid(),
            sources=[s.name for s in generation.app.sources],
            warehouses=list(generation.app.targets.names),
            watchdog_seconds=self.notifier.watchdog_interval(),
        )
        return self._loop()

    def _join_replicas(self) -> None:
        """On a shared ledger: announce this replica and take its first leases before any job."""
        replicas = self.runtime.replicas
        if replicas is None:
            return
        me = replicas.me
        log.info(
            "replica.started",
            replica=me.replica_id,
            host=me.host,
            pid=me.pid,
            lease_seconds=replicas.times.ttl.total_seconds(),
            renew_seconds=replicas.times.renew_every,
        )
        jobs.tick_replica(self.runtime, lambda: None)

    def _loop(self) -> int:
        handlers: dict[str, Callable[[str], int | None]] = {
            signals.STOP: self._stop,
            signals.RELOAD: self._reload,
        }
        while True:
            try:
                kind, name = self.inbox.get(timeout=self.tick)
            except queue.Empty:
                self._watch()
                continue
            code = handlers[kind](name)
            if code is not None:
                return code

    def _watch(self) -> None:
        self.runtime.current.health.check_stale()
        problem = self._liveness_problem()
        if problem is None:
            self._unhealthy_logged = False
            self.notifier.watchdog()
        elif not self._unhealthy_logged:
            # Not pinging lets systemd's watchdog restart us; say why first, once.
            self._unhealthy_logged = True
            log.error("daemon.unhealthy", reason=problem)

    def _liveness_problem(self) -> str | None:
        if self.scheduler is None or not self.scheduler.running:
            return "the scheduler is not running"
        if time.monotonic() - self.runtime.beat > BEATS_MISSED * self.tick:
            return "the scheduler stopped dispatching jobs"
        limit = self.runtime.current.settings.daemon.stuck_after.total_seconds()
        if stuck := self.runtime.activity.stuck(limit):
            return f"no progress for {limit:.0f} s in {', '.join(stuck)}"
        return None

    def _reload(self, signal_name: str) -> None:
        self.notifier.reloading()
        try:
            generation = self._load()
        except ConfigError as exc:
            log.error("config.reload_failed", signal=signal_name, problems=_problems(exc))
        except InventorySyncError as exc:
            log.error("config.reload_failed", signal=signal_name, problems=[str(exc)])
        else:
            self.configure_logs(generation.settings)
            quiet_scheduler_logs()
            self.runtime.replace(generation)
            if self.scheduler is not None:
                schedule_jobs(self.scheduler, self.runtime)
            log.info(
                "config.reloaded",
                signal=signal_name,
                sources=[s.name for s in generation.app.sources],
                warehouses=list(generation.app.targets.names),
            )
        self.notifier.ready()

    def _load(self) -> Generation:
        """Everything a new configuration needs, checked before the old one is let go."""
        settings = load_settings(self.config_path)
        app = bootstrap.build(settings)
        try:
            check_accounts(app)
        except BaseException:
            app.close()
            raise
        return Generation.build(settings, app)

    def _stop(self, signal_name: str) -> int:
        started = time.monotonic()
        self.notifier.stopping()
        self.runtime.stopping.set()
        running = self.runtime.activity.names()
        log.info("daemon.stopping", signal=signal_name, running_jobs=running)
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)  # no new work; running jobs carry on
        bound = self.runtime.current.settings.daemon.stop_timeout.total_seconds()
        if not self.runtime.activity.wait_idle(timeout=bound):
            log.error(
                "daemon.stop_timed_out",
                timeout_seconds=bound,
                running_jobs=self.runtime.activity.names(),
            )
            logging.shutdown()
            # Jobs still running would keep the interpreter alive; what they left in flight
            # is recorded as sent and settled by reading back at the next start.
            os._exit(0)
        self._leave_replicas()
        self.runtime.close()
        log.info("daemon.stopped", signal=signal_name, seconds=round(time.monotonic() - started, 3))
        return 0

    def _leave_replicas(self) -> None:
        replicas, store = self.runtime.replicas, self.runtime.current.app.leases
        if replicas is None or store is None:
            return
        try:
            replicas.release_all(store)
        except InventorySyncError as exc:  # the leases then simply run out
            log.warning("replica.leave_failed", replica=replicas.me.replica_id, error=str(exc))


def _replicas(app: App) -> ReplicaLeases | None:
    """This process's part among replicas, on a ledger several can share; None on SQLite."""
    if app.leases is None:
        return None
    return ReplicaLeases(app.clock, app.lease_times)


def _problems(exc: ConfigError) -> list[str]:
    return [str(problem) for problem in exc.problems]
