"""A catalog and a store filled with a known history, for the report tests.

Six nightly runs, 2026-11-01..06 at 03:00 UTC; run 5 had no usable network. Every verdict
and every state appears, with title, duration, star, archived and final-URL changes.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config.catalog import Catalog, load_catalog
from monitor.domain.models import CheckResult, Metadata, Run, Verdict
from monitor.reports.context import ReportContext, load_context
from monitor.store.database import Store

NOW = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
EVIL_TITLE = "</td><script>alert(1)</script> | [x](javascript:alert(1))"

CATALOG = """
[settings]
locale = "{locale}"

[[sections]]
id = "videos"
title = "Vídeos"

[[sections]]
id = "cursos"
title = "Cursos (6 horas)"

[[sections]]
id = "resources"
title = "Resources 🧰"

[[resources]]
id = "video-ok"
url = "https://www.youtube.com/watch?v=aaaaaaaaaaa"
label = "How Large Language Models Work"
section = "videos"

[[resources]]
id = "video-private"
url = "https://www.youtube.com/watch?v=bbbbbbbbbbb"
label = "What are LLMs?"
section = "videos"

[[resources]]
id = "course-ok"
url = "https://www.deeplearning.ai/short-courses/a/"
label = "Course A"
section = "cursos"

[[resources]]
id = "course-failing"
url = "https://www.deeplearning.ai/short-courses/b/"
label = "Course B"
section = "cursos"

[[resources]]
id = "course-nodur"
url = "https://www.deeplearning.ai/short-courses/c/"
label = "Course C"
section = "cursos"

[[resources]]
id = "repo-stars"
url = "https://github.com/mlabonne/llm-course"
label = "LLM Course"
section = "resources"

[[resources]]
id = "repo-moved"
url = "https://github.com/old-owner/repo"
label = "Moved repo"
section = "resources"

[[resources]]
id = "page-blocked"
url = "https://blocked.example.com/"
label = "Blocked page"
section = "resources"

[[resources]]
id = "page-flaky"
url = "https://flaky.example.com/"
label = "Flaky page"
section = "resources"

[[resources]]
id = "page-recovered"
url = "https://recovered.example.com/"
label = "Recovered page"
section = "resources"

[[resources]]
id = "page-title"
url = "https://title.example.com/"
label = "Page with a new title"
section = "resources"

[[resources]]
id = "file-ok"
url = "spacy_cheatsheet.pdf"
label = "Cheatsheet (pdf)"
section = "resources"

[[resources]]
id = "page-skipped"
url = "https://skipped.example.com/"
label = "Skipped page"
section = "resources"
skip = true

