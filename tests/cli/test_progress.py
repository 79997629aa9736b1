"""The terminal tells one true story: log lines, progress, summary, JSON and the stored run agree.

A flaky link (503, then 200 on the second opinion), a dead one (404) and a healthy one are
checked against a loopback server; then a run whose network is down (names that never
resolve). Both as CI sees it (stderr not a terminal: one line per link) and as a maintainer
sees it (stdout and stderr on a real pseudo-terminal: a bar and a summary table).
"""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.cli.progress import LinkReport
from monitor.config.catalog import EngineSettings
from monitor.domain.models import CheckResult, Verdict
from monitor.reports.formats import summary_line
from monitor.store.database import Store
from tests.conftest import LoopbackServer, Reply, Seen

REPO = Path(__file__).resolve().parents[2]
VERDICTS = "|".join(v.value for v in Verdict)
LOG_LINE = re.compile(rf"^({VERDICTS})\s+(\S+)\s+(\S+)")


# The flaky link fails every request of its first check (the engine's own retries included)
# and answers on the second opinion.
FIRST_CHECK_REQUESTS = EngineSettings().retries + 1


def _flaky(seen: Seen, calls: list[int]) -> Reply:
    calls.append(1)
    if len(calls) <= FIRST_CHECK_REQUESTS:
        return Reply(503, b"busy", headers={"Retry-After": "0"})
    return Reply(200, b"<title>back</title>")


@pytest.fixture
def site(server: LoopbackServer) -> LoopbackServer:
    server.routes["/ok"] = Reply(200, b"<title>fine</title>")
    server.routes["/gone"] = Reply(404, b"not here")
    calls: list[int] = []
    server.routes["/flaky"] = lambda seen: _flaky(seen, calls)
    return server


def _flaky_url(site: LoopbackServer) -> str:
    """The flaky link on a second host name, so the rechecks come from two hosts."""
    return site.url("/flaky").replace("127.0.0.1", "localhost")


def _links(tmp_path: Path, site: LoopbackServer) -> Path:
    path = tmp_path / "links.md"
    path.write_text(
        f"- [ok]({site.url('/ok')})\n- [gone]({site.url('/gone')})\n"
        f"- [flaky]({_flaky_url(site)})\n",
        encoding="utf-8",
    )
    return path


def _down(tmp_path: Path) -> Path:
    path = tmp_path / "down.md"
    path.write_text(
        "".join(f"- [s{i}](https://site{i}.invalid/page)\n" for i in range(4)), encoding="utf-8"
    )
    return path


def _last_logged(stderr: str) -> dict[str, str]:
    """url -> the verdict of the last plain log line that names it."""
    last: dict[str, str] = {}
    for line in stderr.splitlines():
        if match := LOG_LINE.match(line):
            last[match.group(3)] = match.group(1)
    return last


def _stored(db: Path) -> dict[str, str]:
    with Store.open(db) as store:
        (run,) = store.runs(limit=1)
        assert run.id is not None
        history = store.all_history()
    latest: dict[str, str] = {}
    for checks in history.values():
        for stored in checks:
            if stored.run.id == run.id:
                latest[stored.result.url] = stored.result.verdict.value
    return latest


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from monitor.net import guard

    async def resolve(host: str, port: int) -> list[str]:
        if host in ("localhost", "127.0.0.1"):
            return ["127.0.0.1"]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(guard, "system_resolver", resolve)


