from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.catalog import EngineSettings, load_catalog
from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict
from monitor.files import write_text_atomic as atomic_write
from monitor.net.engine import HttpEngine
from monitor.run.fix import Move, apply_to_catalog, apply_to_markdown, wayback_snapshot
from monitor.store.database import Store
from tests.conftest import REPO, LoopbackServer, Reply

OLD = "https://github.com/mlabonne/llm-course"
NEW = "https://github.com/mlabonne/llm-course-2"
GONE = "https://www.promptingguide.ai/"
# The availability API's real answer shape (archive.org/wayback/available?url=...).
AVAILABLE = {
    "url": GONE,
    "archived_snapshots": {
        "closest": {
            "available": True,
            "url": "http://web.archive.org/web/20240101000000/https://www.promptingguide.ai/",
            "timestamp": "20240101000000",
            "status": "200",
        }
    },
}
EXTRA_README = f"""
Veja também o [curso]({OLD} "LLM Course") e a [referência][llm].
Texto corrido que cita {OLD} sem link fica como está; <{OLD}> é um autolink.
Outro repositório: [fork]({OLD}-fork).

[llm]: {OLD}
"""


def _project(tmp_path: Path, server: LoopbackServer) -> tuple[Path, Path, str]:
    catalog = tmp_path / "resources.toml"
    text = (REPO / "resources.toml").read_text(encoding="utf-8")
    catalog.write_text(text + "\n[engine]\nallow_private = true\nretries = 0\n", encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(
        (REPO / "README.md").read_text(encoding="utf-8") + EXTRA_README, encoding="utf-8"
    )
    db = str(tmp_path / "m.sqlite")
    cat = load_catalog(catalog)
    at = datetime(2026, 11, 1, 3, tzinfo=UTC)
    results = [
        CheckResult("llm-course", OLD, Verdict.MOVED, status=301, moved_to=NEW, checked_at=at),
        CheckResult("prompt-engineering-guide", GONE, Verdict.BROKEN, status=404, checked_at=at),
    ]
    with Store.open(db) as store:
        store.record_run(Run(None, at, at), results, cat.resources)
    server.routes["/wayback/available"] = Reply(
        200, json.dumps(AVAILABLE).encode(), {"Content-Type": "application/json"}
    )
    return catalog, readme, db


def test_fix_round_trip_on_a_copy(tmp_path: Path, server: LoopbackServer) -> None:
    catalog, readme, db = _project(tmp_path, server)
    cat_before = catalog.read_text(encoding="utf-8")
    readme_before = readme.read_text(encoding="utf-8")
    args = ["fix", "--catalog", str(catalog), "--db", db]
    args += ["--wayback-api", server.url("/wayback/available")]

    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert f'-url = "{OLD}"' in shown.output and f'+url = "{NEW}"' in shown.output
    assert "--- a/README.md" in shown.output
    assert "run with --yes" in shown.output
    assert "not applied" in shown.output
    assert "https://web.archive.org/web/20240101000000/https://www.promptingguide.ai/" in (
        shown.output.replace("\n", "")
    )
    assert "2024-01-01" in shown.output
    # nothing written without --yes
    assert catalog.read_text(encoding="utf-8") == cat_before
    assert readme.read_text(encoding="utf-8") == readme_before
    # the wayback lookup went through the engine, with the broken URL as a query parameter
    lookups = [r.path for r in server.requests if r.path.startswith("/wayback/available")]
    assert lookups == ["/wayback/available?url=https%3A%2F%2Fwww.promptingguide.ai%2F"]

    written = CliRunner().invoke(app, [*args, "--yes"])
    assert written.exit_code == 0, written.output
    cat_after = catalog.read_text(encoding="utf-8")
    # only the URL line changed in the catalog; the resource keeps its id
    changed = [
        (a, b)
        for a, b in zip(cat_before.splitlines(), cat_after.splitlines(), strict=True)
        if a != b
    ]
    assert changed == [(f'url = "{OLD}"', f'url = "{NEW}"')]
    reloaded = load_catalog(catalog)
    assert reloaded.find("llm-course") is not None
    assert reloaded.find("llm-course").url == NEW  # type: ignore[union-attr]
    # broken link suggestions are never applied
    assert reloaded.find("prompt-engineering-guide").url == GONE  # type: ignore[union-attr]
    readme_after = readme.read_text(encoding="utf-8")
    assert f"[LLM Course]({NEW})" in readme_after
    assert f'[curso]({NEW} "LLM Course")' in readme_after
    assert f"[llm]: {NEW}" in readme_after
    assert f"<{NEW}>" in readme_after
    assert f"cita {OLD} sem link" in readme_after  # prose is not a link
    assert f"[fork]({OLD}-fork)" in readme_after  # a longer URL is another link
    assert GONE in readme_after
    # nothing else moved: same lines apart from the four links
    diff = [
        a for a, b in zip(readme_before.splitlines(), readme_after.splitlines(), strict=True)
        if a != b
    ]  # fmt: skip
    assert len(diff) == 4

    again = CliRunner().invoke(app, [*args, "--yes", "--no-wayback"])
    assert again.exit_code == 0
    assert "no moved links to apply" in again.output
    assert catalog.read_text(encoding="utf-8") == cat_after


def test_apply_to_catalog_keeps_comments_and_layout() -> None:
    text = '# top comment\n[[resources]]\nid = "x"  # stable\nurl = "https://a/"\nlabel = "A"\n'
    out = apply_to_catalog(text, [Move("x", "https://a/", "https://b/")])
    assert out == text.replace("https://a/", "https://b/")


def test_markdown_image_and_angle_links() -> None:
    text = "![logo](<https://a/x.png>) and [t](https://a/x.png 'title')\n"
    out = apply_to_markdown(text, [Move("x", "https://a/x.png", "https://b/y.png")])
    assert out == "![logo](<https://b/y.png>) and [t](https://b/y.png 'title')\n"


def test_atomic_write_keeps_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "resources.toml"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    atomic_write(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["resources.toml"]


RES = Resource("gone", "https://gone.example/page?a=1", Kind.WEB, "s", "Gone")


@pytest.mark.parametrize(
    ("reply", "snapshot", "error"),
    [
        (Reply(200, json.dumps(AVAILABLE).encode()), AVAILABLE, None),
        (Reply(200, b'{"url": "x", "archived_snapshots": {}}'), None, None),
        (Reply(503, b"busy"), None, "archive lookup failed: HTTP 503"),
        (Reply(200, b"<html>not json</html>"), None, "unexpected answer"),
    ],
)
async def test_wayback_client_against_loopback(
    server: LoopbackServer, reply: Reply, snapshot: object, error: str | None
) -> None:
    server.routes["/wayback/available"] = reply
    async with HttpEngine(EngineSettings(allow_private=True, retries=0)) as http:
        snap = await wayback_snapshot(http, RES, server.url("/wayback/available"))
    assert server.requests[-1].path == (
        "/wayback/available?url=https%3A%2F%2Fgone.example%2Fpage%3Fa%3D1"
    )
    if snapshot:
        assert snap.snapshot_url == (
            "https://web.archive.org/web/20240101000000/https://www.promptingguide.ai/"
        )
        assert snap.date == "2024-01-01"
    else:
        assert snap.snapshot_url is None
    if error:
        assert snap.error is not None and snap.error.startswith(error)
    else:
        assert snap.error is None