[[resources]]
id = "page-new"
url = "https://new.example.com/"
label = "Not checked yet"
section = "resources"
"""

OK, M, B, BL, E, S = (
    Verdict.OK,
    Verdict.MOVED,
    Verdict.BROKEN,
    Verdict.BLOCKED,
    Verdict.ERROR,
    Verdict.SKIPPED,
)
# verdict per usable run (1, 2, 3, 4, 6); run 5 (network down) is all errors
PLAN: dict[str, list[Verdict]] = {
    "video-ok": [OK, OK, OK, OK, OK],
    "video-private": [OK, OK, OK, B, B],
    "course-ok": [OK, OK, OK, OK, OK],
    "course-failing": [OK, OK, OK, OK, E],
    "course-nodur": [OK, OK, OK, OK, OK],
    "repo-stars": [OK, OK, OK, OK, OK],
    "repo-moved": [OK, OK, M, M, M],
    "page-blocked": [OK, OK, BL, BL, BL],
    "page-flaky": [OK, B, OK, B, OK],
    "page-recovered": [OK, B, B, B, OK],
    "page-title": [OK, OK, OK, OK, OK],
    "file-ok": [OK, OK, OK, OK, OK],
    "page-skipped": [S, S, S, S, S],
}
ERRORS = {B: "HTTP 404", E: "timeout after 20 s", BL: "HTTP 403 (bot challenge)"}
STATUS = {OK: 200, M: 301, B: 404, BL: 403}


def _result(rid: str, url: str, verdict: Verdict, run: int, at: datetime) -> CheckResult:
    meta = Metadata()
    if rid.startswith("video") and verdict is OK:
        meta = Metadata(title="How LLMs work" if rid == "video-ok" else "LLMs", duration_s=754)
    elif rid == "course-ok":
        meta = Metadata(title="Course A: the basics", duration_s=3600)
    elif rid == "course-failing" and verdict is OK:
        meta = Metadata(title="Course B", duration_s=5430)
    elif rid == "repo-stars" and verdict is OK:
        stars = {1: 41000, 2: 41100, 3: 41150, 4: 41200, 6: 41234}[run]
        meta = Metadata(title="mlabonne/llm-course", stars=stars, archived=run == 6)
    elif rid == "page-title":
        meta = Metadata(title=EVIL_TITLE if run == 6 else "Old title")
    error = ERRORS.get(verdict)
    if rid == "video-private" and verdict is B:
        error = "video is private"
    moved_to = "https://github.com/new-owner/repo" if verdict is M else None
    final_url = moved_to or url
    if rid == "page-title" and run == 6:
        final_url = "https://title.example.com/home"
    return CheckResult(
        resource_id=rid,
        url=url,
        verdict=verdict,
        status=STATUS.get(verdict),
        final_url=final_url if verdict in (OK, M) else None,
        elapsed_ms=None if verdict is S else 200 + (run * 37 + len(rid) * 11) % 300,
        error=error,
        note="skip = true in the catalog" if verdict is S else None,
        moved_to=moved_to,
        meta=meta,
        checked_at=at,
    )


def make_catalog(tmp_path: Path, locale: str = "pt-BR") -> Catalog:
    path = tmp_path / "resources.toml"
    path.write_text(CATALOG.format(locale=locale), encoding="utf-8")
    return load_catalog(path)


def fill_store(store: Store, catalog: Catalog) -> None:
    by_id = {r.id: r for r in catalog.resources}
    checked = [by_id[rid] for rid in PLAN]
    usable = iter(range(5))
    for run in range(1, 7):
        at = datetime(2026, 11, run, 3, 0, tzinfo=UTC)
        network_ok = run != 5
        index = next(usable) if network_ok else None
        results = []
        for rid, plan in PLAN.items():
            verdict = plan[index] if index is not None else (S if plan[0] is S else E)
            result = _result(rid, by_id[rid].url, verdict, run, at + timedelta(seconds=5))
            if not network_ok and verdict is E:
                result = CheckResult(
                    resource_id=rid,
                    url=result.url,
                    verdict=E,
                    error="DNS failure",
                    network_failure=True,
                    checked_at=result.checked_at,
                )
            results.append(result)
        store.record_run(
            Run(
                id=None,
                started_at=at,
                finished_at=at + timedelta(seconds=40),
                network_ok=network_ok,
            ),
            results,
            checked,
        )


GOLDEN = Path(__file__).resolve().parent / "golden"
README_IN = """# My roadmap\r
\r
Some prose with a fake marker in a sentence: `<!-- monitor:begin section=x -->`.\r
\r
## Vídeos\r
<!-- monitor:begin section=videos -->\r
old table\r
<!-- monitor:end -->\r
\r
## Cursos (6 horas)\r
\r
<!-- monitor:begin section=cursos -->
<!-- monitor:end -->
trailing   spaces stay   \t
## Resources
  <!-- monitor:begin section=resources -->
| stale | row |
  <!-- monitor:end -->
no newline at the end"""


def build_context(
    tmp_path: Path,
    locale: str = "pt-BR",
    now: datetime = NOW,
    repository_url: str | None = None,
) -> ReportContext:
    tmp_path.mkdir(parents=True, exist_ok=True)
    catalog = make_catalog(tmp_path, locale)
    with Store.open(tmp_path / "history.sqlite") as store:
        fill_store(store, catalog)
        snap = store.snapshot(now, down_after=catalog.settings.down_after)
    return load_context(catalog, snap, now, repository_url)


def assert_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8")
    assert actual == expected, f"{name} differs from the golden file (UPDATE_GOLDEN=1 to accept)"
