"""`monitor fleet check|status|publish`: many lists, checked by Celery workers into one
database (the library is monitor.fleet; this file parses options and prints)."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from monitor.cli.common import (
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_PROBLEMS,
    DbOption,
    console,
    err_console,
    fail,
    open_store,
)

if TYPE_CHECKING:
    from celery import Celery

    from monitor.fleet.config import Fleet
    from monitor.fleet.dispatch import Plan, Progress
    from monitor.fleet.lists import LoadedList
    from monitor.store.database import Store

# The run did not complete within --timeout: some shards never reported (README).
EXIT_INCOMPLETE = 4

fleet_app = typer.Typer(
    name="fleet",
    help="Many lists checked by Celery workers into one shared history (PostgreSQL).",
    no_args_is_help=True,
)

FleetArg = Annotated[Path, typer.Argument(help="The fleet file (TOML).", show_default=False)]
BrokerOption = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help="Celery broker URL \\[default: $MONITOR_BROKER_URL].",
        show_default=False,
    ),
]
ShardsOption = Annotated[
    int | None,
    typer.Option(
        "--shards",
        min=1,
        help="N, the number of shard queues; the workers must use the same "
        "\\[default: $MONITOR_SHARDS, else 8].",
        show_default=False,
    ),
]


def _shared_db(db: str | None) -> str:
    value = db or os.environ.get("MONITOR_DATABASE_URL", "").strip()
    if not value:
        raise fail(
            "a fleet's coordinator and workers share one database: pass --db or set "
            "MONITOR_DATABASE_URL (e.g. postgresql+psycopg://monitor@localhost/monitor)"
        )
    return value


def _load(fleet_file: Path, cache: Path | None) -> tuple[Fleet, list[LoadedList]]:
    from monitor.fleet.config import FleetError, load_fleet
    from monitor.fleet.lists import load_lists

    try:
        fleet = load_fleet(fleet_file)
        where = cache or fleet.path.resolve().parent / ".monitor-fleet"
        return fleet, load_lists(fleet, where)
    except FleetError as exc:
        raise fail(str(exc)) from None


@fleet_app.command(name="check")
def check(
    fleet_file: FleetArg,
    db: DbOption = None,
    broker: BrokerOption = None,
    shards: ShardsOption = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            help="Folder for clones of git lists "
            "\\[default: .monitor-fleet beside the fleet file].",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="Stop waiting after this many seconds (the run goes on; exit 4).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Start even though the previous fleet run is incomplete "
            "(its shards may still be running: two runs at once halve politeness).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Check every list of the fleet file with the running workers, as one run.

    Splits the links into one task per shard (a stable hash of each host into N shard
    queues), sends them to the broker, and waits, printing progress per list. The run is
    complete when every shard has recorded its results; each list's `monitor report`,
    `readme` and `status` then read the shared history as after `monitor check`.

    Examples:

        monitor fleet check fleet.toml

        MONITOR_SHARDS=16 monitor fleet check fleet.toml --timeout 3600

    Exit codes: 0 healthy, 1 broken links, 2 usage or configuration error, 3 the network
    was unusable, 4 the run did not complete before --timeout (`monitor fleet status`).
    """
    from celery.exceptions import CeleryError
    from kombu.exceptions import OperationalError

    from monitor.domain.models import Verdict
    from monitor.fleet.app import FleetSetupError, create_app, shard_count
    from monitor.fleet.dispatch import check_local, plan, start, wait
    from monitor.store.fleet import FleetStore

    url = _shared_db(db)
    fleet, lists = _load(fleet_file, cache)
    try:
        app = create_app(broker)
        n = shard_count(shards)
    except FleetSetupError as exc:
        raise fail(str(exc)) from None
    the_plan = plan(fleet, lists, n)
    if not the_plan.works:
        console.print("the fleet's lists have no links")
        raise typer.Exit(EXIT_OK)
    with open_store(url) as store:
        previous = FleetStore(store).latest_run()
        if previous is not None and not previous.complete and not force:
            raise fail(
                f"fleet run {previous.run.id} is still incomplete (missing shards: "
                f"{', '.join(previous.missing)}); wait for it (`monitor fleet status`) or "
                "pass --force"
            )
        _warn_uncovered(app, the_plan.shards, n)
        try:
            run_id = start(app, store, the_plan)
        except (CeleryError, OperationalError, OSError) as exc:
            raise fail(f"cannot reach the broker: {exc}") from None
        total = sum(the_plan.lists.values())
        err_console.print(
            f"fleet run {run_id}: {total} links in {len(the_plan.lists)} lists, "
            f"{len(the_plan.shards)} shards of {n}"
        )
        check_local(store, the_plan, run_id)
        printer = _Printer(the_plan, quiet)
        try:
            last = wait(app, store, the_plan, run_id, printer, timeout)
        except KeyboardInterrupt:
            err_console.print(
                f"stopped waiting: run {run_id} goes on in the workers (`monitor fleet status`)"
            )
            raise typer.Exit(EXIT_INCOMPLETE) from None
        state = last.state
        for shard, why in sorted(last.failed.items()):
            err_console.print(f"[bold red]shard {shard} failed:[/] {escape(why)}", soft_wrap=True)
        if not state.complete:
            err_console.print(
                f"[bold yellow]run {run_id} incomplete:[/] shard(s) {', '.join(state.missing)} "
                "have not reported; the workers go on (`monitor fleet status`)"
            )
            raise typer.Exit(EXIT_INCOMPLETE)
        verdicts = _summary(store, run_id, lists)
    if not state.run.network_ok:
        err_console.print("[bold yellow]network unusable:[/] the run is recorded, no state changed")
        raise typer.Exit(EXIT_NETWORK)
    raise typer.Exit(EXIT_PROBLEMS if verdicts[Verdict.BROKEN] else EXIT_OK)


