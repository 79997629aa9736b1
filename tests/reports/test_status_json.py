"""site/status.json: the shape its shipped JSON Schema documents, the values of a known history,
and hostile scraped text escaped and bounded."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from monitor.config.catalog import Catalog
from monitor.domain.models import Metadata
from monitor.reports.context import ReportContext
from monitor.reports.context import build_context as build
from monitor.reports.status_json import SCHEMA_FILE, render_status_json
from tests.report_fixture import NOW, assert_golden, build_context, make_catalog
from tests.reports.hostile import (
    HOSTILE,
    LONG,
    MARKER,
    RTL,
    SCRIPT,
    forbidden_in,
    hostile_text,
    one_check_snapshot,
)


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ReportContext:
    return build_context(tmp_path_factory.mktemp("json"))


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return make_catalog(tmp_path_factory.mktemp("cat"), "en")


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The shipped schema leaves objects open (readers ignore new fields); our own output must
    hold no field the schema does not document, so the test closes every object."""
    closed = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(closed)
    return closed


def load_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


VALIDATOR = Draft202012Validator(
    strict(load_schema()),
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)


def validate(doc: Any) -> None:
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in doc["resources"]}


def test_golden_status_json(ctx: ReportContext) -> None:
    assert_golden("status.json", render_status_json(ctx))


def test_the_schema_is_valid_and_the_output_matches_it(ctx: ReportContext) -> None:
    Draft202012Validator.check_schema(load_schema())
    validate(json.loads(render_status_json(ctx)))


def test_the_schema_rejects_what_it_should() -> None:
    """The schema is not a rubber stamp: a wrong state, a missing field, a naive date fail."""
    good = {
        "schema_version": 1,
        "generated_at": "2026-11-06T12:00:00Z",
        "locale": "en",
        "repository_url": None,
        "last_run": None,
        "summary": {"healthy": 0, "total": 0, "states": {}},
        "resources": [],
    }
    validate(good)
    for broken in (
        {**good, "schema_version": 2},
        {**good, "generated_at": "yesterday"},
        {**good, "summary": {"healthy": 0, "total": 0, "states": {"fine": 1}}},
        {k: v for k, v in good.items() if k != "resources"},
    ):
        assert list(VALIDATOR.iter_errors(broken)), broken


def test_the_schema_documents_every_metadata_field() -> None:
    """A new scraped field must be added to the schema (or kept private) on purpose."""
    props = load_schema()["$defs"]["resource"]["properties"]["metadata"]["properties"]
    fields = {f.name for f in dataclasses.fields(Metadata)}
    assert set(props) == fields - {"etag"}


def test_values_of_the_known_history(ctx: ReportContext) -> None:
    doc = json.loads(render_status_json(ctx))
    assert doc["schema_version"] == 1
    assert doc["generated_at"] == "2026-11-06T12:00:00Z"
    assert doc["last_run"] == {
        "started_at": "2026-11-06T03:00:00Z",
        "finished_at": "2026-11-06T03:00:40Z",
        "network_ok": True,
    }
    assert doc["summary"]["healthy"] == 8 and doc["summary"]["total"] == 13
    assert [r["id"] for r in doc["resources"]][:3] == ["video-ok", "video-private", "course-ok"]
    rows = by_id(doc)
    private = rows["video-private"]
    assert private["state"] == "down" and private["verdict"] == "broken"
    assert private["state_since"] == "2026-11-06T03:00:05Z"
    assert private["last_checked"] == "2026-11-06T03:00:05Z"
    assert private["failures"] == 2 and private["detail"] == "video is private"
    assert private["metadata"] == {"title": "LLMs", "duration_s": 754}  # gap filled from before
    assert private["uptime"][0] == {"days": 7, "share": 0.6}
    moved = rows["repo-moved"]
    assert moved["url"] == "https://github.com/old-owner/repo"  # the catalog URL
    assert moved["moved_to"] == "https://github.com/new-owner/repo"
    assert moved["state"] == "moved" and moved["verdict"] == "moved"
    stars = rows["repo-stars"]["metadata"]
    assert stars["stars"] == 41234 and stars["archived"] is True
    assert rows["page-new"]["state"] == "unknown" and rows["page-new"]["verdict"] is None
    skipped = rows["page-skipped"]
    assert skipped["state"] == "skipped" and skipped["last_checked"] is None
    assert rows["page-flaky"]["state"] == "flaky"
    assert rows["file-ok"]["badge"] == "badges/file-ok.svg"
    assert rows["file-ok"]["badge_endpoint"] == "badges/file-ok.json"
    assert rows["file-ok"]["page"] == "r/file-ok.html"


