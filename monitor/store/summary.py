"""Each resource's state, kept up to date as runs are recorded (issue 14).

Reports used to run the state machine over the whole history on every read: 4.8 s of window
functions at 3,000 resources x 90 days, growing with every night kept. Instead, the machine's
own state lives beside the history and moves one step per recorded check:

- `resource_summary`, one row per resource: the machine (failure streak, the last
  `FLAKY_WINDOW` good/bad flags, the current state and since when), the newest usable check
  applied, the ids of the last `RECENT` usable checks, the last `SPARK_POINTS` response times,
  and the counts uptime notes need (first usable check, usable and ignored checks);
- `state_change`, one row per change of state (what `queries.transitions` answers), with the
  detail its timeline entry shows, so it outlives the check a prune may delete.

The step (`Machine.step`) is written again here on purpose, not imported from
`monitor.domain.state.replay`: the tests compare the two on random histories, on SQLite and
PostgreSQL. When a check cannot simply be appended (it is older than one already applied, its
run's network verdict changed afterwards, the summary was built with another `down_after`),
the resource is rebuilt from its stored checks (`rebuild`), as migration 0004 does for every
resource of an existing database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from monitor.domain.models import OFFLINE_CHECKERS, Verdict

# Copies of monitor.domain.state's constants would drift: import them.
from monitor.domain.state import FLAKY_TRANSITIONS, FLAKY_WINDOW, SPARK_POINTS

RECENT = 3  # usable checks a snapshot reads in full per resource (latest, previous, metadata)
LINES = 10  # checks of any run a resource's page lists (reports.context.DETAIL_CHECKS)
DEFAULT_DOWN_AFTER = 2
_GOOD = frozenset({Verdict.OK.value, Verdict.MOVED.value})
_BAD = frozenset({Verdict.BROKEN.value, Verdict.ERROR.value})
_CHUNK = 500

# Tables of their own metadata: the ORM models of monitor.store.database do not need them,
# and migration 0004 creates them.
_metadata = MetaData()
summary_table = Table(
    "resource_summary",
    _metadata,
    Column("resource_id", String, primary_key=True),
    Column("down_after", Integer, nullable=False),
    Column("state", String),  # None: no usable check yet
    Column("since", DateTime),
    Column("streak", Integer, nullable=False),
    Column("flags", String, nullable=False),  # "1" good, "0" bad, oldest first
    Column("last_at", DateTime),  # the newest check applied, of any run
    Column("last_id", Integer),
    # The last RECENT usable checks and the last LINES checks of any run, as [id, epoch s]
    # pairs, and the time of the oldest of each: a snapshot reads them with a range join on
    # the history index (`check.checked_at >= recent_from`), not by thousands of ids.
    Column("recent", JSON, nullable=False),
    Column("recent_from", DateTime),
    Column("lines", JSON, nullable=False),
    Column("lines_from", DateTime),
    Column("spark", JSON, nullable=False),  # response times of the last SPARK_POINTS
    Column("first_usable", DateTime),
    Column("usable", Integer, nullable=False),
    Column("ignored", Integer, nullable=False),
)
change_table = Table(
    "state_change",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource_id", String, nullable=False),
    Column("check_id", Integer, nullable=False),  # no foreign key: prune may delete the check
    Column("checked_at", DateTime, nullable=False),
    Column("state", String, nullable=False),
    Column("verdict", String, nullable=False),
    Column("streak", Integer, nullable=False),
    Column("detail", Text, nullable=False),
)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _naive(value: datetime | None) -> datetime | None:
    # Stored as UTC wall time (the columns are `timestamp without time zone`).
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Applied:
    """One stored check, as much of it as the machine and a timeline entry need."""

    id: int
    resource_id: str
    checked_at: datetime
    verdict: str
    checker: str  # an offline checker's checks count in any run (`StoredCheck.usable`)
    elapsed_ms: int | None  # the response time: first attempt's, else the whole check's
    detail: str  # monitor.domain.state.check_detail of the check


def detail_of(verdict: str, moved_to: str | None, error: str | None, status: int | None,
              note: str | None) -> str:  # fmt: skip
    """`monitor.domain.state.check_detail` from the columns (no CheckResult needed)."""
    if verdict == Verdict.MOVED.value and moved_to:
        return moved_to
    return error or (f"HTTP {status}" if status else "") or note or ""


@dataclass
class Machine:
    """One resource's summary row, in memory."""

    resource_id: str
    down_after: int
    state: str | None = None
    since: datetime | None = None
    streak: int = 0
    flags: str = ""
    last_at: datetime | None = None
    last_id: int | None = None
    recent: list[tuple[int, float]] = field(default_factory=list)
    lines: list[tuple[int, float]] = field(default_factory=list)
    spark: list[int | None] = field(default_factory=list)
    first_usable: datetime | None = None
    usable: int = 0
    ignored: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)  # new state_change rows

    def appendable(self, check: Applied) -> bool:
        """A check newer than every one applied can be stepped; an older one cannot."""
        if self.last_at is None or self.last_id is None:
            return True
        return (check.checked_at, check.id) > (self.last_at, self.last_id)

    def _flips(self) -> int:
        return sum(1 for a, b in pairwise(self.flags) if a != b)

    def apply(self, check: Applied, usable: bool) -> None:
        """Apply one check, newer than any applied: a usable one moves the machine."""
        if usable:
            self.step(check)
        else:
            self.ignored += 1
        self.last_at, self.last_id = check.checked_at, check.id
        self.lines = [*self.lines, (check.id, check.checked_at.timestamp())][-LINES:]

    def step(self, check: Applied) -> None:
        """Apply one usable check (the rules of `monitor.domain.state.replay`)."""
        verdict = check.verdict
        if verdict == Verdict.SKIPPED.value:
            state = "skipped"
        elif verdict == Verdict.BLOCKED.value:
            state = "blocked"
        elif verdict in _BAD:
            self.streak += 1
            self.flags = (self.flags + "0")[-FLAKY_WINDOW:]
            if self.streak >= self.down_after:
                state = "down"
            elif self._flips() >= FLAKY_TRANSITIONS:
                state = "flaky"
            else:
                state = "failing"
        else:
            was_down = self.streak >= self.down_after
            self.streak = 0
            self.flags = (self.flags + "1")[-FLAKY_WINDOW:]
            if was_down:
                state = "recovered"
            elif self._flips() >= FLAKY_TRANSITIONS:
                state = "flaky"
            else:
                state = "moved" if verdict == Verdict.MOVED.value else "ok"
        if state != self.state:
            self.state, self.since = state, check.checked_at
            self.changes.append(
                {
                    "resource_id": self.resource_id,
                    "check_id": check.id,
                    "checked_at": _naive(check.checked_at),
                    "state": state,
                    "verdict": verdict,
                    "streak": self.streak if verdict in _BAD else 0,
                    "detail": check.detail,
                }
            )
        self.recent = [*self.recent, (check.id, check.checked_at.timestamp())][-RECENT:]
        self.spark = [*self.spark, check.elapsed_ms][-SPARK_POINTS:]
        if self.first_usable is None:
            self.first_usable = check.checked_at
        self.usable += 1

    def row(self) -> dict[str, Any]:
        return {
            "resource_id": self.resource_id,
            "down_after": self.down_after,
            "state": self.state,
            "since": _naive(self.since),
            "streak": self.streak,
            "flags": self.flags,
            "last_at": _naive(self.last_at),
            "last_id": self.last_id,
            "recent": [list(pair) for pair in self.recent],
            "recent_from": _oldest(self.recent),
            "lines": [list(pair) for pair in self.lines],
            "lines_from": _oldest(self.lines),
            "spark": self.spark,
            "first_usable": _naive(self.first_usable),
            "usable": self.usable,
            "ignored": self.ignored,
        }


