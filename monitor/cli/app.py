"""The `monitor` command line. Commands only parse options and call the library.

Each command lives in `monitor/cli/<name>.py` and registers itself on `app`.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer

from monitor.cli import (
    check,
    down_report,
    fix,
    fleet,
    history,
    importer,
    init,
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
    rich_markup_mode="markdown",
)

DISTRIBUTION = "curated-link-monitor"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"monitor {_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Link-health and resource-metadata monitor for curated roadmaps and awesome lists."""


for module in (
    *(init, check, importer, resources, history, status, report, readme),
    *(schedule, fix, prune, down_report),
    *(fleet, worker),
):
    module.register(app)


# Exit code of a crash (a bug in monitor): never 1, which means "links are broken" and makes
# the nightly publish. 70 is EX_SOFTWARE from sysexits.h.
EXIT_INTERNAL = 70


def main() -> None:
    try:
        app()
    except Exception as exc:  # SystemExit and KeyboardInterrupt pass through
        traceback.print_exc()
        sys.stderr.write(
            f"monitor: internal error ({type(exc).__name__}): this is a bug in monitor, "
            f"not a verdict about any link; exit {EXIT_INTERNAL}\n"
        )
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
