"""History queries: what reports need, answered by the database, not by Python loops.

Every query is SQLAlchemy Core that SQLite (3.25+, window functions) and PostgreSQL both run,
and each one is tested on both. A report never loads the whole history: it asks for

- `latest`: each resource's newest check (optionally from a run whose network worked);
- `uptime`: per resource and window, how many checks could tell (good or bad) and how many
  were good, and when the resource's usable history begins (so a page says "10 days of
  data" instead of a 90-day figure built on 10 days);
- `recent`: the last N usable checks of each resource (sparklines, metadata gaps);
- `transitions`: the state machine of `monitor.domain.state.replay`, run in SQL with window
  functions, returning only the checks where a resource's state changed.

"Usable" means the check's run had a working network: the state machine ignores the others.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, Select

from monitor.domain.models import (
    OFFLINE_CHECKERS,
    CheckResult,
    Hop,
    Metadata,
    Run,
    StoredCheck,
    Verdict,
)
from monitor.domain.snapshot import (
    Change,
    HistoryLine,
    HistorySnapshot,
    ResourceHistory,
    WindowCount,
)
from monitor.domain.state import (
    FLAKY_TRANSITIONS,
    FLAKY_WINDOW,
    SPARK_POINTS,
    UPTIME_WINDOWS_DAYS,
    check_detail,
)
from monitor.store import summary
from monitor.store.database import CheckRow, RunRow, Store, _run_from_row

GOOD = (Verdict.OK.value, Verdict.MOVED.value)
BAD = (Verdict.BROKEN.value, Verdict.ERROR.value)
_CHUNK = 500

check = CheckRow.__table__  # type: ignore[attr-defined]
run = RunRow.__table__  # type: ignore[attr-defined]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class UptimeCount:
    """Checks in a window that could tell (good or bad) and how many of them were good."""

    days: int
    told: int
    good: int


@dataclass(frozen=True)
class UptimeRow:
    resource_id: str
    first_usable: datetime | None  # the oldest usable check: how far history goes
    usable: int  # usable checks, all time
    ignored: int  # checks from runs whose network was unusable, all time
    windows: tuple[UptimeCount, ...]


@dataclass(frozen=True)
class Point:
    """One usable check, light: for sparklines and recent-history strips."""

    check_id: int
    resource_id: str
    checked_at: datetime
    verdict: Verdict
    elapsed_ms: int | None


@dataclass(frozen=True)
class StateChange:
    """The check at which a resource entered `state` (monitor.domain.state.State values)."""

    check_id: int
    resource_id: str
    checked_at: datetime
    state: str
    verdict: Verdict
    failures: int  # the failure streak right after this check


def _usable() -> ColumnElement[bool]:
    """The checks the state machine counts (`StoredCheck.usable`, the same rule in SQL)."""
    condition: ColumnElement[bool] = or_(
        run.c.network_ok == true(), check.c.checker.in_(sorted(OFFLINE_CHECKERS))
    )
    return condition


def _in(column: Any, ids: Collection[str] | None) -> ColumnElement[bool]:
    if ids is None:
        return literal(True) == literal(True)
    condition: ColumnElement[bool] = column.in_(sorted(ids))
    return condition


def _from_newest() -> Any:
    """1 for a resource's newest check, 2 for the one before... Counted from the oldest, in the
    covering index's own order: a DESC window would make SQLite sort the whole history."""
    by_resource = func.count().over(partition_by=check.c.resource_id)
    position = func.row_number().over(
        partition_by=check.c.resource_id, order_by=(check.c.checked_at, check.c.id)
    )
    return by_resource - position + 1


def latest(
    conn: Connection, ids: Collection[str] | None = None, *, usable_only: bool = True
) -> dict[str, StoredCheck]:
    """Each resource's newest check (from a usable run when `usable_only`)."""
    ranked = (
        select(
            check.c.id,
            _from_newest().label("rank"),
        )
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .where(_in(check.c.resource_id, ids))
    )
    if usable_only:
        ranked = ranked.where(_usable())
    sub = ranked.subquery()
    return {
        item.result.resource_id: item
        for _, item in _full_checks(conn, select(sub.c.id).where(sub.c.rank == 1))
    }


def _full_select() -> Select[Any]:
    return select(
        check, run.c.started_at, run.c.finished_at, run.c.network_ok, run.c.trigger
    ).add_columns(run.c.note.label("run_note"))


