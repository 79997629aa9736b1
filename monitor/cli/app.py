"""The `monitor` command line. Commands only parse options and call the library.

Each command lives in `monitor/cli/<name>.py` and registers itself on `app`.
"""

from __future__ import annotations

import sys
import traceback

import typer

from monitor.cli import (
    check,
    down_report,
    fix,
    history,
    importer,
    prune,
    readme,
    report,
    resources,
    schedule,
    status,
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
