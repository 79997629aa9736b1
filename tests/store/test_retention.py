from __future__ import annotations

import itertools
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict
from monitor.store.database import CheckRow, ResourceRow, RunRow, Store
from monitor.store.retention import SUMMARY_META, CheckKey, checks_to_keep, prune

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
RESOURCES = [
    Resource(f"res-{i}", f"https://site{i}.example/page", Kind.WEB, "s", f"R{i}") for i in range(16)
]
BIG_META = {
    "title": "A page title",
    "description": "x" * 400,
    "stars": 1234,
    "topics": ["llm", "course", "python"],
    "etag": 'W/"abc"',
    "canonical_url": "https://example.com/canonical",
}


def _fill(store: Store, days: int, seed: int = 7) -> None:
    """Years of nightly runs, with 3-hourly re-checks of failing resources and outages."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=days)
    failing: set[str] = set()
    runs: list[dict[str, object]] = []
    checks: list[dict[str, object]] = []

    def add_run(at: datetime, network_ok: bool, ids: list[str], trigger: str) -> None:
        run_id = len(runs) + 1
        runs.append(
            {"id": run_id, "started_at": at, "finished_at": at, "network_ok": network_ok,
             "trigger": trigger, "note": ""}
        )  # fmt: skip
        for rid in ids:
            if not network_ok:
                verdict = Verdict.ERROR
            else:
                verdict = Verdict.BROKEN if rid in failing else Verdict.OK
            checks.append(
                {"run_id": run_id, "resource_id": rid, "url": "u", "checker": "web",
                 "checked_at": at, "verdict": verdict.value, "http_status": 200,
                 "redirect_chain": [], "partial": False, "network_failure": not network_ok,
                 "meta": BIG_META}
            )  # fmt: skip

    for day in range(days):
        nightly = start + timedelta(days=day)
        for r in RESOURCES:  # a link breaks now and then and mostly comes back within days
            if rng.random() < (0.2 if r.id in failing else 0.01):
                failing.symmetric_difference_update({r.id})
        add_run(nightly, rng.random() > 0.02, [r.id for r in RESOURCES], "schedule")
        for hour in range(3, 24, 3):
            if failing:
                add_run(nightly + timedelta(hours=hour), True, sorted(failing), "failing")
    with store.engine.begin() as conn:
        conn.execute(
            insert(ResourceRow),
            [{"id": r.id, "url": r.url, "kind": "web", "section": "s", "label": r.label,
              "first_seen": start} for r in RESOURCES],
        )  # fmt: skip
        conn.execute(insert(RunRow), runs)
        conn.execute(insert(CheckRow), checks)


def _counts(store: Store) -> tuple[int, int]:
    with store.engine.connect() as conn:
        checks = conn.scalar(select(func.count()).select_from(CheckRow))
        runs = conn.scalar(select(func.count()).select_from(RunRow))
    return int(checks or 0), int(runs or 0)


def _latest_ids(store: Store) -> dict[str, int]:
    out = {}
    for r in RESOURCES:
        with store.engine.connect() as conn:
            out[r.id] = conn.scalar(
                select(CheckRow.id)
                .where(CheckRow.resource_id == r.id)
                .order_by(CheckRow.checked_at.desc(), CheckRow.id.desc())  # type: ignore[attr-defined]
                .limit(1)
            )
    return out


def test_years_of_nightly_runs_shrink_and_latest_checks_survive(tmp_path: Path) -> None:
    db = tmp_path / "years.sqlite"
    with Store.open(db) as store:
        _fill(store, days=3 * 365)
        store.vacuum()
        size_before = db.stat().st_size
        checks_before, runs_before = _counts(store)
        latest_before = _latest_ids(store)
        report = prune(store, 90, now=NOW)
        store.vacuum()
        checks_after, runs_after = _counts(store)
        size_after = db.stat().st_size
        assert (report.checks_before, report.checks_after) == (checks_before, checks_after)
        assert (report.runs_before, report.runs_after) == (runs_before, runs_after)
        assert _latest_ids(store) == latest_before
        # Thinned: at most one usable check per resource per old day, plus verdict changes.
        cutoff = NOW - timedelta(days=90)
        with store.engine.connect() as conn:
            per_day = conn.execute(
                text(
                    'SELECT resource_id, date(checked_at), count(*) FROM "check" '
                    "WHERE checked_at < :cutoff GROUP BY 1, 2 HAVING count(*) > 2"
                ),
                {"cutoff": cutoff.replace(tzinfo=None)},
            ).all()
            orphan_runs = conn.scalar(
                text('SELECT count(*) FROM run WHERE id NOT IN (SELECT run_id FROM "check")')
            )
            recent = conn.scalar(
                select(func.count()).select_from(CheckRow).where(CheckRow.checked_at >= cutoff)  # type: ignore[operator]
            )
            old_meta = conn.execute(
                select(CheckRow.meta).where(CheckRow.checked_at < cutoff)  # type: ignore[operator]
            ).all()
            integrity = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
        assert per_day == []
        assert orphan_runs == 0
        assert recent and recent > 16 * 85  # recent history untouched
        assert all(set(m[0]) <= SUMMARY_META for m in old_meta)
        assert integrity == "ok"
        print(
            f"\n3 years: checks {checks_before} -> {checks_after}, runs {runs_before} -> "
            f"{runs_after}, file {size_before} -> {size_after} bytes"
        )
        # Nightly checks are already one a day: the re-checks and outage runs go, and the file
        # shrinks mostly through compacted metadata (measured: 23,722 -> 18,110 checks,
        # 5,442 -> 1,958 runs, 18.7 MB -> 4.7 MB).
        assert checks_after < checks_before * 0.85
        assert runs_after < runs_before * 0.5
        assert size_after < size_before * 0.4
        # Idempotent: a second prune finds nothing to do.
        again = prune(store, 90, now=NOW)
        assert again.checks_deleted == 0 and again.runs_deleted == 0 and again.compacted == 0


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "d.sqlite") as store:
        _fill(store, days=200)
        before = _counts(store)
        report = prune(store, 30, now=NOW, dry_run=True)
        assert report.checks_deleted > 0
        assert _counts(store) == before


def test_newest_check_kept_even_when_older_than_cutoff(tmp_path: Path) -> None:
    """A resource dropped from the catalog long ago still keeps its last word."""
    with Store.open(tmp_path / "n.sqlite") as store:
        gone = Resource("gone", "https://gone.example/", Kind.WEB, "s", "Gone")
        old = NOW - timedelta(days=400)
        for hour in (1, 2, 3, 4):
            at = old + timedelta(hours=hour)
            # the newest one comes from a network-down run: kept all the same
            ok = hour != 4
            store.record_run(
                Run(None, at, at, network_ok=ok),
                [CheckResult("gone", gone.url, Verdict.OK if ok else Verdict.ERROR, checked_at=at)],
                [gone],
            )
        prune(store, 90, now=NOW)
        history = store.history("gone")
        # newest (network down), the day's latest usable one, the first ever seen
        assert [c.result.checked_at for c in history] == [
            old + timedelta(hours=h) for h in (4, 3, 1)
        ]
        assert history[0].result.verdict is Verdict.ERROR


def test_prune_command_reports_numbers(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    with Store.open(db) as store:
        _fill(store, days=120)
    catalog = tmp_path / "resources.toml"
    catalog.write_text("[settings]\nretention_days = 30\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["prune", "--catalog", str(catalog), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "checks older than" in result.output and "database file:" in result.output
    help_text = CliRunner().invoke(app, ["prune", "--help"]).output
    assert "Examples" in help_text and "--older-than" in help_text


_moment = st.integers(min_value=0, max_value=20 * 24 * 60).map(
    lambda minutes: datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
)
_keys = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), _moment, st.sampled_from(["ok", "broken"]),
              st.booleans()),
    max_size=60,
)  # fmt: skip


@given(_keys)
def test_policy_properties(raw: list[tuple[str, datetime, str, bool]]) -> None:
    keys = [CheckKey(i, rid, at, verdict, usable) for i, (rid, at, verdict, usable) in
            enumerate(raw)]  # fmt: skip
    newest = {
        max((k for k in keys if k.resource_id == rid), key=lambda k: (k.checked_at, k.id)).id
        for rid in {k.resource_id for k in keys}
    }
    keep = checks_to_keep(keys, newest)
    assert newest <= keep
    for rid in {k.resource_id for k in keys}:
        mine = sorted((k for k in keys if k.resource_id == rid), key=lambda k: (k.checked_at, k.id))
        for day in {k.checked_at.date() for k in mine}:
            that_day = [k for k in mine if k.checked_at.date() == day]
            kept = [k for k in that_day if k.id in keep]
            assert kept, "every day with checks keeps at least one"
            usable = [k for k in that_day if k.usable]
            if usable:
                assert usable[-1].id in keep, "the day's latest usable check is kept"
        # every change of verdict among usable checks survives: the kept usable sequence
        # has as many verdict changes as the full usable sequence
        usable_all = [k.verdict for k in mine if k.usable]
        usable_kept = [k.verdict for k in mine if k.usable and k.id in keep]
        changes = sum(a != b for a, b in itertools.pairwise(usable_all))
        kept_changes = sum(a != b for a, b in itertools.pairwise(usable_kept))
        assert kept_changes == changes


def _week(moment: datetime) -> tuple[int, int]:
    year, week, _ = moment.date().isocalendar()
    return year, week


@settings(max_examples=int(os.environ.get("RETENTION_EXAMPLES", "100")))
@given(_keys, st.integers(min_value=0, max_value=20))
@example(  # found by CI: two checks at the boundary's first moment, after an older one
    raw=[
        ("a", datetime(2024, 1, 1, tzinfo=UTC), "ok", True),
        ("a", datetime(2024, 1, 2, tzinfo=UTC), "ok", True),
        ("a", datetime(2024, 1, 2, tzinfo=UTC), "ok", True),
    ],
    weekly_day=1,
)
def test_policy_keeps_one_a_week_beyond_the_weekly_age(
    raw: list[tuple[str, datetime, str, bool]], weekly_day: int
) -> None:
    """Older than `weekly_before`: a week's latest usable check and the changes of verdict,
    nothing else; younger checks are thinned by the day as before."""
    weekly_before = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=weekly_day)
    keys = [CheckKey(i, rid, at, verdict, usable) for i, (rid, at, verdict, usable) in
            enumerate(raw)]  # fmt: skip
    keep = checks_to_keep(keys, [], weekly_before)
    for rid in {k.resource_id for k in keys}:
        mine = sorted((k for k in keys if k.resource_id == rid), key=lambda k: (k.checked_at, k.id))
        old = [k for k in mine if k.checked_at < weekly_before]
        for week in {_week(k.checked_at) for k in old}:
            that_week = [k for k in old if _week(k.checked_at) == week]
            kept = [k for k in that_week if k.id in keep]
            usable = [k for k in that_week if k.usable]
            assert kept, "every week with checks keeps at least one"
            if usable:
                assert usable[-1].id in keep, "the week's latest usable check is kept"
                # besides it, only checks that changed the verdict: none when all agree
                if len({k.verdict for k in usable}) == 1 and not any(
                    k.id in keep and k.checked_at < weekly_before for k in mine if k not in old
                ):
                    assert len(kept) <= 2  # the representative, and a first-ever check
        usable_all = [k.verdict for k in mine if k.usable]
        usable_kept = [k.verdict for k in mine if k.usable and k.id in keep]
        changes = sum(a != b for a, b in itertools.pairwise(usable_all))
        assert sum(a != b for a, b in itertools.pairwise(usable_kept)) == changes
    # the daily tier is untouched by the weekly one: every young check the daily policy
    # keeps, judged on the whole history, is kept. (Not judged on the young checks alone:
    # there the first of them looks like a resource's first-ever check, which it is not.)
    young = {k.id for k in keys if k.checked_at >= weekly_before}
    assert checks_to_keep(keys, []) & young <= keep


def test_years_of_history_keep_one_check_a_week_beyond_a_year(tmp_path: Path) -> None:
    with Store.open(tmp_path / "w.sqlite") as store:
        _fill(store, days=2 * 365)
        prune(store, 90, weekly_after_days=365, now=NOW)
        weekly_before = NOW - timedelta(days=365)
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(CheckRow.resource_id, CheckRow.checked_at, CheckRow.verdict).where(
                    CheckRow.checked_at < weekly_before  # type: ignore[operator]
                )
            ).all()
    by_resource: dict[str, list[tuple[datetime, str]]] = {}
    for rid, at, verdict in rows:
        by_resource.setdefault(rid, []).append((at, verdict))
    assert len(by_resource) == len(RESOURCES)
    for kept in by_resource.values():
        kept.sort()
        weeks = {_week(at) for at, _ in kept}
        changes = sum(a[1] != b[1] for a, b in itertools.pairwise(kept))
        # one check a week, and besides it only checks where the verdict changed (each change
        # brings at most its own check; the first check ever is kept too)
        assert len(kept) <= len(weeks) + changes + 1
        assert len(weeks) >= 50  # a year of weeks, none lost


def test_prune_refuses_a_weekly_age_below_the_daily_one(tmp_path: Path) -> None:
    catalog = tmp_path / "resources.toml"
    catalog.write_text("", encoding="utf-8")
    db = str(tmp_path / "x.sqlite")
    args = ["prune", "--catalog", str(catalog), "--db", db, "--older-than", "100"]
    result = CliRunner().invoke(app, [*args, "--weekly-after", "30"])
    assert result.exit_code == 2
    assert "--weekly-after (30) must be at least --older-than (100)" in result.output


def test_prune_reports_the_size_after_its_final_checkpoint(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    with Store.open(db) as store:
        _fill(store, days=120)
    catalog = tmp_path / "resources.toml"
    catalog.write_text("[settings]\nretention_days = 30\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["prune", "--catalog", str(catalog), "--db", str(db)])
    assert result.exit_code == 0, result.output
    wal = tmp_path / "c.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed and truncated
    reported = result.output.split("→")[1].split("bytes")[0]
    assert int(reported.replace(",", "").strip()) == db.stat().st_size
    assert "after the final checkpoint" in result.output
