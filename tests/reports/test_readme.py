from __future__ import annotations

import dataclasses
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.urls import followable_url
from monitor.domain.models import Metadata, Run, Verdict
from monitor.domain.snapshot import HistorySnapshot
from monitor.reports.context import ReportContext
from monitor.reports.readme import ReadmeError, rewrite, update_readme
from monitor.store.database import Store
from tests.report_fixture import NOW, README_IN, assert_golden, build_context

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ReportContext:
    return build_context(tmp_path_factory.mktemp("readme"))


def test_golden_readme(ctx: ReportContext) -> None:
    assert_golden("README.md", rewrite(README_IN, ctx))


def test_outside_the_markers_is_byte_for_byte(ctx: ReportContext) -> None:
    out = rewrite(README_IN, ctx)
    # the CRLF prose, the fake marker in a sentence, trailing spaces, no final newline
    assert out.startswith(README_IN.split("<!-- monitor:begin section=videos")[0])
    assert "trailing   spaces stay   \t\n## Resources\n" in out
    assert out.endswith("  <!-- monitor:end -->\nno newline at the end")
    # the generated block follows the begin marker's line ending
    videos = out.split("section=videos -->\r\n")[1].split("<!-- monitor:end -->")[0]
    assert "old table" not in videos and videos.count("\r\n") == videos.count("\n") > 3
    assert "| stale | row |" not in out


