from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.domain.models import CheckResult, Kind, Resource, Run, Verdict
from monitor.reports.downlist import down_resources, render_markdown
from monitor.reports.text import md_escape
from monitor.store.database import Store

T0 = datetime(2026, 11, 1, 3, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
RES = {
    rid: Resource(rid, f"https://{rid}.example/", Kind.WEB, "s", label)
    for rid, label in [
        ("twice", "Broken | twice"),
        ("once", "Once"),
        ("blocked", "Blocked"),
        ("netdown", "Net down"),
        ("recovered", "Recovered"),
    ]
}
PLAN = {  # verdicts per night, oldest first; None = that resource in a network-down run
    "twice": [Verdict.OK, Verdict.BROKEN, Verdict.ERROR],
    "once": [Verdict.OK, Verdict.OK, Verdict.BROKEN],
    "blocked": [Verdict.BLOCKED, Verdict.BLOCKED, Verdict.BLOCKED],
    "netdown": [Verdict.OK, Verdict.BROKEN, Verdict.OK],
    "recovered": [Verdict.BROKEN, Verdict.BROKEN, Verdict.OK],
}


def _store(path: Path) -> Store:
    store = Store.open(path)
    for night in range(3):
        at = T0 + timedelta(days=night)
        results = [
            CheckResult(rid, RES[rid].url, verdicts[night], status=404, checked_at=at)
            for rid, verdicts in PLAN.items()
        ]
        store.record_run(Run(None, at, at), results, list(RES.values()))
    # a network-down run last: it must change nobody's state
    at = T0 + timedelta(days=3)
    down = [
        CheckResult(rid, r.url, Verdict.ERROR, network_failure=True, checked_at=at)
        for rid, r in RES.items()
    ]
    store.record_run(Run(None, at, at, network_ok=False), down, list(RES.values()))
    return store


def test_down_needs_n_consecutive_usable_failures(tmp_path: Path) -> None:
    with _store(tmp_path / "d.sqlite") as store:
        downs = down_resources(list(RES.values()), store.snapshot(NOW, down_after=2))
        assert [d.resource.id for d in downs] == ["twice"]
        assert downs[0].since == T0 + timedelta(days=2)  # down from the 2nd failure
        assert downs[0].latest.verdict is Verdict.ERROR
        assert [
            d.resource.id
            for d in down_resources(list(RES.values()), store.snapshot(NOW, down_after=1))
        ] == [
            "twice",
            "once",
        ]


def test_markdown_is_stable_escaped_and_empty_when_nothing_is_down(tmp_path: Path) -> None:
    with _store(tmp_path / "d.sqlite") as store:
        downs = down_resources(list(RES.values()), store.snapshot(NOW, down_after=2))
    # The whole body, byte for byte: a clock or anything else that changes between nights
    # would make the workflow edit the issue every night (rendering twice in a row would not
    # show it: both renders fall in the same second).
    assert render_markdown(downs, 2) == (
        "1 link is down (failed on the last 2 checks with a working network):\n"
        "\n"
        "| Resource | URL | Verdict | Down since | Detail |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| Broken \\| twice | <https://twice.example/> | error | 2026-11-03 | HTTP 404 |\n"
        "\n"
        "This issue is kept up to date by the nightly workflow and closes itself when every "
        "link has recovered. `monitor fix` suggests archived copies of broken links.\n"
    )
    assert render_markdown([], 2) == ""
    assert md_escape("a|b<script>[x](y)\nz") == "a\\|b&lt;script&gt;\\[x\\](y) z"


def test_down_report_command(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite"
    _store(db).close()
    catalog = tmp_path / "resources.toml"
    lines = ['[[sections]]\nid = "s"\ntitle = "S"']
    for r in RES.values():
        lines.append(
            f'[[resources]]\nid = "{r.id}"\nurl = "{r.url}"\nlabel = "{r.label}"\nsection = "s"'
        )
    catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = ["down-report", "--catalog", str(catalog), "--db", str(db)]
    md = CliRunner().invoke(app, [*base, "--format", "markdown"])
    assert md.exit_code == 0, md.output
    assert md.output.startswith("1 link is down")
    text = CliRunner().invoke(app, base)
    assert text.output == "twice\terror\t2026-11-03\thttps://twice.example/\n"
    assert "Examples" in CliRunner().invoke(app, ["down-report", "--help"]).output