def test_before_any_check(catalog: Catalog) -> None:
    from monitor.domain.snapshot import HistorySnapshot

    doc = json.loads(render_status_json(build(catalog, HistorySnapshot(), NOW)))
    validate(doc)
    assert doc["last_run"] is None
    assert {r["state"] for r in doc["resources"]} == {"unknown", "skipped"}


def _hostile_doc(catalog: Catalog, title: str, error: str) -> tuple[str, dict[str, Any]]:
    snap = one_check_snapshot("page-title", "https://title.example.com/", title, error, (title,))
    text = render_status_json(build(catalog, snap, NOW))
    return text, by_id(json.loads(text))["page-title"]


def test_hostile_scraped_text_is_escaped_and_bounded(catalog: Catalog) -> None:
    text, row = _hostile_doc(catalog, HOSTILE, SCRIPT + RTL + LONG)
    validate(json.loads(text))
    # Escaped: no tag, no README marker and no direction override in the file's text...
    assert "<" not in text and ">" not in text and "&" not in text
    assert MARKER not in text and "\u202e" not in text
    # ...while the values still say what the page said.
    meta = row["metadata"]
    assert meta["title"].startswith("</script><script>alert(1)</script><!-- monitor:begin")
    assert "\u202e" not in meta["title"] and "gnp.exe" in meta["title"]
    # Bounded: 10,000 characters became 300, visibly cut.
    assert len(meta["title"]) == 300 and meta["title"].endswith("…")
    assert len(meta["description"]) == 1000
    assert len(row["detail"]) == 300 and row["detail"].startswith("</script>")
    assert len(meta["topics"]) == 1 and len(meta["topics"][0]) == 100


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=hostile_text, error=hostile_text)
def test_any_scraped_text_gives_valid_inert_json(catalog: Catalog, title: str, error: str) -> None:
    text, row = _hostile_doc(catalog, title, error)
    text.encode("utf-8")  # no lone surrogate survives
    validate(json.loads(text))
    assert not {"<", ">", "&"} & set(text)
    for value in (row["metadata"].get("title", ""), row["detail"] or ""):
        assert not forbidden_in(value)
        assert len(value) <= 300
    if title.isprintable() and title == title.strip() and len(title) <= 300:
        assert row["metadata"].get("title", "") == title  # clean text passes unchanged


def test_the_readme_validation_command_accepts_the_file(ctx: ReportContext, tmp_path: Path) -> None:
    """README: `check-jsonschema --schemafile monitor/reports/schema/status.v1.json
    site/status.json` (format checks on, as check-jsonschema does by default)."""
    written = tmp_path / "status.json"
    written.write_text(render_status_json(ctx), encoding="utf-8")
    exe = Path(sys.executable).parent / "check-jsonschema"
    ok = subprocess.run(
        [str(exe), "--schemafile", str(SCHEMA_FILE), str(written)], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = json.loads(written.read_text(encoding="utf-8"))
    broken["resources"][0]["last_checked"] = "last night"
    written.write_text(json.dumps(broken), encoding="utf-8")
    bad = subprocess.run(
        [str(exe), "--schemafile", str(SCHEMA_FILE), str(written)], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "last night" in bad.stdout + bad.stderr