def _full_checks(conn: Connection, id_query: Select[Any]) -> list[tuple[int, StoredCheck]]:
    return _stored_checks(
        conn.execute(
            _full_select()
            .select_from(check.join(run, run.c.id == check.c.run_id))
            .where(check.c.id.in_(id_query))
        ).mappings()
    )


def _stored_checks(rows: Iterable[Any]) -> list[tuple[int, StoredCheck]]:
    out = []
    for m in rows:
        # Plain values straight from the row: building ORM objects cost most of the time.
        result = CheckResult(
            resource_id=m["resource_id"],
            url=m["url"],
            verdict=Verdict(m["verdict"]),
            checker=m["checker"],
            status=m["http_status"],
            final_url=m["final_url"],
            redirects=tuple(
                Hop(url=h["url"], status=h["status"]) for h in m["redirect_chain"] or []
            ),
            elapsed_ms=m["elapsed_ms"],
            first_ms=m["first_ms"],
            error=m["error"],
            note=m["note"],
            moved_to=m["moved_to"],
            partial=bool(m["partial"]),
            network_failure=bool(m["network_failure"]),
            meta=Metadata.from_dict(m["meta"]),
            checked_at=_aware(m["checked_at"]),
        )
        stored_run = Run(
            id=m["run_id"],
            started_at=_aware(m["started_at"]),
            finished_at=_aware(m["finished_at"]) if m["finished_at"] else None,
            network_ok=bool(m["network_ok"]),
            trigger=m["trigger"],
            note=m["run_note"],
        )
        out.append((m["id"], StoredCheck(run=stored_run, result=result)))
    return out


def recent_checks(
    conn: Connection, n: int, ids: Collection[str] | None = None
) -> dict[str, list[StoredCheck]]:
    """The last `n` usable checks of each resource, full, oldest first."""
    ranked = (
        select(
            check.c.id,
            _from_newest().label("rank"),
        )
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .where(_usable(), _in(check.c.resource_id, ids))
        .subquery()
    )
    out: dict[str, list[StoredCheck]] = {}
    checks = _full_checks(conn, select(ranked.c.id).where(ranked.c.rank <= n))
    for _, item in sorted(checks, key=lambda c: (c[1].result.checked_at, c[0])):
        out.setdefault(item.result.resource_id, []).append(item)
    return out


def recent(conn: Connection, n: int, ids: Collection[str] | None = None) -> dict[str, list[Point]]:
    """The last `n` usable checks of each resource (light columns only), oldest first."""
    ranked = (
        select(
            check.c.id,
            check.c.resource_id,
            check.c.checked_at,
            check.c.verdict,
            func.coalesce(check.c.first_ms, check.c.elapsed_ms).label("elapsed_ms"),
            _from_newest().label("rank"),
        )
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .where(_usable(), _in(check.c.resource_id, ids))
        .subquery()
    )
    rows = conn.execute(
        select(
            ranked.c.id,
            ranked.c.resource_id,
            ranked.c.checked_at,
            ranked.c.verdict,
            ranked.c.elapsed_ms,
        )
        .where(ranked.c.rank <= n)
        .order_by(ranked.c.resource_id, ranked.c.checked_at, ranked.c.id)
    )
    out: dict[str, list[Point]] = {}
    for check_id, resource_id, at, verdict, ms in rows:
        out.setdefault(resource_id, []).append(
            Point(check_id, resource_id, _aware(at), Verdict(verdict), ms)
        )
    return out


def _line_columns() -> list[Any]:
    """The columns of a `HistoryLine`, light: the scraped title is read from the metadata
    JSON by the database; the response time is the first attempt's where stored."""
    return [
        check.c.checked_at,
        check.c.verdict,
        check.c.http_status,
        func.coalesce(check.c.first_ms, check.c.elapsed_ms).label("elapsed_ms"),
        check.c.meta["title"].as_string().label("title"),
        func.coalesce(check.c.moved_to, check.c.error, check.c.note, "").label("detail"),
        run.c.network_ok,
    ]


def _line(row: Sequence[Any]) -> HistoryLine:
    """A `HistoryLine` from the values of `_line_columns()`, in order."""
    at, verdict, status, ms, title, detail, network_ok = row
    return HistoryLine(
        _aware(at), Verdict(verdict), status, ms, title, detail or "", bool(network_ok)
    )


