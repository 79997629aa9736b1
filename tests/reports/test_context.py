from __future__ import annotations

from pathlib import Path

import pytest

from monitor.domain.state import State
from monitor.reports.context import (
    ReportContext,
    fold,
    sparkline,
)
from tests.report_fixture import NOW, build_context


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ReportContext:
    return build_context(tmp_path_factory.mktemp("ctx"))


def test_fold() -> None:
    assert fold("  Vídeo ÀÉ ") == "video ae"


def test_sparkline() -> None:
    assert sparkline([]) is None and sparkline([100, None]) is None
    spark = sparkline([100, None, 300, 200])
    assert spark is not None
    assert (spark.low, spark.high, spark.last) == (100, 300, 200)
    xs = [float(p.split(",")[0]) for p in spark.points.split()]
    ys = [float(p.split(",")[1]) for p in spark.points.split()]
    assert xs[0] == 2 and xs[-1] == spark.width - 2 and len(xs) == 3  # the gap is skipped
    assert ys[1] == 2 and ys[0] == spark.height - 2  # slowest at the top... of the y axis


def test_context_groups_sorts_and_counts(ctx: ReportContext) -> None:
    assert [s.id for s in ctx.sections] == ["videos", "cursos", "resources"]
    assert [r.resource.id for r in ctx.sections[0].rows] == ["video-private", "video-ok"]
    assert [r.resource.id for r in ctx.sections[0].catalog_rows] == ["video-ok", "video-private"]
    assert [r.state for r in ctx.problems] == [
        State.DOWN,
        State.FLAKY,
        State.BLOCKED,
        State.FAILING,
        State.MOVED,
    ]
    assert {c.state: c.count for c in ctx.counts}[State.OK] == 6
    assert sum(c.count for c in ctx.counts) == len(ctx.rows) == 14
    assert (ctx.healthy, ctx.total) == (8, 13)  # the skipped link is not counted
    assert ctx.verdicts[0] == ("ok", "ok", 8)
    assert ctx.verdicts[-1] == ("skipped", "ignorado", 1)
    assert [c.field for c in ctx.rows[5].st.changes] == ["stars", "archived"]
    assert [r.resource.id for r in ctx.changed] == [
        "video-private",  # failing -> down: a state change without a verdict change
        "course-failing",
        "repo-stars",
        "page-flaky",
        "page-recovered",
        "page-title",
    ]
    cursos = ctx.sections[1]
    assert (cursos.total_duration, cursos.known_durations) == ("2 h 30 min", 2)
    moved = next(r for r in ctx.rows if r.state is State.MOVED)
    assert moved.moved_to == "https://github.com/new-owner/repo"
    assert moved.detail == moved.moved_to


def test_rows_do_not_repeat_a_title_equal_to_the_label(tmp_path: Path) -> None:
    ctx = build_context(tmp_path)
    course = next(r for r in ctx.rows if r.resource.id == "course-failing")
    assert course.title == ""  # scraped "Course B" equals the label
    assert ctx.now == NOW


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("pt-BR", ["estado: falhou → fora do ar", "estado: ok → falhou"]),
        ("en", ["state: failing → down", "state: ok → failing"]),
    ],
)
def test_a_state_change_is_a_change_of_the_latest_run(
    tmp_path: Path, locale: str, words: list[str]
) -> None:
    """video-private failed twice (ok, ok, ok, broken, broken): the second failure changes no
    verdict but takes it from failing to down, the change a reader most wants to see."""
    ctx = build_context(tmp_path, locale)
    rows = {r.resource.id: r for r in ctx.rows}
    assert rows["video-private"].changes == (words[0],)
    assert rows["video-private"].visible_changes == (words[0],)
    assert rows["video-private"] in ctx.visible_changed
    assert rows["course-failing"].changes[0] == words[1]  # listed before the verdict
    assert len(rows["course-failing"].changes) == 2
    assert rows["video-ok"].changes == ()  # ok since its first check: no change
    assert rows["page-flaky"].changes == rows["page-flaky"].visible_changes  # stays flaky
    assert not any(c.startswith(words[0][:6]) for c in rows["page-flaky"].changes)
