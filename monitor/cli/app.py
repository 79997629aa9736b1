"""The `monitor` command line. Commands only parse options and call the library.

Each command lives in `monitor/cli/<name>.py` and registers itself on `app`.
"""

from __future__ import annotations

import typer

from monitor.cli import (
    check,
    down_report,
    fix,
    fleet,
    history,
    importer,
    prune,
    readme,
    report,
    resources,
    schedule,
    status,
    worker,
)

app = typer.Typer(
    name="monitor",
    help="Link-health and resource-metadata monitor for curated roadmaps and awesome lists.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)

for module in (
    *(check, importer, resources, history, status, report, readme),
    *(schedule, fix, prune, down_report),
    *(fleet, worker),
):
    module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