def _warn_uncovered(app: Celery, shards: list[str], n: int) -> None:
    """Say when no running worker consumes some shard's queue (its tasks would wait)."""
    from celery.exceptions import CeleryError
    from kombu.exceptions import OperationalError

    from monitor.fleet.dispatch import uncovered

    try:
        missing = uncovered(app, shards)
    except (CeleryError, OperationalError, OSError) as exc:
        raise fail(f"cannot reach the broker: {exc}") from None
    if missing is None:
        err_console.print(
            "[yellow]no worker answered:[/] the tasks wait in the broker until one "
            "starts (`monitor worker`)"
        )
    elif missing:
        err_console.print(
            f"[yellow]no running worker consumes shard queue(s) {', '.join(missing)}:[/] "
            f"start workers with --shards {n}"
        )


class _Printer:
    """One line per list when its count moves (at most every 2 s), one per shard recorded."""

    def __init__(self, the_plan: Plan, quiet: bool) -> None:
        self.plan, self.quiet = the_plan, quiet
        self.shown: dict[str, int] = {}
        self.reported: set[str] = set()
        self.last = 0.0

    def __call__(self, progress: Progress) -> None:
        if self.quiet:
            return
        for shard, worker in sorted(progress.state.reported.items()):
            if shard not in self.reported:
                self.reported.add(shard)
                links = len(self.plan.works[shard].items)
                sys.stderr.write(f"shard {shard}: {links} links recorded by {worker}\n")
        now = time.monotonic()
        if now - self.last < 2 and not progress.state.complete:
            return
        self.last = now
        for name, total in self.plan.lists.items():
            done = progress.done.get(name, 0)
            if self.shown.get(name) != done:
                self.shown[name] = done
                sys.stderr.write(f"{name}: {done}/{total} links checked\n")
        sys.stderr.flush()


def _summary(store: Store, run_id: int, lists: list[LoadedList]) -> Counter[object]:
    from monitor.store.fleet import FleetStore

    verdict_of = {r.resource_id: r.verdict for r in FleetStore(store).results(run_id)}
    everything: Counter[object] = Counter()
    for item in lists:
        counts = Counter(verdict_of[r.id] for r in item.catalog.resources if r.id in verdict_of)
        everything.update(counts)
        parts = ", ".join(f"{n} {v.value}" for v, n in sorted(counts.items()))
        console.print(f"{escape(item.name)}: {parts or 'nothing checked'}")
    return everything


@fleet_app.command(name="status")
def status(
    db: DbOption = None,
    run: Annotated[
        int | None, typer.Option(help="A run id \\[default: the newest fleet run].")
    ] = None,
) -> None:
    """Say whether a fleet run is complete, and which shards have not reported.

    Examples:

        monitor fleet status

        monitor fleet status --run 42 --db postgresql+psycopg://monitor@localhost/monitor

    Exit 0 when complete, 4 when some shard has not reported yet.
    """
    from monitor.store.fleet import FleetStore

    with open_store(_shared_db(db)) as store:
        fleet = FleetStore(store)
        state = fleet.latest_run() if run is None else fleet.state(run)
    if state is None:
        raise fail("no fleet run in this database" if run is None else f"no fleet run {run}")
    r = state.run
    console.print(
        f"fleet run {r.id}, started {r.started_at:%Y-%m-%d %H:%M:%S} UTC: "
        + ("complete" if state.complete else "partial")
        + f", {len(state.reported)}/{len(state.shards)} shards reported"
        + ("" if r.network_ok else ", network unusable")
    )
    for shard in state.shards:
        worker = state.reported.get(shard)
        console.print(
            f"  shard {shard}: "
            + (f"recorded by {escape(worker)}" if worker else "[yellow]not reported[/]")
        )
    raise typer.Exit(EXIT_OK if state.complete else EXIT_INCOMPLETE)


@fleet_app.command(name="publish")
def publish(
    fleet_file: FleetArg,
    db: DbOption = None,
    cache: Annotated[Path | None, typer.Option(help="Folder for clones of git lists.")] = None,
) -> None:
    """Write each list's status page (index.html, badge.svg, status.md) to its `publish`
    folder, from the shared history: what `monitor report` writes for one list.

    Examples:

        monitor fleet publish fleet.toml

        monitor fleet publish fleet.toml --db postgresql+psycopg://monitor@localhost/monitor
    """
    from monitor.domain.models import utcnow
    from monitor.files import write_if_changed
    from monitor.reports.context import load_context
    from monitor.reports.html import write_site
    from monitor.reports.markdown import render_status_md

    _fleet, lists = _load(fleet_file, cache)
    now = utcnow()
    with open_store(_shared_db(db)) as store:
        # One snapshot per `down_after` in use: the state machine runs in the query.
        snapshots = {
            n: store.snapshot(now, down_after=n)
            for n in {item.catalog.settings.down_after for item in lists}
        }
    for item in lists:
        out = item.spec.publish
        if out is None:
            console.print(f"{escape(item.name)}: no publish folder, skipped")
            continue
        ctx = load_context(item.catalog, snapshots[item.catalog.settings.down_after], now)
        try:
            write_site(ctx, out)
            write_if_changed(out / "status.md", render_status_md(ctx, clock=False).encode("utf-8"))
        except OSError as exc:
            raise fail(f"list {item.name!r}: cannot write {out}: {exc}") from None
        console.print(f"{escape(item.name)}: {ctx.healthy}/{ctx.total} healthy -> {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(fleet_app, name="fleet")