def history_lines(
    conn: Connection, n: int, ids: Collection[str] | None = None
) -> dict[str, list[HistoryLine]]:
    """The last `n` checks of each resource from any run (network-down ones too), newest
    first, light: the scraped title is read from the metadata JSON by the database.

    The ranking reads only the covering index; the wide rows (and their JSON) are read for
    the `n` kept checks of each resource, not for the whole history."""
    ranked = (
        select(check.c.id, _from_newest().label("rank"))
        .where(_in(check.c.resource_id, ids))
        .subquery()
    )
    rows = conn.execute(
        select(
            check.c.resource_id,
            check.c.id,
            *_line_columns(),
        )
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .where(check.c.id.in_(select(ranked.c.id).where(ranked.c.rank <= n)))
        .order_by(check.c.resource_id, check.c.checked_at.desc(), check.c.id.desc())
    )
    out: dict[str, list[HistoryLine]] = {}
    for rid, _id, *line in rows:
        out.setdefault(rid, []).append(_line(line))
    return out


def uptime(
    conn: Connection,
    now: datetime,
    windows: Sequence[int],
    ids: Collection[str] | None = None,
) -> dict[str, UptimeRow]:
    """Per resource: checks that could tell and good checks in each window ending at `now`,
    the oldest usable check, and counts of usable and ignored checks."""
    told = check.c.verdict.in_(GOOD + BAD)
    good = check.c.verdict.in_(GOOD)
    usable = _usable()
    columns: list[Any] = [
        check.c.resource_id,
        func.min(case((usable, check.c.checked_at))).label("first_usable"),
        func.sum(case((usable, 1), else_=0)).label("usable"),
        func.sum(case((usable, 0), else_=1)).label("ignored"),
    ]
    for days in windows:
        inside = and_(usable, check.c.checked_at > now - timedelta(days=days))
        columns.append(func.sum(case((and_(inside, told), 1), else_=0)).label(f"told_{days}"))
        columns.append(func.sum(case((and_(inside, good), 1), else_=0)).label(f"good_{days}"))
    rows = conn.execute(
        select(*columns)
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .where(_in(check.c.resource_id, ids), check.c.checked_at <= now)
        .group_by(check.c.resource_id)
    ).mappings()
    out = {}
    for m in rows:
        first = m["first_usable"]
        if isinstance(first, str):  # SQLite's MIN over a CASE loses the column's type
            first = datetime.fromisoformat(first)
        out[m["resource_id"]] = UptimeRow(
            resource_id=m["resource_id"],
            first_usable=_aware(first) if first is not None else None,
            usable=int(m["usable"] or 0),
            ignored=int(m["ignored"] or 0),
            windows=tuple(
                UptimeCount(d, int(m[f"told_{d}"] or 0), int(m[f"good_{d}"] or 0)) for d in windows
            ),
        )
    return out


def window_counts(
    conn: Connection,
    now: datetime,
    windows: Sequence[int],
    ids: Collection[str] | None = None,
) -> dict[str, tuple[UptimeCount, ...]]:
    """Per resource, `uptime`'s window counts alone: reads only the checks inside the
    longest window (the all-time counts come from the summaries)."""
    told = check.c.verdict.in_(GOOD + BAD)
    good = check.c.verdict.in_(GOOD)
    columns: list[Any] = [check.c.resource_id]
    for days in windows:
        inside = check.c.checked_at > now - timedelta(days=days)
        columns.append(func.sum(case((and_(inside, told), 1), else_=0)).label(f"told_{days}"))
        columns.append(func.sum(case((and_(inside, good), 1), else_=0)).label(f"good_{days}"))
    rows = conn.execute(
        select(*columns)
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .where(
            _usable(),
            _in(check.c.resource_id, ids),
            check.c.checked_at > now - timedelta(days=max(windows)),
            check.c.checked_at <= now,
        )
        .group_by(check.c.resource_id)
    ).mappings()
    return {
        m["resource_id"]: tuple(
            UptimeCount(d, int(m[f"told_{d}"] or 0), int(m[f"good_{d}"] or 0)) for d in windows
        )
        for m in rows
    }


