"""Database failures in the user's terms, and the read-only way to open an SQLite history.

Every failure to open or migrate the store becomes a `StoreError` whose message names the
database (a path for SQLite, the URL without its password otherwise) and says what to do,
instead of SQLAlchemy's `(sqlite3.OperationalError) unable to open database file`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

# SQLite's primary result codes (https://www.sqlite.org/rescode.html) that a user can act on.
_SQLITE_ADVICE = {
    "SQLITE_BUSY": "is busy: another monitor process is writing it; try again when it is done",
    "SQLITE_LOCKED": "is busy: another monitor process is writing it; try again when it is done",
    "SQLITE_READONLY": "is read-only: this command writes to it; make the file and its folder "
    "writable, or run a command that only reads",
    "SQLITE_CANTOPEN": "cannot be opened: its folder does not exist or cannot be written",
    "SQLITE_NOTADB": "is not an SQLite database (wrong --db path?)",
    "SQLITE_CORRUPT": "is damaged (SQLite reports corruption); restore it from a backup",
    "SQLITE_FULL": "cannot grow: the disk is full",
    "SQLITE_IOERR": "could not be read or written (an I/O error from the disk)",
}


class StoreError(Exception):
    """The database cannot be used; the message names it and says what to do."""


class StoreMissing(StoreError):
    """A command that only reads was pointed at a database that does not exist."""


def check_url(url: str) -> None:
    """Raise `StoreError` when `url` is not a database URL SQLAlchemy can use: an unknown
    scheme (`foo://`, Heroku's `postgres://`) or a malformed URL names what to write."""
    try:
        make_url(url).get_dialect()
    except ArgumentError as exc:
        scheme = url.split("://", 1)[0]
        hint = (
            "write postgresql+psycopg://user@host/dbname"
            if scheme in ("postgres", "postgresql+psycopg2cffi")
            else "give a file path for SQLite, or a URL such as sqlite:///db/monitor.sqlite or "
            "postgresql+psycopg://user@host/dbname"
        )
        raise StoreError(f"--db {scheme}://…: not a database URL monitor can use ({hint})") from exc


def describe(url: str) -> str:
    """The database as the user wrote it: an SQLite path, or the URL without its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url.split("://", 1)[0] + "://…"
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ":memory:"
        return database.removeprefix("file:").split("?", 1)[0]
    return parsed.render_as_string(hide_password=True)


def explain(url: str, exc: BaseException) -> str:
    """One line for a failed database operation, naming the database."""
    where = describe(url)
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.Error):
        name = getattr(orig, "sqlite_errorname", "") or ""
        for code, advice in _SQLITE_ADVICE.items():
            if name.startswith(code):
                return f"{where} {advice}"
        return f"{where}: SQLite error: {orig}"
    if isinstance(orig, OSError):
        return f"{where}: {orig.strerror or orig}"
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return f"cannot open the database {where}: {text}"


@contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Turn SQLAlchemy and OS errors raised inside into a `StoreError` naming `url`."""
    try:
        yield
    except (SQLAlchemyError, OSError, sqlite3.Error) as exc:
        raise StoreError(explain(url, exc)) from exc


def refuse_read_only(url: str, path: Path) -> None:
    """Raise `StoreError` when a writer is pointed at an SQLite file it cannot write.

    The folder counts too: in WAL mode SQLite writes `-wal` and `-shm` files beside it.
    """
    if path.is_dir():
        raise StoreError(f"{describe(url)} is a folder, not a database file")
    folder_ok = os.access(path.parent, os.W_OK)
    if (path.exists() and not os.access(path, os.W_OK)) or not folder_ok:
        raise StoreError(f"{describe(url)} {_SQLITE_ADVICE['SQLITE_READONLY']}")


def _query_only(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# The newest migration under db/migrations/versions (a test checks it against Alembic's
# head): a store already there opens without importing Alembic, a third of a second.
SCHEMA_HEAD = "0005"


def current_revision(connection: Connection, *, strict: bool = False) -> str | None:
    """The schema revision a database is at (None: not created by monitor). `strict`: an
    error other than a missing version table is raised, not taken for "no schema"."""
    try:
        with connection.begin_nested() if connection.in_transaction() else nullcontext():
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        if strict and "alembic_version" not in str(getattr(exc, "orig", None) or exc):
            raise
        return None


def open_sqlite_read_only(url: str) -> Engine:
    """An engine that reads an existing SQLite file and can write nothing.

    Tries SQLite's `mode=ro` first; a WAL database in a folder we cannot write (no `-shm`
    file can be made) then opens with `immutable=1`, which is right for a file no other
    process is writing (https://www.sqlite.org/uri.html). Raises `StoreMissing` when the
    file does not exist and `StoreError` when it cannot be read or its schema is older than
    this version of monitor (upgrading it needs write access).
    """
    where = describe(url)
    database = make_url(url).database or ""
    path = Path(database)
    if not database or database == ":memory:":
        raise StoreError(f"{where}: an in-memory database has no history to read")
    if path.is_dir():
        raise StoreError(f"{where} is a folder, not a database file")
    if not path.is_file():
        raise StoreMissing(
            f"{where} does not exist: this command only reads the history "
            "(check --db, or run `monitor check` first to create it)"
        )
    last: BaseException | None = None
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        engine = create_engine(
            f"sqlite:///file:{quote(str(path.resolve()))}?{flags}&uri=true",
            json_deserializer=orjson.loads,
        )
        event.listen(engine, "connect", _query_only)
        try:
            with engine.connect() as connection:
                current = current_revision(connection, strict=True)
        except SQLAlchemyError as exc:
            engine.dispose()
            last = exc
            continue
        if current != SCHEMA_HEAD:
            engine.dispose()
            raise StoreError(
                f"{where} was written by another version of monitor (schema {current}) and "
                "upgrading it needs write access: make it writable and run the command again"
            )
        return engine
    assert last is not None
    raise StoreError(explain(url, last)) from last
