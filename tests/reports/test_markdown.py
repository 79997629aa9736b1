from __future__ import annotations

from pathlib import Path

import pytest

from monitor.domain.snapshot import HistorySnapshot
from monitor.reports.context import ReportContext
from monitor.reports.markdown import render_status_md
from monitor.reports.text import Md, md_code, md_escape, md_link
from tests.report_fixture import EVIL_TITLE, NOW, assert_golden, build_context, make_catalog


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ReportContext:
    return build_context(tmp_path_factory.mktemp("md"))


def test_golden_status_md(ctx: ReportContext) -> None:
    assert_golden("status.md", render_status_md(ctx, clock=False))


def test_golden_status_md_in_english(tmp_path: Path) -> None:
    assert_golden("status.en.md", render_status_md(build_context(tmp_path, "en"), clock=True))


def test_status_md_has_what_to_do_and_what_changed(ctx: ReportContext) -> None:
    out = render_status_md(ctx, clock=True)
    problems = out.split("## Problemas")[1].split("## Mudanças")[0]
    changes = out.split("## Mudanças desde a execução anterior")[1]
    # problems in severity order: down, flaky, blocked, failing, moved
    order = [problems.index(x) for x in ("What are LLMs", "Flaky", "Blocked", "Course B", "Moved")]
    assert order == sorted(order)
    assert "erro: video is private" in problems
    assert "[https://github.com/new-owner/repo](https://github.com/new-owner/repo)" in problems
    # 41,200 -> 41,234 stars is "41,2 mil" both times: not a change a README reader sees
    # (status.md is committed with the README); the status page still lists it.
    assert "repositório arquivado" in changes and "estrelas" not in changes
    repo = next(r for r in ctx.changed if "estrelas: 41.200 → 41.234 (+34)" in r.changes)
    assert repo.visible_changes == ("repositório arquivado",)
    assert "veredito: ok → erro (timeout after 20 s)" in changes
    assert "Recovered page" in changes and "Course A" not in changes
    # the scraped title is text, not HTML or a link
    assert "<script>" not in out and "&lt;/td&gt;&lt;script&gt;" in out
    assert "\\[x\\](javascript:alert(1))" in out


def test_empty_store_report(tmp_path: Path) -> None:
    from monitor.reports.context import build_context as build

    ctx = build(make_catalog(tmp_path), HistorySnapshot(), NOW)
    out = render_status_md(ctx, clock=True)
    assert "Nenhuma verificação ainda" in out
    assert "**0/13** saudáveis" in out
    assert "Nenhuma mudança." in out


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a|b", "a\\|b"),
        ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
        ("one\ntwo\r\nthree", "one two three"),
        ("`code`", "\\`code\\`"),
        ("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
        ("&amp; & &#x41;", "&amp;amp; & &amp;#x41;"),
        ("*em* _em_ ~~s~~ \\", "\\*em\\* \\_em\\_ \\~\\~s\\~\\~ \\\\"),
        (None, ""),
    ],
)
def test_md_escape(raw: str | None, escaped: str) -> None:
    assert md_escape(raw) == escaped


def test_md_link_and_code() -> None:
    assert md_link("a]b", "https://e.org/x y") == "a\\]b"  # whitespace: not a safe URL
    assert md_link("ok", "https://e.org/(x)") == "[ok](https://e.org/%28x%29)"
    assert md_link("file", "docs/a.pdf") == "[file](docs/a.pdf)"
    assert md_link("js", "javascript:alert(1)") == "js"
    assert md_code("a`b") == "``a`b``"
    assert md_escape(Md("[kept](x)")) == "[kept](x)"
    assert EVIL_TITLE not in md_escape(EVIL_TITLE)
