"""`monitor schedule`: the long-running process that checks on the catalog's cron lines."""

from __future__ import annotations

import functools
import logging
from typing import Annotated

import typer

from monitor.cli.common import DEFAULT_CATALOG, CatalogOption, DbOption, fail, load_or_exit


def schedule(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    run_now: Annotated[
        bool, typer.Option("--run-now/--no-run-now", help="Also run the full check once at start.")
    ] = False,
    misfire_grace: Annotated[
        int,
        typer.Option(
            help="Seconds a missed run may be late and still run (once, misfires coalesced)."
        ),
    ] = 3600,
) -> None:
    """Run checks on the cron lines of the catalog's \\[schedule] table until stopped.

    full_check (default "0 3 * * *") checks everything; failing_check (default
    "0 */3 * * *") re-checks the resources whose last check failed, to confirm or clear
    them quickly. After each recorded run, the status page (site/), status.md and the
    README tables are regenerated beside the catalog. One run at a time; SIGINT or
    SIGTERM stops cleanly (a run in progress is abandoned, never half-recorded). Logs one
    line per run on stderr.

    Examples:

        monitor schedule

        monitor schedule --run-now --db sqlite:///var/lib/monitor.sqlite
    """
    from monitor.run.jobs import check_and_record, publish
    from monitor.run.scheduler import Job, MonitorScheduler, cron

    cat = load_or_exit(catalog)
    tz = cat.schedule.timezone
    try:
        full_trigger = cron(cat.schedule.full_check, tz)
        failing_trigger = cron(cat.schedule.failing_check, tz)
    except (ValueError, LookupError) as exc:
        raise fail(f"{catalog}: [schedule] has an invalid cron line or timezone: {exc}") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    jobs = [
        Job(
            "full-check",
            full_trigger,
            functools.partial(check_and_record, catalog, db, after=[publish]),
            wait_if_busy=True,
            run_now=run_now,
        ),
        Job(
            "failing-check",
            failing_trigger,
            functools.partial(check_and_record, catalog, db, only_failing=True, after=[publish]),
        ),
    ]
    MonitorScheduler(jobs, misfire_grace_s=misfire_grace).run_until_signalled()


def register(app: typer.Typer) -> None:
    app.command(name="schedule")(schedule)
