"""The Celery app: settings from the environment, faults survived by the engine's own
configuration, and the one task, `monitor.fleet.check_shard`.

- `task_acks_late`: a task is acknowledged when it has finished, not when it was received,
  so a worker that dies mid-shard leaves the message to be delivered again;
- `task_reject_on_worker_lost`: when the pool process running a task dies (OOM killer,
  SIGKILL), the task goes back to its queue at once;
- `worker_prefetch_multiplier = 1` (with one pool process per worker): a worker holds one
  shard at a time and never reserves a second one another worker could run;
- the Redis transport's `visibility_timeout`: a message taken by a worker that vanished
  whole (the machine died) is handed out again after this long. It must be longer than the
  longest shard task, or a slow shard still running would be handed to a second worker.

Idempotent recording (the store's (run, shard) key) makes every redelivery harmless.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from celery import Celery, Task
from sqlalchemy.exc import OperationalError

from monitor.fleet.shards import DEFAULT_SHARDS

TASK = "monitor.fleet.check_shard"
DEFAULT_VISIBILITY_TIMEOUT_S = 4 * 3600
# Seconds between a worker's sweeps for messages whose worker vanished (kombu's default
# sweep runs every 10 s but scans Redis only every tenth time).
RESTORE_INTERVAL_S = 5


class FleetSetupError(Exception):
    """The environment does not say where the broker or the database is."""


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise FleetSetupError(f"{name}={value!r}: write a whole number") from None
    if number < 1:
        raise FleetSetupError(f"{name}={value!r}: must be at least 1")
    return number


def shard_count(option: int | None = None) -> int:
    """N: `--shards`, else MONITOR_SHARDS, else 8. Coordinator and workers must agree."""
    return option if option is not None else _int_env("MONITOR_SHARDS", DEFAULT_SHARDS)


def broker_url(option: str | None = None) -> str:
    url = option or os.environ.get("MONITOR_BROKER_URL", "").strip()
    if not url:
        raise FleetSetupError(
            "no broker: set MONITOR_BROKER_URL (e.g. redis://127.0.0.1:6379/0) or --broker"
        )
    return url


def create_app(broker: str | None = None) -> Celery:
    url = broker_url(broker)
    backend = os.environ.get("MONITOR_RESULT_BACKEND", "").strip() or (
        url if url.startswith(("redis://", "rediss://", "redis+socket://")) else None
    )
    app = Celery("monitor", broker=url, backend=backend, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_track_started=True,
        result_expires=7 * 86400,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": _int_env(
                "MONITOR_VISIBILITY_TIMEOUT", DEFAULT_VISIBILITY_TIMEOUT_S
            ),
            "unacked_restore_interval": RESTORE_INTERVAL_S,
            "unacked_restore_throttle": 1,
        },
        worker_send_task_events=False,
        worker_enable_remote_control=True,
    )
    # A database that is briefly away (restart, failover) costs a retry of the shard, not
    # the run; any other failure is reported to the coordinator as the shard's failure.
    app.task(
        name=TASK,
        bind=True,
        autoretry_for=(OperationalError,),
        retry_backoff=5,
        max_retries=5,
    )(_check_shard)
    return app


def _check_shard(self: Task[Any, Any], message: dict[str, Any]) -> dict[str, Any]:
    """Run one shard with the single-process engine and record it (once) in the store."""
    from monitor.fleet.work import ShardWork, execute

    work = ShardWork.from_message(message)
    worker = self.request.hostname or f"pid{os.getpid()}@{socket.gethostname()}"

    def progress(done: dict[str, int] | Any) -> None:
        self.update_state(state="PROGRESS", meta={"done": dict(done)})

    outcome = execute(work, _store(), worker=worker, progress=progress)
    return {
        "recorded": outcome.recorded,
        "done": outcome.per_list,
        "worker": worker,
        "checks": len(outcome.results),
    }


_STORES: dict[str, Any] = {}


def _store() -> Any:
    """One store per worker process, opened at its first task (MONITOR_DATABASE_URL)."""
    from monitor.store.database import Store, database_url

    url = database_url(None)
    if url not in _STORES:
        _STORES[url] = Store.open(url)
    return _STORES[url]
