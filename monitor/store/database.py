"""The store: SQLModel tables, Alembic migrations, and conversions to the core types.

Only this module touches a database session. Migrations under `db/migrations` are applied
whenever a store is opened, so an old database is upgraded in place.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, delete, event, exists, func, update
from sqlalchemy import select as sa_select  # sqlmodel's select types at most 4 columns
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import JSON, Column, Field, Session, SQLModel, col, create_engine, select

from monitor.domain.models import CheckResult, Hop, Metadata, Resource, Run, Verdict
from monitor.domain.models import StoredCheck as StoredCheck  # re-exported: its old home
from monitor.domain.snapshot import HistorySnapshot
from monitor.paths import data_dir
from monitor.store.errors import (
    check_url,
    open_sqlite_read_only,
    refuse_read_only,
    translate_errors,
)

DEFAULT_DB = Path("db") / "monitor.sqlite"


def migrations_dir() -> Path:
    return data_dir("db", "migrations")


class ResourceRow(SQLModel, table=True):
    __tablename__ = "resource"

    id: str = Field(primary_key=True)
    url: str = Field(index=True)
    kind: str
    section: str
    label: str
    first_seen: datetime


class RunRow(SQLModel, table=True):
    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(index=True)
    finished_at: datetime | None = None
    network_ok: bool = True
    trigger: str = "cli"
    note: str = ""


class CheckRow(SQLModel, table=True):
    __tablename__ = "check"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    resource_id: str = Field(foreign_key="resource.id", index=True)
    url: str
    checker: str
    checked_at: datetime
    verdict: str = Field(index=True)
    http_status: int | None = None
    final_url: str | None = None
    redirect_chain: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    elapsed_ms: int | None = None
    error: str | None = None
    note: str | None = None
    moved_to: str | None = None
    partial: bool = False
    network_failure: bool = False
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


@dataclass(frozen=True)
class CheckKey:
    """The few columns a retention policy needs about one stored check."""

    id: int
    resource_id: str
    checked_at: datetime
    verdict: str
    usable: bool  # its run's network worked


@dataclass(frozen=True)
class ThinReport:
    cutoff: datetime
    checks_before: int
    checks_after: int
    runs_before: int
    runs_after: int
    compacted: int
    dry_run: bool = False

    @property
    def checks_deleted(self) -> int:
        return self.checks_before - self.checks_after

    @property
    def runs_deleted(self) -> int:
        return self.runs_before - self.runs_after


# keep(old checks, newest check id of each resource) -> ids of the old checks to keep
KeepPolicy = Callable[[Sequence[CheckKey], Sequence[int]], set[int]]
# compact(meta) -> smaller meta for a kept old check, or None to leave it as it is
CompactPolicy = Callable[[dict[str, Any] | None], dict[str, Any] | None]
_Id = TypeVar("_Id", int, str)
_CHUNK = 500  # ids per DELETE/UPDATE statement: well under SQLite's variable limit


def _chunks(ids: Sequence[_Id]) -> Iterable[Sequence[_Id]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _count(session: Session, table: Any) -> int:
    return int(session.scalar(sa_select(func.count()).select_from(table)) or 0)


def _aware(value: datetime) -> datetime:
    # The columns drop tzinfo (SQLite; PostgreSQL's timestamp without time zone, read in a
    # UTC session); everything we write is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _run_from_row(row: RunRow) -> Run:
    return Run(
        id=row.id,
        started_at=_aware(row.started_at),
        finished_at=_aware(row.finished_at) if row.finished_at else None,
        network_ok=row.network_ok,
        trigger=row.trigger,
        note=row.note,
    )


def _result_from_row(row: CheckRow) -> CheckResult:
    return CheckResult(
        resource_id=row.resource_id,
        url=row.url,
        verdict=Verdict(row.verdict),
        checker=row.checker,
        status=row.http_status,
        final_url=row.final_url,
        redirects=tuple(Hop(url=h["url"], status=h["status"]) for h in row.redirect_chain or []),
        elapsed_ms=row.elapsed_ms,
        error=row.error,
        note=row.note,
        moved_to=row.moved_to,
        partial=row.partial,
        network_failure=row.network_failure,
        meta=Metadata.from_dict(row.meta),
        checked_at=_aware(row.checked_at),
    )


def _row_from_result(run_id: int, result: CheckResult) -> CheckRow:
    return CheckRow(
        run_id=run_id,
        resource_id=result.resource_id,
        url=result.url,
        checker=result.checker,
        checked_at=result.checked_at,
        verdict=result.verdict.value,
        http_status=result.status,
        final_url=result.final_url,
        redirect_chain=[{"url": h.url, "status": h.status} for h in result.redirects],
        elapsed_ms=result.elapsed_ms,
        error=result.error,
        note=result.note,
        moved_to=result.moved_to,
        partial=result.partial,
        network_failure=result.network_failure,
        meta=result.meta.to_dict(),
    )


def beside_catalog(db: str | None, catalog: Path | None) -> str | None:
    """The database to open: `--db`, else MONITOR_DATABASE_URL, else db/monitor.sqlite in the
    catalog's folder, so that running from another folder cannot split the history."""
    if db is not None or os.environ.get("MONITOR_DATABASE_URL") or catalog is None:
        return db
    return str(catalog.parent / DEFAULT_DB)


