"""`monitor fix` writes only safe URLs: a 301 `Location` or a GitHub name is untrusted (#16)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.checkers.github import GithubChecker, RepoRef
from monitor.cli.app import app
from monitor.config.catalog import load_catalog
from monitor.config.urls import UnsafeUrl, safe_url
from monitor.domain.models import CheckResult, Metadata, Run, Verdict
from monitor.store.database import Store
from tests.conftest import LoopbackServer, Reply

CATALOG = """\
[engine]
allow_private = true
retries = 0

[[sections]]
id = "s"
title = "S"

[[resources]]
id = "a"
url = "{url}"
label = "A"
section = "s"
"""
README = """\
# Roadmap

<!-- monitor:begin section=s -->
<!-- monitor:end -->

- [A]({url})
"""

HOSTILE_TARGETS = [
    ("javascript:alert(document.cookie)", "scheme 'javascript'"),
    ("https://evil.example/\x00x", "control"),
    ("https://evil.example/\u202etxt.exe", "bidi"),
    ("data:text/html,<script>alert(1)</script>", "scheme 'data'"),
    ("https://user:pass@evil.example/", "credentials"),
    ("//evil.example/x", "scheme 'none'"),
    ("https://evil.example/" + "a" * 5000, "characters"),
    ("https://[::1/", "malformed"),
]


def _project(tmp_path: Path, url: str, moved_to: str) -> tuple[Path, Path, str]:
    catalog = tmp_path / "resources.toml"
    catalog.write_text(CATALOG.format(url=url), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(README.format(url=url), encoding="utf-8")
    db = str(tmp_path / "m.sqlite")
    at = datetime(2026, 11, 1, 3, tzinfo=UTC)
    result = CheckResult("a", url, Verdict.MOVED, status=301, moved_to=moved_to, checked_at=at)
    with Store.open(db) as store:
        store.record_run(Run(None, at, at), [result], load_catalog(catalog).resources)
    return catalog, readme, db


@pytest.mark.parametrize(("target", "why"), HOSTILE_TARGETS)
def test_fix_refuses_unsafe_targets_and_says_why(tmp_path: Path, target: str, why: str) -> None:
    """Stored before this version (or by any path that skipped the sanitizer): still refused."""
    catalog, readme, db = _project(tmp_path, "https://old.example/a", target)
    before = (catalog.read_text(encoding="utf-8"), readme.read_text(encoding="utf-8"))
    result = CliRunner().invoke(
        app, ["fix", "--yes", "--no-wayback", "--catalog", str(catalog), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "refused to write the new address of a" in result.output
    assert why in result.output
    assert (catalog.read_text(encoding="utf-8"), readme.read_text(encoding="utf-8")) == before
    assert "\x00" not in result.output and "\u202e" not in result.output


def test_redirect_with_raw_html_and_spaces_is_written_encoded(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """A real 301 whose Location holds a space, quotes, raw HTML and a stray marker comment:
    `check` stores it percent-encoded, `fix --yes` writes that, and every command still works."""
    hostile = '/new page"><img src=x onerror=alert(1)><!-- monitor:end -->'
    server.routes["/old"] = Reply(301, headers={"Location": hostile})
    sent = "/new%20page%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E%3C!--%20monitor:end%20--%3E"
    server.routes[sent] = Reply(200, b"<title>new</title>")  # as httpx sends it
    catalog, readme, db = _project(tmp_path, server.url("/old"), "https://unused.example/")
    runner = CliRunner()
    checked = runner.invoke(app, ["check", "--catalog", str(catalog), "--db", db, "-q"])
    assert checked.exit_code == 0, checked.output
    fixed = runner.invoke(
        app, ["fix", "--yes", "--no-wayback", "--catalog", str(catalog), "--db", db]
    )
    assert fixed.exit_code == 0, fixed.output
    written_readme = readme.read_text(encoding="utf-8")
    written_catalog = catalog.read_text(encoding="utf-8")
    expected = server.url(sent)
    assert f"[A]({expected})" in written_readme
    assert f'url = "{expected}"' in written_catalog
    for text in (written_readme, written_catalog):
        assert "<img" not in text and text.count("monitor:end -->") <= 1
    for command in (["check", "-q"], ["readme"], ["status"]):
        done = runner.invoke(app, [*command, "--catalog", str(catalog), "--db", db])
        assert done.exit_code in (0, 1), (command, done.output)


@pytest.mark.parametrize(
    "full_name",
    ['evil/x"><script>', "evil/x\x00", "evil", "../../etc/passwd", "evil/x)](javascript:a"],
)
def test_a_bad_repository_name_from_the_api_is_not_a_move(full_name: str) -> None:
    from dataclasses import replace

    base = CheckResult("r", "https://github.com/o/r", Verdict.OK, checker="github")
    judged = GithubChecker()._judged(base, RepoRef("o", "r"), Metadata(full_name=full_name))
    assert judged.verdict is Verdict.OK and judged.moved_to is None
    assert "unusably" in (judged.note or "")
    renamed = GithubChecker()._judged(base, RepoRef("o", "r"), Metadata(full_name="o2/r2"))
    assert replace(renamed).moved_to == "https://github.com/o2/r2"


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://example.org/a b", "https://example.org/a%20b"),
        ("https://example.org/<x>", "https://example.org/%3Cx%3E"),
        ("https://exämple.org/ç", "https://xn--exmple-cua.org/%C3%A7"),
        ("https://example.org/it's", "https://example.org/it%27s"),
        ("https://example.org/a)", "https://example.org/a%29"),
        ("https://en.wikipedia.org/wiki/A_(b)", "https://en.wikipedia.org/wiki/A_(b)"),
        ("HTTPS://Example.ORG/Path?q=1#f", "https://example.org/Path?q=1#f"),
        ("https://example.org/%zz", "https://example.org/%25zz"),
    ],
)
def test_safe_url_encodes(url: str, clean: str) -> None:
    assert safe_url(url) == clean
    assert safe_url(clean) == clean


@pytest.mark.parametrize(("url", "why"), HOSTILE_TARGETS)
def test_safe_url_refuses(url: str, why: str) -> None:
    with pytest.raises(UnsafeUrl, match=why.split()[0]):
        safe_url(url)
