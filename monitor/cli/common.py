"""Options and error handling shared by every command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from monitor.config.catalog import Catalog, CatalogError, load_catalog

if TYPE_CHECKING:  # the store (sqlalchemy, alembic) loads only for commands that open it
    from monitor.store.database import Store

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

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
        "[default: $MONITOR_DATABASE_URL, else db/monitor.sqlite].",
        show_default=False,
    ),
]
DEFAULT_CATALOG = Path("resources.toml")


def fail(message: str, code: int = EXIT_CONFIG) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return typer.Exit(code)


def load_or_exit(path: Path) -> Catalog:
    try:
        return load_catalog(path)
    except CatalogError as exc:
        raise fail(str(exc)) from None


@contextmanager
def open_store(db: str | None) -> Iterator[Store]:
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.store.database import Store

    try:
        store = Store.open(db)
    except (SQLAlchemyError, OSError) as exc:
        raise fail(f"cannot open the database: {exc}") from None
    except ImportError as exc:  # the URL names a database driver that is not installed
        raise fail(
            f"cannot open the database: its driver {exc.name or exc} is not installed "
            "(for PostgreSQL: pip install 'curated-link-monitor[postgres]' and a "
            "postgresql+psycopg:// URL)"
        ) from None
    try:
        yield store
    finally:
        store.close()