def database_url(db: str | Path | None) -> str:
    """`--db` wins, then MONITOR_DATABASE_URL, then db/monitor.sqlite. A path means SQLite."""
    value = str(db) if db is not None else os.environ.get("MONITOR_DATABASE_URL")
    if not value:
        value = str(DEFAULT_DB)
    if "://" in value:
        return value
    return f"sqlite:///{Path(value)}"


def sqlite_file(url: str) -> Path | None:
    """The file behind an SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database.removeprefix("file:").split("?", 1)[0])


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _postgres_utc(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    # The columns are `timestamp without time zone` holding UTC wall time. PostgreSQL turns
    # the aware datetimes we write (and compare against) into that type through the session's
    # time zone, the server's default: on a server set to, say, America/Sao_Paulo every stored
    # time would shift by 3 hours. A UTC session stores and reads them as they are. Autocommit
    # so the SET is not undone by the pool's rollback (SQLAlchemy's documented recipe).
    autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True
    cursor = dbapi_conn.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_conn.autocommit = autocommit


# A writer waits this long for another to finish (a prune of a large history holds the lock
# for seconds), then the whole write is tried again, WRITE_ATTEMPTS times in all.
BUSY_TIMEOUT_S = 60
WRITE_ATTEMPTS = 3
# PostgreSQL advisory lock key serializing schema migrations ("monitor" in ASCII, truncated).
_MIGRATION_LOCK = 0x6D6F6E69746F72


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """One process at a time creates or upgrades an SQLite schema: several processes opening
    a brand-new database together used to race on `CREATE TABLE`. The lock is an flock on a
    file beside the database (released by the kernel if the process dies)."""
    path = sqlite_file(url)
    if path is None:
        yield
        return
    with path.with_name(path.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there.

    Serialized across processes: a file lock for SQLite, an advisory lock for PostgreSQL."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    url = engine.url.render_as_string(hide_password=False)
    with _migration_lock(url), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _locked(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "locked" in text or "busy" in text


_R = TypeVar("_R")


def retry_locked(write: Callable[[], _R]) -> _R:
    """Run a whole write transaction, again when SQLite says the database is locked or busy
    (after its own `BUSY_TIMEOUT_S` wait, or at once for a stale WAL snapshot)."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return write()
        except OperationalError as exc:
            if attempt == WRITE_ATTEMPTS or not _locked(exc):
                raise
            time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


_UPSERT_CHUNK = 500  # rows per INSERT: 6 columns each, well under SQLite's variable limit


def _upsert_resources(
    session: Session, resources: Sequence[Resource], first_seen: datetime
) -> None:
    """Insert new resources, update the catalog fields of known ones (`first_seen` stays)."""
    rows: list[dict[str, Any]] = [
        {
            "id": r.id,
            "url": r.url,
            "kind": r.kind.value,
            "section": r.section,
            "label": r.label,
            "first_seen": first_seen,
        }
        for r in {r.id: r for r in resources}.values()
    ]
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        for values in rows:  # other databases: one row at a time, as before
            row = session.get(ResourceRow, values["id"])
            if row is None:
                session.add(ResourceRow(**values))
            else:
                for key in ("url", "kind", "section", "label"):
                    setattr(row, key, values[key])
        return
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for start in range(0, len(rows), _UPSERT_CHUNK):
        stmt = insert(ResourceRow).values(rows[start : start + _UPSERT_CHUNK])
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={key: stmt.excluded[key] for key in ("url", "kind", "section", "label")},
        )
        session.execute(stmt)