def transitions(
    conn: Connection,
    *,
    down_after: int,
    flaky_window: int,
    flaky_transitions: int,
    ids: Collection[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, list[StateChange]]:
    """The checks at which each resource's state changed, oldest first.

    The state machine of `monitor.domain.state.replay` in window functions (tested against it).
    Windows partitioned by (resource, is-good-or-bad) see a resource's good/bad checks alone:
    `streak` counts the bad ones since the last good (a running count of goods partitions
    them), `flips` sums the good<->bad changes among the last `flaky_window` flags, and a good
    check after a streak of `down_after` is `recovered`. `blocked` and `skipped` checks take
    their own state and touch neither streak nor window. Each step reads only the one before
    (no join): every level is one pass over the covering index's order.
    `since`/`until` only filter the answer: the machine always runs over the whole history.
    """
    g = case((check.c.verdict.in_(GOOD), 1), (check.c.verdict.in_(BAD), 0), else_=None)
    usable = (
        select(
            check.c.id,
            check.c.resource_id,
            check.c.checked_at,
            check.c.verdict,
            g.label("g"),
            case((check.c.verdict.in_(GOOD + BAD), 1), else_=0).label("gb"),
        )
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .where(_usable(), _in(check.c.resource_id, ids))
    ).cte("usable_checks")

    def ordered(cte: Any) -> tuple[Any, Any]:
        return (cte.c.checked_at, cte.c.id)

    def keep(cte: Any) -> list[Any]:
        return [cte.c.id, cte.c.resource_id, cte.c.checked_at, cte.c.verdict, cte.c.g, cte.c.gb]

    u = usable
    previous_g = func.lag(u.c.g).over(partition_by=(u.c.resource_id, u.c.gb), order_by=ordered(u))
    flagged = select(
        *keep(u),
        func.sum(u.c.g).over(partition_by=u.c.resource_id, order_by=ordered(u)).label("goods"),
        case((and_(previous_g.is_not(None), previous_g != u.c.g), 1), else_=0).label("chg"),
    ).cte("flagged")
    f = flagged
    position = func.row_number().over(
        partition_by=(f.c.resource_id, f.c.gb, f.c.goods), order_by=ordered(f)
    )
    counted = select(
        *keep(f),
        func.sum(f.c.chg)
        .over(
            partition_by=(f.c.resource_id, f.c.gb),
            order_by=ordered(f),
            # a window of W flags holds W-1 adjacent pairs: `chg` of this row and W-2 before
            rows=(-(flaky_window - 2), 0),
        )
        .label("flips"),
        (position - case((func.coalesce(f.c.goods, 0) > 0, 1), else_=0)).label("streak"),
    ).cte("counted")
    c = counted
    prev_streak = func.lag(c.c.streak).over(
        partition_by=(c.c.resource_id, c.c.gb), order_by=ordered(c)
    )
    state = case(
        (c.c.verdict == Verdict.SKIPPED.value, "skipped"),
        (c.c.verdict == Verdict.BLOCKED.value, "blocked"),
        (and_(c.c.g == 0, c.c.streak >= down_after), "down"),
        (and_(c.c.g == 0, c.c.flips >= flaky_transitions), "flaky"),
        (c.c.g == 0, "failing"),
        (func.coalesce(prev_streak, 0) >= down_after, "recovered"),
        (c.c.flips >= flaky_transitions, "flaky"),
        (c.c.verdict == Verdict.MOVED.value, "moved"),
        else_="ok",
    )
    stated = select(
        c.c.id,
        c.c.resource_id,
        c.c.checked_at,
        c.c.verdict,
        state.label("state"),
        case((c.c.gb == 1, c.c.streak), else_=0).label("streak"),
    ).cte("stated")
    st = stated
    previous_state = func.lag(st.c.state).over(partition_by=st.c.resource_id, order_by=ordered(st))
    changed = select(
        st.c.id,
        st.c.resource_id,
        st.c.checked_at,
        st.c.verdict,
        st.c.state,
        st.c.streak,
        case(
            (previous_state.is_(None), 1),
            (previous_state != st.c.state, 1),
            else_=0,
        ).label("is_change"),
    ).subquery()
    query = select(
        changed.c.id,
        changed.c.resource_id,
        changed.c.checked_at,
        changed.c.verdict,
        changed.c.state,
        changed.c.streak,
    ).where(changed.c.is_change == 1)
    if since is not None:
        query = query.where(changed.c.checked_at >= since)
    if until is not None:
        query = query.where(changed.c.checked_at <= until)
    out: dict[str, list[StateChange]] = {}
    for check_id, resource_id, at, verdict, state_value, streak in conn.execute(
        query.order_by(changed.c.resource_id, changed.c.checked_at, changed.c.id)
    ):
        out.setdefault(resource_id, []).append(
            StateChange(
                check_id, resource_id, _aware(at), state_value, Verdict(verdict), int(streak or 0)
            )
        )
    return out


def _lines(
    conn: Connection, ids: Collection[str] | None, since: Any
) -> Iterable[tuple[int, str, HistoryLine]]:
    """(check id, resource id, line) of each resource's checks from `since`, a column of
    the summary table (see `_from_summaries`)."""
    sm = summary.summary_table
    rows = conn.execute(
        select(
            check.c.id,
            check.c.resource_id,
            *_line_columns(),
        )
        .select_from(
            sm.join(check, and_(check.c.resource_id == sm.c.resource_id,
                                check.c.checked_at >= since))
            .join(run, run.c.id == check.c.run_id)
        )
        .where(_in(sm.c.resource_id, ids))
    )  # fmt: skip
    for check_id, rid, *line in rows:
        yield check_id, rid, _line(line)


def checks_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, StoredCheck]:
    """Full checks by id (the detail of a transition, a feed entry)."""
    wanted = sorted(set(ids))
    out: dict[int, StoredCheck] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        out.update(_full_checks(conn, select(check.c.id).where(check.c.id.in_(chunk))))
    return out


