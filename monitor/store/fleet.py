"""The store's side of a fleet run: one `run` row shared by every shard, and a shard's
results written exactly once.

A fleet run (`monitor fleet check`) is one ordinary run row, so each list's reports read the
history exactly as they read a single-process run. Beside it, `fleet_run` names the shards the
run waits for, and `run_shard` has one row per shard that reported, keyed by (run, shard): the
key is what makes recording idempotent, whatever the broker redelivers. The run is complete
(`finished_at` set) only when every expected shard reported; until then its note says which
shards are missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, func
from sqlalchemy import select as sa_select
from sqlmodel import JSON, Field, Session, SQLModel, col, select

from monitor.domain.models import CheckResult, Resource, Run, utcnow
from monitor.store import summary
from monitor.store.database import (
    CheckRow,
    ResourceRow,
    RunRow,
    Store,
    _result_from_row,
    _row_from_result,
    _run_from_row,
    applied,
)

# The network counts as unusable when at least this share of the run's hosts failed below
# HTTP (the rule of monitor.run.pipeline.network_usable, summed over shards: each host
# belongs to exactly one shard, so the shards' tallies add up to the run's).
NETWORK_DOWN_SHARE = 0.8
NETWORK_DOWN_MIN_HOSTS = 2


class FleetRunRow(SQLModel, table=True):
    __tablename__ = "fleet_run"

    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    )
    shards: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    lists: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RunShardRow(SQLModel, table=True):
    __tablename__ = "run_shard"

    run_id: int = Field(
        sa_column=Column(Integer, ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    )
    shard: str = Field(sa_column=Column(String, primary_key=True))
    worker: str = ""
    reported_at: datetime
    checks: int = 0
    hosts: int = 0  # distinct hosts checked in this shard
    hosts_down: int = 0  # of which every check failed below HTTP
    network_ok: bool = True


@dataclass(frozen=True)
class ShardTally:
    """What a shard tells the run about the network, besides its results."""

    hosts: int
    hosts_down: int
    network_ok: bool


@dataclass(frozen=True)
class FleetRunState:
    run: Run
    shards: tuple[str, ...]  # every shard the run waits for
    reported: dict[str, str]  # shard -> worker that recorded it
    lists: dict[str, int]  # list name -> links

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(s for s in self.shards if s not in self.reported)

    @property
    def complete(self) -> bool:
        return not self.missing


def run_usable(shards: Iterable[ShardTally]) -> bool:
    """The run's network verdict from its shards' host tallies (see NETWORK_DOWN_SHARE)."""
    tallies = list(shards)
    hosts = sum(t.hosts for t in tallies)
    down = sum(t.hosts_down for t in tallies)
    if hosts == 0:
        return all(t.network_ok for t in tallies)
    if down == hosts:
        return False
    if hosts < NETWORK_DOWN_MIN_HOSTS:
        return True
    return down / hosts < NETWORK_DOWN_SHARE


def _partial_note(state_missing: Sequence[str], total: int) -> str:
    shown = ", ".join(state_missing[:8]) + (" …" if len(state_missing) > 8 else "")
    return f"partial: {total - len(state_missing)} of {total} shards reported (missing: {shown})"


class FleetStore:
    """Fleet runs on top of a `Store` (PostgreSQL in production; SQLite works for one host)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def start_run(
        self, shards: Sequence[str], lists: dict[str, int], trigger: str = "fleet"
    ) -> int:
        """A new run waiting for `shards`; nothing counts as finished until they report."""
        if not shards:
            raise ValueError("a fleet run needs at least one shard")
        with Session(self.engine) as session, session.begin():
            run = RunRow(
                started_at=utcnow(),
                finished_at=None,
                network_ok=True,
                trigger=trigger,
                note=_partial_note(list(shards), len(shards)),
            )
            session.add(run)
            session.flush()
            assert run.id is not None
            session.add(FleetRunRow(run_id=run.id, shards=list(shards), lists=dict(lists)))
            return run.id

    def recorded(self, run_id: int, shard: str) -> bool:
        with Session(self.engine) as session:
            return session.get(RunShardRow, (run_id, shard)) is not None

    def record_shard(
        self,
        run_id: int,
        shard: str,
        results: Sequence[CheckResult],
        resources: Sequence[Resource],
        tally: ShardTally,
        worker: str = "",
    ) -> bool:
        """Write one shard's results for a run, once: False (and nothing written) when the
        shard already reported, as when the broker redelivers a task whose worker died after
        committing. One transaction; the run row is locked first, so shards reporting at the
        same moment see each other and exactly one of them completes the run."""
        with Session(self.engine) as session, session.begin():
            run = session.get(RunRow, run_id, with_for_update=True)
            fleet = session.get(FleetRunRow, run_id)
            if run is None or fleet is None:
                raise LookupError(f"no fleet run {run_id} in this database")
            if shard not in fleet.shards:
                raise ValueError(f"run {run_id} expects no shard {shard!r}")
            if session.get(RunShardRow, (run_id, shard)) is not None:
                return False
            now = utcnow()
            for resource in resources:
                row = session.get(ResourceRow, resource.id)
                if row is None:
                    session.add(
                        ResourceRow(
                            id=resource.id,
                            url=resource.url,
                            kind=resource.kind.value,
                            section=resource.section,
                            label=resource.label,
                            first_seen=run.started_at,
                        )
                    )
                else:
                    row.url, row.kind = resource.url, resource.kind.value
                    row.section, row.label = resource.section, resource.label
            session.flush()  # resources before the checks that name them
            usable_before = bool(run.network_ok)
            rows = [_row_from_result(run_id, result) for result in results]
            session.add_all(rows)
            session.add(
                RunShardRow(
                    run_id=run_id,
                    shard=shard,
                    worker=worker,
                    reported_at=now,
                    checks=len(results),
                    hosts=tally.hosts,
                    hosts_down=tally.hosts_down,
                    network_ok=tally.network_ok,
                )
            )
            session.flush()
            reported = list(session.exec(select(RunShardRow).where(RunShardRow.run_id == run_id)))
            run.network_ok = run_usable(
                ShardTally(r.hosts, r.hosts_down, r.network_ok) for r in reported
            )
            session.add(run)
            session.flush()
            conn = session.connection()
            if run.network_ok == usable_before:
                summary.record(
                    conn,
                    [applied(row) for row in rows],
                    usable=run.network_ok,
                    down_after=self.store.down_after,
                )
            else:  # the shards so far now count otherwise: their resources start over
                in_run = session.scalars(
                    sa_select(col(CheckRow.resource_id)).where(col(CheckRow.run_id) == run_id)
                ).all()
                summary.rebuild(
                    conn,
                    set(in_run),
                    self.store.down_after or summary.stored_down_after(conn),
                )
            done = {r.shard for r in reported}
            missing = [s for s in fleet.shards if s not in done]
            if missing:
                run.note = _partial_note(missing, len(fleet.shards))
            else:
                run.finished_at = now
                run.note = (
                    ""
                    if run.network_ok
                    else ("network unusable: nearly every host failed at DNS or connect")
                )
            session.add(run)
            return True

    def state(self, run_id: int) -> FleetRunState | None:
        with Session(self.engine) as session:
            run = session.get(RunRow, run_id)
            fleet = session.get(FleetRunRow, run_id)
            if run is None or fleet is None:
                return None
            reported = {
                r.shard: r.worker
                for r in session.exec(select(RunShardRow).where(RunShardRow.run_id == run_id))
            }
            return FleetRunState(
                run=_run_from_row(run),
                shards=tuple(fleet.shards),
                reported=reported,
                lists=dict(fleet.lists),
            )

    def latest_run(self) -> FleetRunState | None:
        """The newest fleet run, complete or not."""
        with Session(self.engine) as session:
            newest = session.scalar(sa_select(func.max(col(FleetRunRow.run_id))))
        return self.state(int(newest)) if newest is not None else None

    def results(self, run_id: int) -> list[CheckResult]:
        """Every check stored for a run, in the order they were written."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(CheckRow).where(CheckRow.run_id == run_id).order_by(col(CheckRow.id))
            )
            return [_result_from_row(row) for row in rows]