def _oldest(pairs: Sequence[tuple[int, float]]) -> datetime | None:
    if not pairs:
        return None
    # A second early: the float may round up, and the reader keeps only the listed ids.
    oldest = datetime.fromtimestamp(min(at for _, at in pairs), UTC) - timedelta(seconds=1)
    return oldest.replace(tzinfo=None)


def _machine(row: Any) -> Machine:
    return Machine(
        resource_id=row.resource_id,
        down_after=row.down_after,
        state=row.state,
        since=_aware(row.since),
        streak=row.streak,
        flags=row.flags,
        last_at=_aware(row.last_at),
        last_id=row.last_id,
        recent=[(int(i), float(at)) for i, at in row.recent or []],
        lines=[(int(i), float(at)) for i, at in row.lines or []],
        spark=list(row.spark or []),
        first_usable=_aware(row.first_usable),
        usable=row.usable,
        ignored=row.ignored,
    )


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def load(conn: Connection, ids: Collection[str]) -> dict[str, Machine]:
    out: dict[str, Machine] = {}
    for chunk in _chunks(sorted(ids)):
        for row in conn.execute(
            select(summary_table).where(summary_table.c.resource_id.in_(chunk))
        ):
            out[row.resource_id] = _machine(row)
    return out


def load_all(conn: Connection) -> dict[str, Machine]:
    return {row.resource_id: _machine(row) for row in conn.execute(select(summary_table))}