@pytest.mark.parametrize("which", ["loopback", "network-down"])
def test_log_summary_json_and_store_agree_when_not_a_terminal(
    tmp_path: Path, site: LoopbackServer, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    _no_network(monkeypatch)
    file = _links(tmp_path, site) if which == "loopback" else _down(tmp_path)
    db = tmp_path / "h.sqlite"
    args = ["check", "-i", str(file), "-f", "json", "--db", str(db), "--allow-private"]
    result = CliRunner().invoke(app, [*args, "--recheck-interval", "0"])
    assert result.exit_code == (1 if which == "loopback" else 3), result.output
    data = json.loads(result.stdout)
    from_json = {r["url"]: r["verdict"] for r in data["results"]}
    assert _last_logged(result.stderr) == from_json == _stored(db)
    counts = {k: v for k, v in data["summary"].items() if v}
    assert counts == {v: list(from_json.values()).count(v) for v in set(from_json.values())}
    if which == "loopback":
        assert from_json == {
            site.url("/ok"): "ok",
            site.url("/gone"): "broken",
            _flaky_url(site): "ok",
        }
        # the flaky link: marked provisional first, then its one final verdict
        assert f"first pass: error 503, not final  {_flaky_url(site)}" in result.stderr
        assert result.stderr.count("second opinion: rechecking 2 failed links") == 1
        assert "second opinion" not in result.stderr.replace(
            "second opinion: rechecking 2 failed links", ""
        )
    else:
        assert set(from_json.values()) == {"error"}  # never "broken" on a dead network
        assert "first pass: broken" not in result.stderr  # not even provisionally
        assert "first pass: no answer, not final" in result.stderr
        assert "network unusable" in result.stderr


def test_the_progress_bar_counts_links_not_requests() -> None:
    """The bar's total is the number of links; rechecks are a phase, not more links."""
    from rich.console import Console

    report = LinkReport("bar", console=Console(file=io.StringIO(), force_terminal=True))
    report.start(3)
    assert report.bar is not None
    task = report.bar.tasks[0]
    failed = CheckResult("b", "https://b.example/", Verdict.BROKEN, status=404)
    report.checked(CheckResult("a", "https://a.example/", Verdict.OK), False)
    report.checked(failed, True)
    report.rechecking(1)
    report.checked(CheckResult("c", "https://c.example/", Verdict.OK), False)
    assert task.description == "second opinion (1)"
    assert (task.total, task.completed) == (3, 2)
    report.checked(failed, False)
    assert (task.total, task.completed, task.fields["problems"]) == (3, 3, "1 problem")
    report.close()


def test_counts_are_in_the_right_number(capsys: pytest.CaptureFixture[str]) -> None:
    """ "1 problems", "rechecking 1 failed links", "1 links:" read wrong: one is singular."""
    from rich.console import Console

    report = LinkReport("bar", console=Console(file=io.StringIO(), force_terminal=True))
    assert report.bar is not None
    task = report.bar.tasks[0]
    assert task.fields["problems"] == "0 problems"
    report.start(2)
    report.checked(CheckResult("a", "https://a.example/", Verdict.BROKEN, status=404), False)
    assert task.fields["problems"] == "1 problem"
    report.checked(CheckResult("b", "https://b.example/", Verdict.ERROR), False)
    assert task.fields["problems"] == "2 problems"
    report.close()
    log = LinkReport("log")
    log.start(2)
    log.rechecking(1)
    log.checked(CheckResult("a", "https://a.example/", Verdict.BROKEN, status=404), True)
    log.checked(CheckResult("b", "https://b.example/", Verdict.OK), False)
    log.rechecking(1)
    err = capsys.readouterr().err
    assert "second opinion: rechecking 1 failed link\n" in err
    assert "second opinion: 1 more failed link\n" in err
    one = CheckResult("a", "https://a.example/", Verdict.OK)
    assert summary_line([one]) == "1 link: 1 ok"
    assert summary_line([one, one]) == "2 links: 2 ok"


def _in_a_terminal(args: list[str], cwd: Path, columns: int) -> tuple[int, str]:
    """Run `monitor` with stdout and stderr on a real pseudo-terminal; return its screen."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "40", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=env,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    code = proc.wait(timeout=60)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_in_a_real_terminal_the_summary_table_holds_the_stored_verdicts(
    tmp_path: Path, site: LoopbackServer
) -> None:
    db = tmp_path / "h.sqlite"
    args = ["check", "-i", str(_links(tmp_path, site)), "--db", str(db), "--allow-private"]
    code, screen = _in_a_terminal([*args, "--recheck-interval", "0"], REPO, 120)
    assert code == 1, screen
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    stored = _stored(db)
    assert stored[site.url("/gone")] == "broken" and stored[_flaky_url(site)] == "ok"
    assert "3 links: 1 broken, 2 ok" in plain
    rows = [line for line in plain.splitlines() if "/gone" in line or "/flaky" in line]
    assert any("broken" in row and site.url("/gone") in row for row in rows)
    assert not any("/flaky" in row and "error" in row for row in rows)
    assert "first pass:" not in plain  # the bar, not log lines, on a terminal
