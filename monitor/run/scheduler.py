"""`monitor schedule`'s engine: APScheduler 3 running injected jobs, one at a time.

The jobs are plain callables (dependency injection), so this module knows nothing of checks,
reports or the store, and tests drive it with fakes and short interval triggers.

- One run at a time: every job has `max_instances=1`, and all jobs share one lock. A job
  marked `wait_if_busy` (the full check) waits for the lock; the others (the re-check of
  failing resources) are skipped when another run holds it: the run in progress covers them.
- Misfires (the machine slept through 03:00) are coalesced into one run, within
  `misfire_grace_s`.
- `request_stop()` (wired to SIGINT/SIGTERM by `run_until_signalled`) sets the `stop` event
  every job receives; a job abandons its run by not recording it, because a run is written
  in one transaction (`Store.record_run`), so the store never holds half a run.
- One log line per run: job, outcome, duration.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger("monitor.schedule")

# A job gets the stop event and returns a one-line summary for the log.
JobFunc = Callable[[threading.Event], str]


@dataclass(frozen=True)
class Job:
    name: str
    trigger: Any  # an APScheduler trigger: CronTrigger in production, IntervalTrigger in tests
    func: JobFunc
    wait_if_busy: bool = False
    run_now: bool = False  # also run once right at start (`monitor schedule --run-now`)


def cron(expression: str, timezone: str = "UTC") -> CronTrigger:
    """A trigger from a five-field crontab line, e.g. ``0 3 * * *``; ValueError when invalid."""
    return CronTrigger.from_crontab(expression, timezone=timezone)


class MonitorScheduler:
    """Runs `jobs` on their triggers, never two at once, until `request_stop`."""

    def __init__(self, jobs: Sequence[Job], *, misfire_grace_s: int = 3600) -> None:
        self.jobs = tuple(jobs)
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.runs: dict[str, int] = {job.name: 0 for job in self.jobs}
        self.scheduler = BackgroundScheduler(
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": misfire_grace_s,
            },
            timezone="UTC",
        )
        for job in self.jobs:
            extra = {"next_run_time": datetime.now(UTC)} if job.run_now else {}
            self.scheduler.add_job(
                self._run, job.trigger, args=[job], id=job.name, name=job.name, **extra
            )

    def _run(self, job: Job) -> None:
        if self.stop.is_set():
            return
        acquired = self._lock.acquire(blocking=job.wait_if_busy)
        if not acquired:
            log.info("%s: skipped, another run is in progress", job.name)
            return
        start = time.monotonic()
        try:
            if self.stop.is_set():
                return
            summary = job.func(self.stop)
            self.runs[job.name] += 1
            log.info("%s: %s (%.1fs)", job.name, summary, time.monotonic() - start)
        except Exception:
            log.exception("%s: failed after %.1fs", job.name, time.monotonic() - start)
        finally:
            self._lock.release()

    def start(self) -> None:
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            log.info("%s: next run at %s", job.name, job.next_run_time)

    def request_stop(self) -> None:
        """Ask the current run to abandon and the loop to end; safe from a signal handler."""
        self.stop.set()
        self._stopped.set()

    def shutdown(self) -> None:
        """Stop firing, wait for the current run to finish or abandon, then return."""
        self.stop.set()
        self.scheduler.shutdown(wait=True)

    def run_until_signalled(self) -> None:
        """Start, block until SIGINT/SIGTERM, then shut down cleanly (main thread only)."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: stopping", signal.Signals(signum).name)
            self.request_stop()

        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            while not self._stopped.wait(timeout=1.0):
                pass
        finally:
            self.shutdown()
            for sig, old in previous.items():
                signal.signal(sig, old)
            log.info("scheduler stopped")