def _save(conn: Connection, machines: Iterable[Machine], existing: Collection[str]) -> None:
    fresh: list[dict[str, Any]] = []
    known: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for m in machines:
        (known if m.resource_id in existing else fresh).append(m.row())
        changes.extend(m.changes)
        m.changes = []
    if fresh:
        conn.execute(insert(summary_table), fresh)
    for row in known:
        conn.execute(
            update(summary_table)
            .where(summary_table.c.resource_id == row["resource_id"])
            .values(**{k: v for k, v in row.items() if k != "resource_id"})
        )
    if changes:
        conn.execute(insert(change_table), changes)


def analyze(conn: Connection) -> None:
    """Refresh SQLite's table statistics, sampled (a few ms at any size). Without them its
    planner scans the whole history index for a snapshot's range joins instead of starting
    from the 3,000 summaries (PostgreSQL's autovacuum keeps its own statistics)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")


def stored_down_after(conn: Connection) -> int:
    """The `down_after` the summaries were built with (the default when there are none)."""
    value = conn.execute(select(summary_table.c.down_after).limit(1)).scalar()
    return int(value) if value is not None else DEFAULT_DOWN_AFTER


def record(
    conn: Connection,
    checks: Sequence[Applied],
    *,
    usable: bool,
    down_after: int | None = None,
) -> None:
    """Advance the summaries of the resources these newly stored checks belong to (one run's
    checks, in the run's write transaction; `usable`: the run's network worked, and an
    offline checker's check counts anyway). A check that cannot be appended makes its
    resource be rebuilt from the stored history instead."""
    if not checks:
        return
    wanted = down_after if down_after is not None else stored_down_after(conn)
    machines = load(conn, {c.resource_id for c in checks})
    existing = set(machines)
    stale: set[str] = set()
    for check in sorted(checks, key=lambda c: (c.checked_at, c.id)):
        rid = check.resource_id
        if rid in stale:
            continue
        m = machines.get(rid)
        if m is None:
            m = machines[rid] = Machine(rid, wanted)
        if m.down_after != wanted or not m.appendable(check):
            stale.add(rid)
        else:
            m.apply(check, usable or check.checker in OFFLINE_CHECKERS)
    _save(conn, (m for rid, m in machines.items() if rid not in stale), existing)
    if stale:
        rebuild(conn, stale, wanted)
    analyze(conn)


def _stored(conn: Connection, ids: Sequence[str], first_ms: bool) -> Iterable[tuple[Applied, bool]]:
    """Every stored check of these resources, oldest first per resource, with whether its
    run's network was usable. `first_ms`: the schema has that column (migration 0005)."""
    from monitor.store.queries import check, run  # the same tables, as Core

    response: Any = check.c.elapsed_ms
    if first_ms:
        response = func.coalesce(check.c.first_ms, check.c.elapsed_ms)
    query = (
        select(
            check.c.id,
            check.c.resource_id,
            check.c.checked_at,
            check.c.verdict,
            check.c.checker,
            response.label("elapsed_ms"),
            check.c.moved_to,
            check.c.error,
            check.c.http_status,
            check.c.note,
            run.c.network_ok,
        )
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .where(check.c.resource_id.in_(ids))
        .order_by(check.c.resource_id, check.c.checked_at, check.c.id)
    )
    for row in conn.execute(query):
        applied = Applied(
            id=row.id,
            resource_id=row.resource_id,
            checked_at=_aware(row.checked_at) or row.checked_at,
            verdict=row.verdict,
            checker=row.checker,
            elapsed_ms=row.elapsed_ms,
            detail=detail_of(row.verdict, row.moved_to, row.error, row.http_status, row.note),
        )
        yield applied, bool(row.network_ok) or row.checker in OFFLINE_CHECKERS


def rebuild(
    conn: Connection, ids: Collection[str] | None, down_after: int, *, first_ms: bool = True
) -> int:
    """Rebuild the summaries (and state changes) of `ids` (None: every resource with a
    stored check) from their stored checks; returns how many resources were rebuilt.
    `first_ms=False`: for migration 0004, which runs before the column exists."""
    from monitor.store.queries import check

    if ids is None:
        conn.execute(delete(change_table))
        conn.execute(delete(summary_table))
        ids = [r for (r,) in conn.execute(select(check.c.resource_id).distinct())]
    done = 0
    for chunk in _chunks(sorted(ids)):
        conn.execute(delete(change_table).where(change_table.c.resource_id.in_(chunk)))
        conn.execute(delete(summary_table).where(summary_table.c.resource_id.in_(chunk)))
        machines: dict[str, Machine] = {}
        for applied, usable in _stored(conn, chunk, first_ms):
            m = machines.get(applied.resource_id)
            if m is None:
                m = machines[applied.resource_id] = Machine(applied.resource_id, down_after)
            m.apply(applied, usable)
        _save(conn, machines.values(), ())
        done += len(machines)
    analyze(conn)
    return done


def refresh_after_thin(conn: Connection) -> None:
    """After a prune deleted old checks: the counts, first usable check and recent ids of
    each summary follow what is still stored; the machine and its state changes stay, as
    they were derived from the whole history."""
    from sqlalchemy import case, func

    from monitor.store import queries
    from monitor.store.queries import check, run

    usable = queries._usable()
    counts = conn.execute(
        select(
            check.c.resource_id,
            func.min(case((usable, check.c.checked_at))),
            func.sum(case((usable, 1), else_=0)),
            func.sum(case((usable, 0), else_=1)),
        )
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .group_by(check.c.resource_id)
    ).all()
    for rid, first, n_usable, n_ignored in counts:
        if isinstance(first, str):  # SQLite's MIN over a CASE loses the column's type
            first = datetime.fromisoformat(first)
        conn.execute(
            update(summary_table)
            .where(summary_table.c.resource_id == rid)
            .values(first_usable=first, usable=int(n_usable or 0), ignored=int(n_ignored or 0))
        )
    machines = load(conn, {r for r, *_ in counts})
    wanted = sorted({i for m in machines.values() for i, _ in (*m.recent, *m.lines)})
    alive: set[int] = set()
    for chunk in _chunks(wanted):
        alive.update(i for (i,) in conn.execute(select(check.c.id).where(check.c.id.in_(chunk))))
    for m in machines.values():
        recent = [p for p in m.recent if p[0] in alive]
        lines = [p for p in m.lines if p[0] in alive]
        if recent != m.recent or lines != m.lines:
            m.recent, m.lines = recent, lines
            row = m.row()
            conn.execute(
                update(summary_table)
                .where(summary_table.c.resource_id == m.resource_id)
                .values(**{k: row[k] for k in ("recent", "recent_from", "lines", "lines_from")})
            )