def test_running_twice_changes_no_byte(ctx: ReportContext, tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_bytes(README_IN.encode())
    update_readme(path, ctx)
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    old, new = update_readme(path, ctx)
    assert old == new and path.read_bytes() == first and path.stat().st_mtime_ns == mtime


def test_no_clock_in_the_tables(tmp_path: Path) -> None:
    # the same data rendered "later" gives the same README
    a = build_context(tmp_path / "a")
    b = build_context(tmp_path / "b", now=a.now + timedelta(days=400))
    assert a.rows[0].uptime != b.rows[0].uptime  # the page would differ...
    assert rewrite(README_IN, a) == rewrite(README_IN, b)  # ...the README does not


def test_total_line_where_durations_are_known(ctx: ReportContext) -> None:
    out = rewrite(README_IN, ctx)
    assert "**Total: 25 min**" in out  # two 12:34 videos
    assert "**Total: 2 h 30 min** (2 de 3 com duração conhecida)" in out
    resources = out.split("section=resources")[1]
    assert "Total" not in resources  # no durations known there


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a\n<!-- monitor:begin section=videos -->\nx\n", 2, "never closed"),
        ("a\n\n<!-- monitor:end -->\n", 3, "without a begin"),
        (
            "<!-- monitor:begin section=videos -->\n<!-- monitor:begin section=cursos -->\n"
            "<!-- monitor:end -->\n<!-- monitor:end -->\n",
            2,
            "nested",
        ),
        ("<!-- monitor:begin section=nope -->\n<!-- monitor:end -->\n", 1, "unknown section"),
        ("x\n<!-- monitor:begn section=videos -->\n", 2, "unknown marker"),
        ("<!-- monitor:end extra -->\n", 1, "unknown marker"),
    ],
)
def test_bad_markers_name_the_line_and_leave_the_file_alone(
    ctx: ReportContext, tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "README.md"
    path.write_text(text)
    with pytest.raises(ReadmeError) as info:
        update_readme(path, ctx)
    assert info.value.line == line
    assert message in str(info.value)
    assert f"README.md:{line}:" in str(info.value)
    assert path.read_text() == text


def test_a_crash_while_writing_leaves_the_readme_untouched(
    ctx: ReportContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "README.md"
    path.write_bytes(README_IN.encode())

    def boom(self: Path, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Path, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        update_readme(path, ctx)
    assert path.read_bytes() == README_IN.encode()
    assert os.listdir(tmp_path) == ["README.md"]  # no temp file left behind


def _with_title(ctx: ReportContext, label: str, title: str, url: str) -> ReportContext:
    """The first videos row with an attacker-chosen label, URL and scraped title."""
    section = ctx.sections[0]
    row = section.catalog_rows[0]
    resource = dataclasses.replace(row.resource, label=label, url=url)
    evil = dataclasses.replace(
        row,
        resource=resource,
        url=followable_url(url),
        title=title,
        st=dataclasses.replace(row.st, meta=Metadata(title=title)),
    )
    new_section = dataclasses.replace(section, catalog_rows=(evil, *section.catalog_rows[1:]))
    return dataclasses.replace(ctx, sections=(new_section, *ctx.sections[1:]))


INJECTIONS = [
    "a | b | c",
    "[click](javascript:alert(1))",
    "x](javascript:alert(1)) [y",
    "line one\nline two\r\n| --- |",
    "`code` <script>alert(1)</script> <img src=x onerror=alert(1)>",
    "&lt;already&gt; & ![img](http://e/x.png) \\| <!-- monitor:end -->",
]


@pytest.mark.parametrize("label", INJECTIONS)
def test_scraped_and_catalog_text_cannot_break_the_table(ctx: ReportContext, label: str) -> None:
    evil = _with_title(ctx, label, label, "https://example.org/a")
    out = rewrite("<!-- monitor:begin section=videos -->\n<!-- monitor:end -->\n", evil)
    lines = out.splitlines()
    rows = [line for line in lines if line.startswith("| ")]
    # one header, one delimiter row, two resources; every row has exactly 6 cells
    assert len(rows) == 4
    for line in rows:
        cells = re.split(r"(?<!\\)\|", line)
        assert len(cells) == 8, line
    first = rows[2]
    assert "<script" not in first and "<img" not in first and "<!--" not in first
    assert "](javascript:" not in first.replace("\\]", "")
    assert first.startswith("| [") and "](https://example.org/a) |" in first
    assert lines[-1] == "<!-- monitor:end -->"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "//evil.example/x", "/etc/passwd"]
)
def test_only_http_and_relative_links_are_linked(ctx: ReportContext, url: str) -> None:
    evil = _with_title(ctx, "Label", "", url)
    out = rewrite("<!-- monitor:begin section=videos -->\n<!-- monitor:end -->\n", evil)
    row = out.splitlines()[3]
    assert row.startswith("| Label |"), row
    assert url not in row


def test_link_urls_with_table_breaking_characters_are_encoded(ctx: ReportContext) -> None:
    evil = _with_title(ctx, "Label", "", "https://e.org/a|b(c)`x")
    out = rewrite("<!-- monitor:begin section=videos -->\n<!-- monitor:end -->\n", evil)
    assert "[Label](https://e.org/a%7Cb%28c%29%60x) |" in out


prose_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=40,
).filter(lambda s: "<!--" not in s)
prose = st.lists(prose_line, max_size=6).map(lambda lines: "".join(f"{x}\n" for x in lines))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(before=prose, between=prose, after=prose, old=prose)
def test_arbitrary_prose_around_markers_survives(
    ctx: ReportContext, before: str, between: str, after: str, old: str
) -> None:
    text = (
        f"{before}<!-- monitor:begin section=cursos -->\n{old}<!-- monitor:end -->\n"
        f"{between}<!-- monitor:begin section=videos -->\n<!-- monitor:end -->\n{after}"
    )
    out = rewrite(text, ctx)
    assert out.startswith(before + "<!-- monitor:begin section=cursos -->\n")
    assert f"<!-- monitor:end -->\n{between}<!-- monitor:begin section=videos -->\n" in out
    assert out.endswith(f"<!-- monitor:end -->\n{after}")
    assert rewrite(out, ctx) == out


# -- the command ----------------------------------------------------------------------------

runner = CliRunner()


