"""`--remap` is transport only, and a home page that picks a language has not moved.

A mirror or a test server reached through `--remap` must never become a resource's
`moved_to`: verdicts, redirect chains and proposed fixes speak of the catalog URL. Real
loopback server, real redirects (relative and absolute `Location`s), the CLI end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.checkers.web import language_home
from monitor.cli.app import app
from tests.conftest import LoopbackServer, Reply

FAST = ["--allow-private", "--recheck-interval", "0", "--quiet"]


def _check(*args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(app, ["check", *args, "-f", "json", *FAST])
    return result.exit_code, json.loads(result.stdout)


def _moved_site(server: LoopbackServer) -> None:
    server.routes["/old"] = Reply(301, headers={"Location": "/new"})  # relative
    server.routes["/abs"] = Reply(301, headers={"Location": server.url("/new2")})  # absolute
    server.routes["/new"] = Reply(200, b"<title>New</title>")
    server.routes["/new2"] = Reply(200, b"<title>New 2</title>")


def test_moved_to_speaks_of_the_catalog_url(tmp_path: Path, server: LoopbackServer) -> None:
    _moved_site(server)
    links = tmp_path / "links.md"
    links.write_text(
        "- [a](https://docs.example.org/old)\n- [b](https://docs.example.org/abs)\n",
        encoding="utf-8",
    )
    remap = rf"^https://docs\.example\.org http://127.0.0.1:{server.port}"
    code, data = _check("-i", str(links), "--remap", remap)
    assert code == 0
    results = {r["url"]: r for r in data["results"]}  # type: ignore[attr-defined]
    old, absolute = results["https://docs.example.org/old"], results["https://docs.example.org/abs"]
    assert old["verdict"] == "moved"
    assert old["moved_to"] == "https://docs.example.org/new"
    assert absolute["verdict"] == "moved"
    assert absolute["moved_to"] == "https://docs.example.org/new2"
    assert "127.0.0.1" not in json.dumps(data)  # no transport address anywhere in the output
    assert {s.path for s in server.requests} >= {"/old", "/abs", "/new", "/new2"}


def test_fix_never_proposes_the_remapped_address(tmp_path: Path, server: LoopbackServer) -> None:
    _moved_site(server)
    catalog = tmp_path / "resources.toml"
    catalog.write_text(
        '[settings]\nreadme = "README.md"\n\n[[sections]]\nid = "s"\ntitle = "S"\n\n'
        '[[resources]]\nid = "doc"\nurl = "https://docs.example.org/old"\nlabel = "Doc"\n'
        'section = "s"\n',
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text(
        "# R\n\n- [Doc](https://docs.example.org/old)\n", encoding="utf-8"
    )
    db = str(tmp_path / "h.sqlite")
    remap = rf"^https://docs\.example\.org http://127.0.0.1:{server.port}"
    code, _ = _check("--catalog", str(catalog), "--db", db, "--remap", remap)
    assert code == 0
    shown = CliRunner().invoke(app, ["fix", "--catalog", str(catalog), "--db", db])
    assert "https://docs.example.org/new" in shown.stdout, shown.output
    assert "127.0.0.1" not in shown.output
    written = CliRunner().invoke(app, ["fix", "--catalog", str(catalog), "--db", db, "--yes"])
    assert written.exit_code == 0, written.output
    assert 'url = "https://docs.example.org/new"' in catalog.read_text(encoding="utf-8")
    assert "127.0.0.1" not in catalog.read_text(encoding="utf-8")
    assert "127.0.0.1" not in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_a_home_page_choosing_a_language_is_not_a_move(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.routes["/"] = Reply(301, headers={"Location": "/en/"})
    server.routes["/en/"] = Reply(200, b"<title>Home</title>")
    server.routes["/docs/"] = Reply(301, headers={"Location": "/en/docs/"})
    server.routes["/en/docs/"] = Reply(200, b"<title>Docs</title>")
    links = tmp_path / "links.txt"
    home, deep = server.url("/"), server.url("/docs/")
    links.write_text(f"{home}\n{deep}\n", encoding="utf-8")
    code, data = _check("-i", str(links))
    results = {r["url"]: r for r in data["results"]}  # type: ignore[attr-defined]
    assert results[home]["verdict"] == "ok"
    assert results[home]["moved_to"] is None
    assert "language" in (results[home]["note"] or "")
    # a deep page moving under a language folder is a real move: the catalog should follow
    assert results[deep]["verdict"] == "moved"
    assert results[deep]["moved_to"] == server.url("/en/docs/")
    assert code == 0


@pytest.mark.parametrize(
    ("original", "target", "expected"),
    [
        ("https://a.org/", "https://a.org/en/", True),
        ("https://a.org", "https://www.a.org/pt-BR/", True),
        ("http://a.org/", "https://a.org/zh-Hans/index.html", True),
        ("https://a.org/", "https://a.org/?hl=fr", True),
        ("https://a.org/docs", "https://a.org/en/docs", False),  # not a home page
        ("https://a.org/", "https://a.org/go/", False),  # not a language
        ("https://a.org/", "https://b.org/en/", False),  # another site
        ("https://a.org/", "https://a.org/en/blog/post-1", False),  # a page, not a home
    ],
)
def test_language_home(original: str, target: str, expected: bool) -> None:
    assert language_home(original, target) is expected
