"""Options and error handling shared by every command."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from monitor.config.catalog import Catalog, CatalogError, load_catalog
from monitor.domain.text import inert

if TYPE_CHECKING:  # the store (sqlalchemy, alembic) loads only for commands that open it
    from monitor.store.database import Store

# No emoji codes: "resources.toml:100: ..." must not print "resources.toml💯" (issue 16).
console = Console(highlight=False, emoji=False)
err_console = Console(stderr=True, highlight=False, emoji=False)
# Untrusted text longer than this is cut in terminal output (an error once echoed 200 KB).
SHOWN_LIMIT = 2000


def shown(value: object, limit: int = SHOWN_LIMIT) -> Text:
    """Untrusted text (a title, a URL, an error) for a table cell or a message: no Rich markup,
    no control or bidi characters (no cursor moves, no OSC 8 hyperlinks), bounded."""
    return Text(inert(str(value), limit) or "")


# Exit codes, one meaning each (README): 0 healthy, 1 problems found, 2 usage or
# configuration error, 3 network unusable.
EXIT_OK, EXIT_PROBLEMS, EXIT_CONFIG, EXIT_NETWORK = 0, 1, 2, 3

CatalogOption = Annotated[
    Path,
    typer.Option("--catalog", "-c", help="The catalog file.", show_default=True),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a file path or an SQLAlchemy URL "
        "\\[default: $MONITOR_DATABASE_URL, else db/monitor.sqlite beside the catalog].",
        show_default=False,
    ),
]
DEFAULT_CATALOG = Path("resources.toml")


def fail(message: str, code: int = EXIT_CONFIG) -> typer.Exit:
    err_console.print(Text.assemble(("error:", "bold red"), " ", shown(message)), soft_wrap=True)
    return typer.Exit(code)


def load_or_exit(path: Path) -> Catalog:
    try:
        return load_catalog(path)
    except CatalogError as exc:
        raise fail(str(exc)) from None


# Python packages behind SQLAlchemy URLs, and how to install each (`ImportError.name`).
DRIVER_PACKAGES = {
    "psycopg": "pip install 'curated-link-monitor[postgres]' "
    "(psycopg 3, for postgresql+psycopg:// URLs)",
    "psycopg2": "pip install psycopg2-binary (or use a postgresql+psycopg:// URL with "
    "'curated-link-monitor[postgres]')",
    "pymysql": "pip install pymysql",
    "MySQLdb": "pip install mysqlclient",
}


def missing_package(exc: ImportError) -> str:
    """One line naming the Python package that failed to import and how to install it."""
    name = (exc.name or "").split(".")[0]
    if name in DRIVER_PACKAGES:
        return (
            f"the database driver {name} is not installed; install it with: {DRIVER_PACKAGES[name]}"
        )
    return (
        f"the Python package {name or '?'} could not be imported ({exc}); "
        "reinstall monitor's dependencies (make setup, or pip install curated-link-monitor)"
    )


def _writable(path: Path) -> bool:
    # SQLite in WAL mode writes beside the file (-wal, -shm), so the folder counts too.
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


@contextmanager
def open_store(
    db: str | None, *, reads_only: str | None = None, catalog: Path | None = None
) -> Iterator[Store]:
    """Open the store for a command, or exit 2 with a message naming the database.

    `reads_only` is the name of a command that only reads the history (`report`): such a
    command refuses a database that does not exist instead of creating an empty one, and
    opens a read-only SQLite file read-only instead of failing. Without `--db` (and
    MONITOR_DATABASE_URL) the database is db/monitor.sqlite beside `catalog`.
    """
    from monitor.store.database import Store, beside_catalog, database_url, sqlite_file
    from monitor.store.errors import StoreError, check_url

    db = beside_catalog(db, catalog)

    url = database_url(db)
    try:
        check_url(url)
    except StoreError as exc:
        raise fail(str(exc)) from None
    path = sqlite_file(url)
    try:
        if reads_only and path is not None and (not path.exists() or not _writable(path)):
            if path.exists():
                err_console.print(
                    f"note: {path} is read-only: `monitor {reads_only}` only reads, "
                    "so it opens it read-only",
                    markup=False,
                    soft_wrap=True,
                )
            store = Store.open(db, read_only=True)
        else:
            store = Store.open(db)
    except StoreError as exc:
        raise fail(str(exc)) from None
    except ImportError as exc:
        raise fail(f"cannot open the database {describe_db(url)}: {missing_package(exc)}") from None
    try:
        yield store
    finally:
        store.close()


def describe_db(url: str) -> str:
    from monitor.store.errors import describe

    return describe(url)