def test_repo_readme_is_what_monitor_readme_produces_with_an_empty_store(tmp_path: Path) -> None:
    """Until the nightly job publishes real data, the README is exactly what an empty store
    renders. Afterwards only the data columns (duration, stars, status, date) and the total
    lines may differ: the resources, links and kinds must still match the catalog."""
    Store.open(tmp_path / "empty.sqlite").close()
    result = runner.invoke(
        app,
        [
            "readme",
            "--check",
            "--catalog",
            str(REPO / "resources.toml"),
            "--db",
            str(tmp_path / "empty.sqlite"),
        ],
    )
    if result.exit_code == 0:
        assert "up to date" in result.output
        return
    assert result.exit_code == 1, result.output
    from monitor.config.catalog import load_catalog
    from monitor.reports.context import build_context as build

    empty = build(load_catalog(REPO / "resources.toml"), HistorySnapshot(), NOW)
    old = (REPO / "README.md").read_text(encoding="utf-8")

    def rows(text: str) -> list[list[str]]:
        return [
            re.split(r"(?<!\\)\|", line)[1:3] for line in text.splitlines() if line.startswith("| ")
        ]

    assert rows(old) == rows(rewrite(old, empty))


def test_readme_check_exits_1_with_a_diff_then_readme_fixes_it(tmp_path: Path) -> None:
    catalog_text = (REPO / "resources.toml").read_text()
    (tmp_path / "resources.toml").write_text(catalog_text)
    readme = (REPO / "README.md").read_text().replace("| vídeo |", "| video |", 1)
    (tmp_path / "README.md").write_text(readme)
    Store.open(tmp_path / "h.sqlite").close()  # an empty history: readme only reads one
    args = [
        "readme",
        "--catalog",
        str(tmp_path / "resources.toml"),
        "--db",
        str(tmp_path / "h.sqlite"),
    ]
    stale = runner.invoke(app, [*args, "--check"])
    assert stale.exit_code == 1
    assert "-| [AI, Machine" in stale.output and "+| [AI, Machine" in stale.output
    assert (tmp_path / "README.md").read_text() == readme  # --check writes nothing
    assert runner.invoke(app, args).exit_code == 0
    assert (tmp_path / "README.md").read_text() == (REPO / "README.md").read_text()
    assert runner.invoke(app, [*args, "--check"]).exit_code == 0


def test_readme_after_a_check_shows_the_state(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from monitor.config.catalog import load_catalog
    from monitor.domain.models import CheckResult
    from monitor.store.database import Store

    (tmp_path / "resources.toml").write_text((REPO / "resources.toml").read_text())
    (tmp_path / "README.md").write_text((REPO / "README.md").read_text())
    catalog = load_catalog(tmp_path / "resources.toml")
    first = catalog.resources[0]
    at = datetime(2026, 11, 20, 3, tzinfo=UTC)
    with Store.open(tmp_path / "h.sqlite") as store:
        store.record_run(
            Run(id=None, started_at=at),
            [
                CheckResult(
                    first.id,
                    first.url,
                    Verdict.OK,
                    checked_at=at,
                    meta=Metadata(duration_s=3 * 60 + 50),
                )
            ],
            catalog.resources,
        )
    args = [
        "readme",
        "--catalog",
        str(tmp_path / "resources.toml"),
        "--db",
        str(tmp_path / "h.sqlite"),
    ]
    assert runner.invoke(app, args).exit_code == 0
    text = (tmp_path / "README.md").read_text()
    assert "| vídeo | 4 min | — | ✅ ok | 20 de nov. de 2026 |" in text
    assert "**Total: 4 min** (1 de 3 com duração conhecida)" in text


def test_bad_marker_exits_2_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "resources.toml").write_text((REPO / "resources.toml").read_text())
    (tmp_path / "README.md").write_text("# x\n<!-- monitor:begin section=cursos -->\n")
    Store.open(tmp_path / "h.sqlite").close()
    result = runner.invoke(
        app,
        [
            "readme",
            "--catalog",
            str(tmp_path / "resources.toml"),
            "--db",
            str(tmp_path / "h.sqlite"),
        ],
    )
    assert result.exit_code == 2
    assert "README.md:2" in result.output and "never closed" in result.output


def test_english_columns(tmp_path: Path) -> None:
    out = rewrite(README_IN, build_context(tmp_path, "en"))
    assert "| Resource | Kind | Duration | Stars | Status | Since |" in out
    assert (
        "| [Not checked yet](https://new.example.com/) | page | — | — | ❔ not checked yet | — |"
        in out
    )
    assert "**Total: 2 hr 30 min** (2 of 3 with a known duration)" in out
