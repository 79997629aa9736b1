"""`monitor check` end to end where the network verdict decides what a user sees.

- The pull-request gate (`--changed-since`): a new link to a misspelled host is the only host
  the run touches; it must fail the gate (exit 1), not pass as "network unusable" (exit 3).
- `--max-age` with `--db`: reused results are not the run's evidence of a dead network; the
  broken links among them are reported and the run is not stored as an outage.

Names resolve through a fake DNS table (every other name is NXDOMAIN); servers are loopback.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.net import guard as netguard
from monitor.store.database import Store
from tests.conftest import LoopbackServer, Reply

FAST = ["--allow-private", "--recheck-interval", "0", "--quiet"]
KNOWN = {"roadmap.test": "127.0.0.1"}


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        if host in KNOWN:
            return [KNOWN[host]]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard, "system_resolver", resolve)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _pr_repo(tmp_path: Path, server: LoopbackServer) -> Path:
    """A roadmap repository on main with one working link (at a name that resolves)."""
    repo = tmp_path / "roadmap"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "Test")
    _git(repo, "config", "user.email", "test@example.com")
    good = f"http://roadmap.test:{server.port}/guide"
    (repo / "resources.toml").write_text(
        '[engine]\nretries = 0\n\n[[sections]]\nid = "s"\ntitle = "S"\n\n'
        f'[[resources]]\nurl = "{good}"\nlabel = "Guide"\nsection = "s"\n',
        encoding="utf-8",
    )
    (repo / "README.md").write_text(f"# Roadmap\n\n- [Guide]({good})\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "pr")
    return repo


def _add_link(repo: Path, url: str) -> None:
    readme = repo / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + f"- [New]({url})\n", encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "add a link")


def test_pr_gate_fails_on_a_typo_host(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/guide"] = Reply(200, b"<title>Guide</title>")
    repo = _pr_repo(tmp_path, server)
    monkeypatch.chdir(repo)
    _add_link(repo, f"http://roadmap.tset:{server.port}/new-page")  # misspelled host

    code, out, err = run(
        "--changed-since", "main", "--catalog", "resources.toml", "-f", "json", *FAST
    )
    assert code == 1, out + err
    data = json.loads(out)
    assert data["network_ok"] is True
    (result,) = data["results"]
    assert result["url"] == f"http://roadmap.tset:{server.port}/new-page"
    assert result["verdict"] == "broken"
    # the unchanged catalog link was asked as a known-good host, once, with a HEAD
    assert [(r.method, r.path) for r in server.requests] == [("HEAD", "/guide")]
    assert not (repo / "db").exists()


def test_pr_gate_passes_a_good_new_link_without_probing(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/guide"] = Reply(200, b"<title>Guide</title>")
    server.routes["/new-page"] = Reply(200, b"<title>New</title>")
    repo = _pr_repo(tmp_path, server)
    monkeypatch.chdir(repo)
    _add_link(repo, f"http://roadmap.test:{server.port}/new-page")
    code, out, err = run("--changed-since", "main", "--catalog", "resources.toml", *FAST)
    assert code == 0, out + err
    assert "/guide" not in {r.path for r in server.requests}


def test_pr_gate_says_network_unusable_only_when_nothing_known_answers(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _pr_repo(tmp_path, server)
    monkeypatch.chdir(repo)
    _add_link(repo, f"http://roadmap.tset:{server.port}/new-page")
    server.stop()  # the known-good host is unreachable too: we cannot tell
    code, out, err = run(
        "--changed-since", "main", "--catalog", "resources.toml", "-f", "json", *FAST
    )
    assert code == 3, out + err
    assert "no known-good host answered" in err
    assert json.loads(out)["summary"]["broken"] == 0


def test_max_age_reuse_reports_broken_links_and_is_no_outage(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.routes["/ok"] = Reply(200, b"<title>fine</title>")
    dead = socket.socket()  # a port that refuses connections: a network-level error
    dead.bind(("127.0.0.2", 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    links = [
        server.url("/ok"),
        *(server.url(f"/gone{i}") for i in range(4)),
        f"http://127.0.0.2:{dead_port}/x",
    ]
    file = tmp_path / "links.txt"
    file.write_text("\n".join(links) + "\n", encoding="utf-8")
    db = str(tmp_path / "h.sqlite")

    code, out, _ = run("-i", str(file), "--db", db, "-f", "json", *FAST)
    assert code == 1
    first = {r["url"]: r["verdict"] for r in json.loads(out)["results"]}
    assert list(first.values()).count("broken") == 4 and first[links[-1]] == "error"
    served = len(server.requests)

    # Everything but the error is reused; the error fails again below HTTP.
    code, out, err = run("-i", str(file), "--db", db, "--max-age", "6h", "-f", "json", *FAST)
    assert code == 1, out + err  # the four reused broken links still fail the run
    data = json.loads(out)
    assert data["network_ok"] is True
    assert data["summary"]["broken"] == 4
    assert [r.method for r in server.requests[served:]] == ["HEAD"]  # one known-good probe
    with Store.open(db) as store:
        runs = store.runs()
        assert len(runs) == 2
        assert all(r.network_ok for r in runs)  # not stored as an outage


def test_no_name_resolving_is_an_outage_and_a_missing_file_still_counts(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like a runner whose DNS is down: a link by address answers, no name resolves. Two
    nights of that must not make the named link ❌ down (nothing was judged), while the
    missing local file, which needed no network, is down after its two failures."""
    server.routes["/ok"] = Reply(200, b"<title>Local</title>")
    ok = server.url("/ok")  # by address: no DNS needed
    gone = "https://gone.example/page"  # every name fails, as in a DNS outage
    (tmp_path / "resources.toml").write_text(
        '[settings]\nlocale = "en"\nreadme = "README.md"\n\n[engine]\nretries = 0\n\n'
        '[[sections]]\nid = "s"\ntitle = "S"\n\n'
        f'[[resources]]\nurl = "{ok}"\nlabel = "Local"\nsection = "s"\n\n'
        f'[[resources]]\nurl = "{gone}"\nlabel = "Named"\nsection = "s"\n\n'
        '[[resources]]\nurl = "missing.pdf"\nlabel = "Cheatsheet"\nsection = "s"\n',
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text(
        "# List\n\n<!-- monitor:begin section=s mode=list -->\n"
        f"- [Local]({ok})\n- [Named]({gone})\n- [Cheatsheet](missing.pdf)\n"
        "<!-- monitor:end -->\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    for _night in range(2):
        code, out, err = run("--catalog", "resources.toml", "-f", "json", *FAST)
        assert code == 1, out + err  # the missing file; the named link is not judged
        data = json.loads(out)
        assert data["network_ok"] is False
        verdicts = {r["url"]: r["verdict"] for r in data["results"]}
        assert verdicts == {ok: "ok", gone: "error", "missing.pdf": "broken"}
    result = CliRunner().invoke(app, ["readme", "--catalog", "resources.toml"])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "README.md").read_text(encoding="utf-8").splitlines()
    named = next(line for line in lines if gone in line)
    cheatsheet = next(line for line in lines if "missing.pdf" in line)
    assert named == f"- [Named]({gone})"  # no state claimed: never judged
    assert cheatsheet.endswith("<!--monitor-->❌<!--/monitor-->")  # down
    down = CliRunner().invoke(app, ["down-report", "--catalog", "resources.toml"])
    assert gone not in down.stdout and "missing.pdf" in down.stdout
