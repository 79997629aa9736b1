"""`monitor worker`: Celery's own worker, listening to the fleet's shard queues."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from monitor.cli.common import DbOption, fail


def worker(
    ctx: typer.Context,
    db: DbOption = None,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            help="Celery broker URL \\[default: $MONITOR_BROKER_URL].",
            show_default=False,
        ),
    ] = None,
    shards: Annotated[
        int | None,
        typer.Option(
            "--shards",
            min=1,
            help="N: listen to shard queues 0..N-1 (the same N "
            "as `monitor fleet check`) \\[default: $MONITOR_SHARDS, else 8].",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            help="Pool processes; each runs one shard at a time (README: N and workers).",
        ),
    ] = 1,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Start a Celery worker for `monitor fleet check`, listening to every shard queue: each
    pool process runs one shard at a time (a shard's hosts are then checked by one process,
    with the single-process limits). Arguments after `--` go to `celery worker` as they are.

    Examples:

        MONITOR_BROKER_URL=redis://127.0.0.1:6379/0 \\
        MONITOR_DATABASE_URL=postgresql+psycopg://monitor@localhost/monitor monitor worker

        monitor worker -- --hostname w1@%h
    """
    from monitor.fleet.app import FleetSetupError, create_app, shard_count
    from monitor.fleet.shards import queues

    url = db or os.environ.get("MONITOR_DATABASE_URL", "").strip()
    if not url:
        raise fail(
            "set MONITOR_DATABASE_URL (or --db): the workers record into the database "
            "the coordinator reads"
        )
    os.environ["MONITOR_DATABASE_URL"] = url  # read again in the pool process
    try:
        app = create_app(broker)
        n = shard_count(shards)
    except FleetSetupError as exc:
        raise fail(str(exc)) from None
    argv = [
        *("worker", "--pool", "prefork", "--concurrency", str(concurrency)),
        *("--prefetch-multiplier", "1", "--queues", ",".join(queues(n))),
        *("--loglevel", loglevel, "--without-gossip", "--without-mingle", *ctx.args),
    ]
    app.worker_main(argv)


def register(app: typer.Typer) -> None:
    app.command(
        name="worker",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(worker)
