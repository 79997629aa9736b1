"""Retention: thin old checks so the history stays small after years of nightly runs.

Policy, for checks older than the retention age (`settings.retention_days`, default 90):

- per resource and UTC day, keep the day's *representative*: its latest check from a run whose
  network was usable (the latest check of any run when the day has none);
- also keep every usable check whose verdict differs from the previously kept one (the first
  usable check ever differs from nothing, so it stays too), so the moment a resource went
  down or came back stays exact, not rounded to the day;
- drop the rest (re-checks of failing resources, checks from network-down runs);
- never drop the newest check of a resource, whatever its age;
- kept old checks are compacted: their scraped metadata shrinks to `SUMMARY_META` (what the
  timeline and trends show), the bulky rest (descriptions, topics, ETags...) goes;
- runs older than the age left with no check are removed.

Everything happens in one transaction: an interrupted prune changes nothing. This module is
part of the storage layer: it reads and writes the tables of `monitor.store` and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlmodel import Session, col

from monitor.models import utcnow
from monitor.store import CheckRow, RunRow, Store

# Metadata fields an old check keeps: what `monitor history`, trends and uptime still need.
SUMMARY_META = frozenset(
    {"title", "duration_s", "stars", "forks", "archived", "availability", "full_name"}
)
_CHUNK = 500  # ids per DELETE/UPDATE statement: well under SQLite's variable limit


@dataclass(frozen=True)
class CheckKey:
    """The few columns the policy needs about one stored check."""

    id: int
    resource_id: str
    checked_at: datetime
    verdict: str
    usable: bool


@dataclass(frozen=True)
class PruneReport:
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


def _day(moment: datetime) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def checks_to_keep(old: Iterable[CheckKey], newest: Iterable[int]) -> set[int]:
    """Ids of old checks the policy keeps (module docstring); `newest` are always kept."""
    keep = set(newest)
    by_resource: dict[str, list[CheckKey]] = {}
    for key in old:
        by_resource.setdefault(key.resource_id, []).append(key)
    for checks in by_resource.values():
        checks.sort(key=lambda k: (k.checked_at, k.id))
        days: dict[date, list[CheckKey]] = {}
        for key in checks:
            days.setdefault(_day(key.checked_at), []).append(key)
        last_verdict: str | None = None
        for day_checks in days.values():
            usable = [k for k in day_checks if k.usable]
            representative = (usable or day_checks)[-1]
            for key in usable:
                if key is representative:
                    break
                if key.verdict != last_verdict:
                    keep.add(key.id)
                    last_verdict = key.verdict
            keep.add(representative.id)
            if representative.usable:
                last_verdict = representative.verdict
    return keep


def compact_meta(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    """The summary of a check's metadata, or None when it is already compact."""
    if not meta or meta.keys() <= SUMMARY_META:
        return None
    return {k: v for k, v in meta.items() if k in SUMMARY_META}


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _count(session: Session, table: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def prune(
    store: Store, older_than_days: int, *, now: datetime | None = None, dry_run: bool = False
) -> PruneReport:
    """Apply the retention policy to checks older than `older_than_days`, in one transaction."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    with Session(store.engine) as session:
        transaction = session.begin()
        checks_before = _count(session, CheckRow)
        runs_before = _count(session, RunRow)
        ranked = select(
            col(CheckRow.id),
            func.row_number()
            .over(
                partition_by=col(CheckRow.resource_id),
                order_by=(col(CheckRow.checked_at).desc(), col(CheckRow.id).desc()),
            )
            .label("rank"),
        ).subquery()
        newest = list(session.scalars(select(ranked.c.id).where(ranked.c.rank == 1)))
        rows = session.execute(
            select(
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
        keep = checks_to_keep(old, newest)
        doomed = sorted(k.id for k in old if k.id not in keep)
        kept_old = sorted(k.id for k in old if k.id in keep)
        for chunk in _chunks(doomed):
            session.execute(delete(CheckRow).where(col(CheckRow.id).in_(chunk)))
        compacted = 0
        for chunk in _chunks(kept_old):
            metas = session.execute(
                select(col(CheckRow.id), col(CheckRow.meta)).where(col(CheckRow.id).in_(chunk))
            ).all()
            updates = [
                {"id": check_id, "meta": summary}
                for check_id, meta in metas
                if (summary := compact_meta(meta)) is not None
            ]
            if updates:  # ORM bulk UPDATE by primary key: one executemany per chunk
                session.execute(update(CheckRow), updates)
                compacted += len(updates)
        has_checks = exists().where(col(CheckRow.run_id) == col(RunRow.id))
        session.execute(delete(RunRow).where(col(RunRow.started_at) < cutoff, ~has_checks))
        report = PruneReport(
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


def vacuum(store: Store) -> None:
    """Give the freed pages back to the file system (SQLite only; outside any transaction)."""
    if store.engine.dialect.name != "sqlite":
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("VACUUM")