class Store:
    """History of runs and checks. Open with `Store.open`; close when done."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, db: str | Path | None = None, *, read_only: bool = False) -> Store:
        """Open (and migrate) the store; `read_only` opens an existing SQLite file without
        writing anything, not even a migration (`StoreError` when its schema is out of date).

        Raises `StoreError` with the database named (see `monitor.store.errors`).
        """
        url = database_url(db)
        check_url(url)
        parsed = make_url(url)
        if read_only and parsed.get_backend_name() == "sqlite":
            return cls(open_sqlite_read_only(url))
        path = sqlite_file(url)
        if path is not None:
            with translate_errors(url):
                path.parent.mkdir(parents=True, exist_ok=True)
            refuse_read_only(url, path)
        engine = create_engine(url)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        elif parsed.get_backend_name() == "postgresql":
            event.listen(engine, "connect", _postgres_utc, insert=True)
        with translate_errors(url):
            migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def record_run(
        self, run: Run, results: Sequence[CheckResult], resources: Sequence[Resource]
    ) -> int:
        """Write a whole run in one transaction: all of it lands, or none of it does.

        Resource rows are upserted, so two runs adding the same new resources at once both
        land; a writer that finds the database locked waits, then tries again."""
        return retry_locked(lambda: self._record_run(run, results, resources))

    def _record_run(
        self, run: Run, results: Sequence[CheckResult], resources: Sequence[Resource]
    ) -> int:
        with Session(self.engine) as session, session.begin():
            _upsert_resources(session, resources, run.started_at)
            run_row = RunRow(
                started_at=run.started_at,
                finished_at=run.finished_at,
                network_ok=run.network_ok,
                trigger=run.trigger,
                note=run.note,
            )
            session.add(run_row)
            session.flush()
            assert run_row.id is not None
            for result in results:
                session.add(_row_from_result(run_row.id, result))
            return run_row.id

    # -- reading ---------------------------------------------------------------------------

    def runs(self, limit: int | None = None) -> list[Run]:
        """Runs, newest first."""
        with Session(self.engine) as session:
            query = select(RunRow).order_by(col(RunRow.started_at).desc(), col(RunRow.id).desc())
            if limit is not None:
                query = query.limit(limit)
            return [_run_from_row(row) for row in session.exec(query)]

    def resource_ids(self) -> dict[str, str]:
        """Stored resources: id → last known URL."""
        with Session(self.engine) as session:
            return {row.id: row.url for row in session.exec(select(ResourceRow))}

    def history(self, resource_id: str, limit: int | None = None) -> list[StoredCheck]:
        """Checks of one resource, newest first."""
        with Session(self.engine) as session:
            query = (
                select(CheckRow, RunRow)
                .join(RunRow, col(CheckRow.run_id) == col(RunRow.id))
                .where(CheckRow.resource_id == resource_id)
                .order_by(col(CheckRow.checked_at).desc(), col(CheckRow.id).desc())
            )
            if limit is not None:
                query = query.limit(limit)
            return [
                StoredCheck(run=_run_from_row(r), result=_result_from_row(c))
                for c, r in session.exec(query)
            ]

    def all_history(self, since: datetime | None = None) -> dict[str, list[StoredCheck]]:
        """Every resource's checks, oldest first: the input of state derivation and reports."""
        with Session(self.engine) as session:
            query = (
                select(CheckRow, RunRow)
                .join(RunRow, col(CheckRow.run_id) == col(RunRow.id))
                .order_by(col(CheckRow.checked_at), col(CheckRow.id))
            )
            if since is not None:
                query = query.where(col(CheckRow.checked_at) >= since)
            out: dict[str, list[StoredCheck]] = {}
            for c, r in session.exec(query):
                out.setdefault(c.resource_id, []).append(
                    StoredCheck(run=_run_from_row(r), result=_result_from_row(c))
                )
            return out

    def snapshot(self, now: datetime, *, down_after: int = 2, full: bool = True) -> HistorySnapshot:
        """What reports show, answered by SQL (`monitor.store.queries`) in one read
        transaction: states, recent checks, uptime windows... never the whole history.
        `full=False` (README, down-report): only what the latest states need."""
        from monitor.store.queries import load_snapshot  # it builds on this module

        return load_snapshot(self, now, down_after=down_after, full=full)

    def latest(self, resource_id: str, *, usable_only: bool = False) -> CheckResult | None:
        """The newest check of a resource (optionally only from runs whose network worked)."""
        return self.latest_many([resource_id], usable_only=usable_only).get(resource_id)

    def latest_many(
        self, resource_ids: Iterable[str], *, usable_only: bool = False
    ) -> dict[str, CheckResult]:
        """Resource id -> its newest check, for many resources in one query (per 500 ids).

        Resources never checked are absent. `usable_only`: only checks from runs whose network
        worked (what a new run may reuse or compare against).
        """
        ids = sorted(set(resource_ids))
        out: dict[str, CheckResult] = {}
        with Session(self.engine) as session:
            for chunk in _chunks(ids):
                rank = (
                    func.row_number()
                    .over(
                        partition_by=col(CheckRow.resource_id),
                        order_by=(col(CheckRow.checked_at).desc(), col(CheckRow.id).desc()),
                    )
                    .label("rank")
                )
                ranked = (
                    sa_select(col(CheckRow.id).label("id"), rank)
                    .join(RunRow, col(CheckRow.run_id) == col(RunRow.id))
                    .where(col(CheckRow.resource_id).in_(chunk))
                )
                if usable_only:
                    ranked = ranked.where(col(RunRow.network_ok).is_(True))
                newest = ranked.subquery()
                query = (
                    select(CheckRow)
                    .join(newest, col(CheckRow.id) == newest.c.id)
                    .where(newest.c.rank == 1)
                )
                for row in session.exec(query):
                    out[row.resource_id] = _result_from_row(row)
        return out

    def latest_at(self, urls: Iterable[str]) -> dict[str, CheckResult]:
        """URL -> the newest check made at that URL by a run whose network worked, whichever
        resource it was (`monitor fix` finding where a README's old link moved to)."""
        wanted = sorted(set(urls))
        out: dict[str, CheckResult] = {}
        with Session(self.engine) as session:
            for chunk in _chunks(wanted):
                query = (
                    select(CheckRow)
                    .join(RunRow, col(CheckRow.run_id) == col(RunRow.id))
                    .where(col(CheckRow.url).in_(chunk), col(RunRow.network_ok).is_(True))
                    .order_by(col(CheckRow.checked_at).desc(), col(CheckRow.id).desc())
                )
                for row in session.exec(query):
                    out.setdefault(row.url, _result_from_row(row))
        return out

    # -- retention (policy in monitor.store.retention) -------------------------------------------

    def thin(
        self,
        cutoff: datetime,
        keep: KeepPolicy,
        compact: CompactPolicy,
        *,
        dry_run: bool = False,
    ) -> ThinReport:
        """Drop the checks older than `cutoff` that `keep` does not keep, compact the kept
        ones, drop old runs left without checks: one transaction (rolled back on dry run)."""
        with Session(self.engine) as session:
            transaction = session.begin()
            checks_before = _count(session, CheckRow)
            runs_before = _count(session, RunRow)
            ranked = sa_select(
                col(CheckRow.id),
                func.row_number()
                .over(
                    partition_by=col(CheckRow.resource_id),
                    order_by=(col(CheckRow.checked_at).desc(), col(CheckRow.id).desc()),
                )
                .label("rank"),
            ).subquery()
            newest = list(session.scalars(sa_select(ranked.c.id).where(ranked.c.rank == 1)))
            rows = session.execute(
                sa_select(
                    col(CheckRow.id),
                    col(CheckRow.resource_id),
                    col(CheckRow.checked_at),
                    col(CheckRow.verdict),
                    col(RunRow.network_ok),
                )
                .join(RunRow, col(CheckRow.run_id) == col(RunRow.id))
                .where(col(CheckRow.checked_at) < cutoff)
            ).all()
            old = [CheckKey(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]
            kept = keep(old, newest)
            for chunk in _chunks(sorted(k.id for k in old if k.id not in kept)):
                session.execute(delete(CheckRow).where(col(CheckRow.id).in_(chunk)))
            compacted = 0
            for chunk in _chunks(sorted(k.id for k in old if k.id in kept)):
                metas = session.execute(
                    sa_select(col(CheckRow.id), col(CheckRow.meta)).where(
                        col(CheckRow.id).in_(chunk)
                    )
                ).all()
                updates = [
                    {"id": check_id, "meta": summary}
                    for check_id, meta in metas
                    if (summary := compact(meta)) is not None
                ]
                if updates:  # ORM bulk UPDATE by primary key: one executemany per chunk
                    session.execute(update(CheckRow), updates)
                    compacted += len(updates)
            has_checks = exists().where(col(CheckRow.run_id) == col(RunRow.id))
            session.execute(delete(RunRow).where(col(RunRow.started_at) < cutoff, ~has_checks))
            report = ThinReport(
                cutoff=cutoff,
                checks_before=checks_before,
                checks_after=_count(session, CheckRow),
                runs_before=runs_before,
                runs_after=_count(session, RunRow),
                compacted=compacted,
                dry_run=dry_run,
            )
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()
        return report

    def vacuum(self) -> None:
        """Give freed pages back to the file system (SQLite only; outside any transaction)."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.exec_driver_sql("VACUUM")