def failure_streaks(conn: Connection, ids: Collection[str] | None = None) -> dict[str, int]:
    """Per resource, the bad usable checks since its last good one (`failure_streak`);
    resources with no bad check since are absent."""
    last_good = (
        select(check.c.resource_id, func.max(check.c.checked_at).label("at"))
        .select_from(check.join(run, run.c.id == check.c.run_id))
        .where(_usable(), check.c.verdict.in_(GOOD), _in(check.c.resource_id, ids))
        .group_by(check.c.resource_id)
        .subquery()
    )
    rows = conn.execute(
        select(check.c.resource_id, func.count())
        .select_from(
            check.join(run, run.c.id == check.c.run_id).outerjoin(
                last_good, last_good.c.resource_id == check.c.resource_id
            )
        )
        .where(
            _usable(),
            check.c.verdict.in_(BAD),
            _in(check.c.resource_id, ids),
            or_(last_good.c.at.is_(None), check.c.checked_at > last_good.c.at),
        )
        .group_by(check.c.resource_id)
    )
    return {resource_id: int(count) for resource_id, count in rows}


def snapshot(
    conn: Connection,
    now: datetime,
    *,
    ids: Collection[str] | None = None,
    down_after: int = 2,
    full: bool = True,
    recent_n: int = 3,
    lines: int = 10,
    points: int = SPARK_POINTS,
    runs: int = 20,
) -> HistorySnapshot:
    """Everything reports show, in a handful of queries, none of which loads the history.

    `full=False` (the README) skips what only the pages show: uptime windows, response
    times, the detail of each state change. The states, their changes and the counts come
    from the summaries kept as runs are recorded (`monitor.store.summary`); resources
    whose summary was kept with another `down_after` are answered by the SQL machine.
    """
    kept = {rid: m for rid, m in summary.load_all(conn).items() if ids is None or rid in ids}
    fits = recent_n <= summary.RECENT and points <= SPARK_POINTS and lines <= summary.LINES
    machines = {rid: m for rid, m in kept.items() if fits and m.down_after == down_after}
    slow = set(kept) - set(machines)
    out: dict[str, ResourceHistory] = {}
    if machines:
        out.update(
            _from_summaries(conn, now, machines, whole=ids is None and not slow, full=full,
                            recent_n=recent_n, lines=lines, points=points)
        )  # fmt: skip
    if slow:
        out.update(
            _by_sql(conn, now, ids=slow, down_after=down_after, full=full, recent_n=recent_n,
                    lines=lines, points=points)
        )  # fmt: skip
    run_rows = conn.execute(
        select(run).order_by(run.c.started_at.desc(), run.c.id.desc()).limit(runs)
    ).mappings()
    return HistorySnapshot(
        runs=tuple(_run_from_row(RunRow(**dict(m))) for m in run_rows), resources=out
    )


