"""`monitor check` end to end: ad-hoc files in every format, options, exit codes, the store."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.net import guard as netguard
from monitor.store.database import Store
from tests.conftest import LoopbackServer, Reply

# No waiting in tests: the second opinion runs at full speed.
FAST = ["--allow-private", "--recheck-interval", "0", "--quiet"]


@pytest.fixture(autouse=True)
def no_real_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the internet: every name but localhost is unknown."""

    async def resolve(host: str, port: int) -> list[str]:
        if host == "localhost":
            return ["127.0.0.1"]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(netguard, "system_resolver", resolve)


@pytest.fixture
def site(server: LoopbackServer) -> LoopbackServer:
    server.routes["/ok"] = Reply(200, b"<title>fine</title>")
    server.routes["/old"] = Reply(301, headers={"Location": "/ok"})
    server.routes["/forbidden"] = Reply(403, b"no")
    return server


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def markdown(tmp_path: Path, site: LoopbackServer) -> Path:
    return write(
        tmp_path / "links.md",
        f"# Links\n\n## Good\n\n- [ok]({site.url('/ok')})\n- [again]({site.url('/ok')})\n"
        f"- [mail](mailto:someone@example.org)\n\n## Bad\n\n"
        f"- [gone]({site.url('/gone')})\n- [ok too]({site.url('/old')})\n",
    )


def test_markdown_input_as_json(tmp_path: Path, site: LoopbackServer) -> None:
    code, out, _ = run("--input", str(markdown(tmp_path, site)), "--format", "json", *FAST)
    assert code == 1
    data = json.loads(out)
    assert data["network_ok"] is True
    assert data["summary"] == {
        "broken": 1, "moved": 1, "blocked": 0, "error": 0, "skipped": 1, "ok": 1
    }  # fmt: skip
    assert data["skipped_reasons"] == {"mailto link, not checked": 1}  # found, not dropped
    by_url = {r["url"]: r for r in data["results"]}
    assert set(by_url) == {
        site.url("/ok"), site.url("/gone"), site.url("/old"), "mailto:someone@example.org"
    }  # deduped  # fmt: skip
    gone = by_url[site.url("/gone")]
    assert (gone["verdict"], gone["status"]) == ("broken", 404)
    assert gone["note"] == "confirmed on second check"
    old = by_url[site.url("/old")]
    assert old["redirects"] == [{"url": site.url("/old"), "status": 301}]
    assert old["final_url"] == site.url("/ok")
    assert set(old) >= {"resource_id", "elapsed_ms", "error", "moved_to", "checker", "meta"}


def test_html_input_as_markdown_report(tmp_path: Path, site: LoopbackServer) -> None:
    page = write(
        tmp_path / "page.html",
        f'<html><body><a href="{site.url("/ok")}">ok</a> '
        f'<a href="{site.url("/forbidden")}">private | area</a></body></html>',
    )
    report = tmp_path / "report.md"
    code, out, _ = run("-i", str(page), "-f", "markdown", "-o", str(report), *FAST)
    assert code == 0  # blocked does not fail by default
    assert out == ""
    text = report.read_text()
    assert "2 links: 1 blocked, 1 ok" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")][2:]
    assert rows[0].startswith("| blocked |")  # problems first
    assert rows[1].startswith("| ok |")


def test_plain_list_as_text(tmp_path: Path, site: LoopbackServer) -> None:
    urls = write(tmp_path / "urls.txt", f"{site.url('/ok')}\n{site.url('/gone')}\n")
    report = tmp_path / "out.txt"
    code, _, _ = run("-i", str(urls), "--output", str(report), *FAST)
    assert code == 1
    lines = report.read_text().splitlines()
    assert lines[0].startswith(f"broken   {site.url('/gone')}")
    assert lines[-1] == "2 links: 1 broken, 1 ok"


def test_piped_text_is_one_line_per_link_and_the_summary_on_stderr(
    tmp_path: Path, site: LoopbackServer
) -> None:
    code, out, err = run("-i", str(markdown(tmp_path, site)), *FAST)
    assert code == 1
    lines = [line.split("\t")[0] for line in out.splitlines()]
    assert lines == ["broken", "moved", "skipped", "ok"]
    assert "4 links: 1 broken, 1 moved, 1 skipped (mailto link, not checked), 1 ok" in err


def test_log_lines_when_not_a_terminal(tmp_path: Path, site: LoopbackServer) -> None:
    args = ["-i", str(markdown(tmp_path, site)), "-f", "json", "--allow-private"]
    code, out, err = run(*args, "--recheck-interval", "0")
    assert code == 1
    json.loads(out)  # log lines go to stderr, the JSON stays parseable
    assert f"broken   404 {site.url('/gone')}" in err
    assert "second opinion: rechecking 1" in err
    assert err.count(f"ok       200 {site.url('/ok')}") == 1  # /old's line names /ok too


def test_exclude_and_fail_on(tmp_path: Path, site: LoopbackServer) -> None:
    file = markdown(tmp_path, site)
    code, out, _ = run("-i", str(file), "-f", "json", "--exclude", "/gone$", *FAST)
    assert code == 0
    data = json.loads(out)
    gone = next(r for r in data["results"] if r["url"].endswith("/gone"))
    assert gone["verdict"] == "skipped"
    assert site.requests and all(s.path != "/gone" for s in site.requests)
    code, _, _ = run("-i", str(file), "--exclude", "/gone$", "--fail-on", "ok", *FAST)
    assert code == 1


def test_remap_sends_urls_to_a_test_server(tmp_path: Path, site: LoopbackServer) -> None:
    file = write(tmp_path / "l.md", "- [x](https://docs.example.org/ok)\n")
    remap = rf"^https://docs\.example\.org http://127.0.0.1:{site.port}"
    code, out, _ = run("-i", str(file), "-f", "json", "--remap", remap, *FAST)
    assert code == 0
    (result,) = json.loads(out)["results"]
    assert result["url"] == "https://docs.example.org/ok"
    assert result["verdict"] == "ok"
    assert [s.path for s in site.requests] == ["/ok"]


def test_private_addresses_skipped_without_allow_private(
    tmp_path: Path, site: LoopbackServer
) -> None:
    file = write(tmp_path / "l.md", f"- [x]({site.url('/ok')})\n")
    code, out, _ = run("-i", str(file), "-f", "json", "--quiet")
    assert code == 0
    (result,) = json.loads(out)["results"]
    assert result["verdict"] == "skipped"
    assert "loopback" in result["note"]
    assert site.requests == []


def test_network_down_exits_3_and_calls_nothing_broken(tmp_path: Path) -> None:
    file = write(
        tmp_path / "l.md", "".join(f"- [s{i}](https://site{i}.example/)\n" for i in range(4))
    )
    code, out, err = run("-i", str(file), "-f", "json", *FAST)
    assert code == 3
    assert "network unusable" in err
    data = json.loads(out)
    assert data["network_ok"] is False
    assert data["summary"]["broken"] == 0
    assert {r["verdict"] for r in data["results"]} == {"error"}