def _from_summaries(
    conn: Connection,
    now: datetime,
    machines: dict[str, summary.Machine],
    *,
    whole: bool,
    full: bool,
    recent_n: int,
    lines: int,
    points: int,
) -> dict[str, ResourceHistory]:
    ids = None if whole else set(machines)
    changes: dict[str, list[Change]] = {}
    ch = summary.change_table
    for rid, at, state_value, verdict, detail in conn.execute(
        select(ch.c.resource_id, ch.c.checked_at, ch.c.state, ch.c.verdict, ch.c.detail)
        .where(_in(ch.c.resource_id, ids))
        .order_by(ch.c.resource_id, ch.c.checked_at, ch.c.id)
    ):
        changes.setdefault(rid, []).append(
            Change(_aware(at), state_value, Verdict(verdict), detail if full else "")
        )
    sm = summary.summary_table
    wanted = {i for m in machines.values() for i, _ in m.recent[-recent_n:]}
    # Each resource's last checks by a range join on the history index, from the time the
    # summary names: one statement, whatever the number of resources or the history's length.
    query = (
        _full_select()
        .select_from(
            sm.join(check, and_(check.c.resource_id == sm.c.resource_id,
                                check.c.checked_at >= sm.c.recent_from))
            .join(run, run.c.id == check.c.run_id)
        )
        .where(_usable(), _in(sm.c.resource_id, ids))
    )  # fmt: skip
    recent_full: dict[str, list[StoredCheck]] = {}
    rows = (m for m in conn.execute(query).mappings() if m["id"] in wanted)
    for _, item in sorted(_stored_checks(rows), key=lambda c: (c[1].result.checked_at, c[0])):
        recent_full.setdefault(item.result.resource_id, []).append(item)
    ups = window_counts(conn, now, UPTIME_WINDOWS_DAYS, ids) if full else {}
    history: dict[str, list[HistoryLine]] = {}
    if full and lines:
        listed = {i for m in machines.values() for i, _ in m.lines[-lines:]}
        found = [
            (check_id, rid, line)
            for check_id, rid, line in _lines(conn, ids, sm.c.lines_from)
            if check_id in listed
        ]
        for _, rid, line in sorted(found, key=lambda c: (c[2].checked_at, c[0]), reverse=True):
            history.setdefault(rid, []).append(line)
    empty = tuple(UptimeCount(d, 0, 0) for d in UPTIME_WINDOWS_DAYS)
    out = {}
    for rid, m in machines.items():
        out[rid] = ResourceHistory(
            recent=tuple(recent_full.get(rid, ())),
            changes=tuple(changes.get(rid, ())),
            failures=m.streak,
            windows=tuple(WindowCount(w.days, w.told, w.good) for w in ups.get(rid, empty))
            if full
            else (),
            first_usable=m.first_usable if full else None,
            usable=m.usable if full else 0,
            ignored=m.ignored if full else 0,
            response_ms=tuple(m.spark[-points:]) if full else (),
            lines=tuple(history.get(rid, ())),
        )
    return out


def _by_sql(
    conn: Connection,
    now: datetime,
    *,
    ids: Collection[str],
    down_after: int,
    full: bool,
    recent_n: int,
    lines: int,
    points: int,
) -> dict[str, ResourceHistory]:
    """The snapshot of `ids` from the history itself: the state machine in SQL."""
    changes = transitions(
        conn,
        down_after=down_after,
        flaky_window=FLAKY_WINDOW,
        flaky_transitions=FLAKY_TRANSITIONS,
        ids=ids,
    )
    recent_full = recent_checks(conn, recent_n, ids)
    streaks = failure_streaks(conn, ids)
    ups = uptime(conn, now, UPTIME_WINDOWS_DAYS, ids) if full else {}
    spark = recent(conn, points, ids) if full else {}
    history = history_lines(conn, lines, ids) if full else {}
    details: dict[int, str] = {}
    if full:
        wanted = [c.check_id for cs in changes.values() for c in cs]
        details = {i: check_detail(c.result) for i, c in checks_by_id(conn, wanted).items()}
    out: dict[str, ResourceHistory] = {}
    for rid in set(changes) | set(recent_full) | set(ups) | set(history):
        up = ups.get(rid)
        out[rid] = ResourceHistory(
            recent=tuple(recent_full.get(rid, ())),
            changes=tuple(
                Change(c.checked_at, c.state, c.verdict, details.get(c.check_id, ""))
                for c in changes.get(rid, ())
            ),
            failures=streaks.get(rid, 0),
            windows=tuple(WindowCount(w.days, w.told, w.good) for w in up.windows) if up else (),
            first_usable=up.first_usable if up else None,
            usable=up.usable if up else 0,
            ignored=up.ignored if up else 0,
            response_ms=tuple(p.elapsed_ms for p in spark.get(rid, ())),
            lines=tuple(history.get(rid, ())),
        )
    return out


def load_snapshot(
    store: Store, now: datetime, *, down_after: int = 2, full: bool = True, lines: int = 10
) -> HistorySnapshot:
    """`snapshot` in one read transaction of `store` (one consistent view of the history)."""
    with store.engine.connect() as conn, conn.begin():
        return snapshot(conn, now, down_after=down_after, full=full, lines=lines)