def test_max_age_reuses_stored_results(tmp_path: Path, site: LoopbackServer) -> None:
    file = markdown(tmp_path, site)
    db = str(tmp_path / "h.sqlite")
    code, _, _ = run("-i", str(file), "--db", db, *FAST)
    assert code == 1
    first = len(site.requests)
    code, out, _ = run("-i", str(file), "--db", db, "--max-age", "6h", "-f", "json", *FAST)
    assert code == 1  # the stored broken verdict still counts
    assert len(site.requests) == first  # nothing fetched again
    notes = [r["note"] for r in json.loads(out)["results"]]
    assert all("--max-age" in (n or "") for n in notes)
    code, _, _ = run("-i", str(file), "--db", db, "--max-age", "0s", *FAST)
    assert len(site.requests) > first
    with Store.open(db) as store:
        assert len(store.runs()) == 2  # the run that reused everything recorded nothing new
        assert all(run.trigger == "adhoc" for run in store.runs())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-age", "soon"], "--max-age"),
        (["--remap", "nospace"], "--remap"),
        (["--remap", "( x"], "bad regular expression"),
        (["--exclude", "("], "--exclude"),
        (["--fail-on", "broken,awful"], "--fail-on"),
        (["--host-limit", "example.org=lots"], "--host-limit"),
        (["--host-limit", "example.org=999"], "--host-limit"),
        (["--header", "no colon"], "--header"),
        (["--concurrency", "0"], "concurrency"),
        (["--max-age", "1h"], "needs --db"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    file = write(tmp_path / "l.md", "- [x](https://a.example/)\n")
    code, _, err = run("-i", str(file), *args)
    assert code == 2
    assert message in err


def test_missing_input_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run("-i", str(tmp_path / "nope.md"))
    assert code == 2
    assert "cannot read" in err


def test_catalog_mode_records_a_network_down_run(tmp_path: Path) -> None:
    catalog = write(
        tmp_path / "resources.toml",
        '[engine]\nretries = 0\n\n[[sections]]\nid = "s"\ntitle = "S"\n\n'
        + "".join(
            f'[[resources]]\nurl = "https://site{i}.example/"\n'
            f'label = "Site {i}"\nsection = "s"\n\n'
            for i in range(3)
        ),
    )
    db = str(tmp_path / "h.sqlite")
    code, _, err = run("--catalog", str(catalog), "--db", db, "--quiet")
    assert code == 3
    assert "recorded" in err
    with Store.open(db) as store:
        (stored,) = store.runs()
        assert stored.network_ok is False
        assert store.latest("site-0").verdict.value == "error"  # type: ignore[union-attr]


def test_host_limit_and_headers_reach_the_server(tmp_path: Path, site: LoopbackServer) -> None:
    file = write(tmp_path / "l.txt", "\n".join(site.url(f"/ok?{i}") for i in range(6)))
    code, _, _ = run(
        "-i", str(file), "--host-limit", "127.0.0.1=1/50", "--user-agent", "tester/2",
        "--header", "X-Token: abc", *FAST,
    )  # fmt: skip
    assert code == 0
    assert site.max_active == 1
    assert {s.headers["User-Agent"] for s in site.requests} == {"tester/2"}
    assert {s.headers["X-Token"] for s in site.requests} == {"abc"}


def test_every_link_found_is_checked_or_skipped_with_its_reason(
    tmp_path: Path, site: LoopbackServer
) -> None:
    """Kind 3 of issue 10: root-relative links, same-page and local-file anchors, inline HTML
    in a table cell, a www. autolink: each is checked or reported skipped, in every format."""
    write(tmp_path / "other.md", '# Other\n\n## A heading\n\n<a name="legacy"></a>\n')
    doc = write(
        tmp_path / "doc.md",
        "# Guide\n\n## Set-up & run 🚀\n\n"
        f'| a | b |\n|---|---|\n| <a href="{site.url("/ok")}">cell</a> | x |\n\n'
        "- [root](/docs/install) and [root too](/faq)\n"
        "- [here](#set-up--run-) [nowhere](#no-such-heading)\n"
        "- [there](other.md#a-heading) [legacy](other.md#legacy) [gone](other.md#missing)\n"
        "- [mail](mailto:a@b.org)\n",
    )
    code, out, _ = run("-i", str(doc), "-f", "json", *FAST)
    assert code == 1
    data = json.loads(out)
    by_id = {r["resource_id"]: r for r in data["results"]}
    assert by_id[site.url("/ok")]["verdict"] == "ok"  # inline HTML in a table cell
    assert by_id["/docs/install"]["verdict"] == "skipped"
    assert by_id["/docs/install"]["note"] == "root-relative link, no site root"
    assert by_id["doc.md#set-up--run-"]["verdict"] == "ok"  # GitHub's heading id rules
    assert by_id["doc.md#no-such-heading"]["verdict"] == "broken"
    assert by_id["doc.md#no-such-heading"]["error"] == "missing anchor #no-such-heading in doc.md"
    assert by_id["other.md#a-heading"]["verdict"] == "ok"
    assert by_id["other.md#legacy"]["verdict"] == "ok"
    assert by_id["other.md#missing"]["error"] == "missing anchor #missing in other.md"
    assert data["summary"]["skipped"] == 3
    assert data["skipped_reasons"] == {
        "root-relative link, no site root": 2,
        "mailto link, not checked": 1,
    }
    code, out, err = run("-i", str(doc), *FAST)
    assert (
        "9 links: 2 broken, 3 skipped (2 root-relative link, no site root; "
        "1 mailto link, not checked), 4 ok"
    ) in " ".join((out + err).split())
    report = tmp_path / "report.md"
    run("-i", str(doc), "-f", "markdown", "-o", str(report), *FAST)
    text = report.read_text()
    row = next(line for line in text.splitlines() if "/docs/install" in line)
    assert row.startswith("| skipped |") and "root-relative link, no site root" in row


def test_the_readme_says_what_check_does_with_a_same_page_anchor(tmp_path: Path) -> None:
    """README "What is checked" once listed same-page `#anchors` as not checked, while
    `monitor check FILE` checks them: the README now quotes what the check reports."""
    doc = write(tmp_path / "doc.md", "# Doc\n\n- [bad](#nope)\n")
    code, out, _ = run(str(doc), "-f", "json", *FAST)
    assert code == 1
    (result,) = json.loads(out)["results"]
    assert (result["verdict"], result["error"]) == ("broken", "missing anchor #nope in doc.md")
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    what = " ".join(readme[readme.index("**What is checked.**") :].split("\n\n")[0].split())
    not_checked = what[what.index("Not checked:") :].split(".")[0]
    assert "anchor" not in not_checked, not_checked
    assert '`monitor check FILE` reports `- [x](#nope)` broken: "missing anchor #nope in' in what


def test_malformed_links_are_reported_skipped_and_counted_under_one_reason(
    tmp_path: Path,
) -> None:
    """`https://[`, a port out of range and a URL without a host: each is a link the
    author wrote, so it is listed (skipped, with the detail) and counted, never dropped."""
    file = write(
        tmp_path / "bad.md",
        "- [x](https://[)\n- [y](http://127.0.0.1:99999/)\n- [z](http:///path)\n",
    )
    code, out, _ = run(str(file), "-f", "json", "--quiet")
    assert code == 0
    data = json.loads(out)
    assert data["skipped_reasons"] == {"malformed URL": 3}
    assert [r["url"] for r in data["results"]] == [
        "https://[",
        "http://127.0.0.1:99999/",
        "http:///path",
    ]
    notes = [r["note"] for r in data["results"]]
    assert "Invalid IPv6 URL" in notes[0] and "has no host" in notes[2]
