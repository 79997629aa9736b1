"""The registry, and a run over the shipped catalog against loopback emulations of all kinds.

YouTube goes through the yt-dlp seam (one video blocked, so its oEmbed fallback is served
from loopback), GitHub through a loopback REST API, courses and web pages through a loopback
site that every public host is remapped to (the engine's `remap`), and the PDF from a
temporary repository folder.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.checkers import CHECKERS, CheckContext, checker_for
from monitor.checkers.course import CourseChecker
from monitor.checkers.file import FileChecker
from monitor.checkers.github import GithubChecker
from monitor.checkers.web import WebChecker
from monitor.checkers.youtube import YoutubeChecker
from monitor.cli.app import app
from monitor.config.catalog import EngineSettings, GithubSettings, YoutubeSettings, load_catalog
from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Verdict
from monitor.net.engine import HttpEngine
from monitor.run.pipeline import run_checks
from monitor.store.database import Store
from tests.checkers.test_youtube import HINT, yt_error
from tests.conftest import FIXTURES, REPO, LoopbackServer, Reply

TEXT_PAGE = "text_langchain-for-llm-application-development.html"
VIDEO = json.loads((FIXTURES / "youtube" / "video.json").read_text())
COURSE_PAGES = {
    "google-cloud-vertex-ai": "jsonld_google-cloud-vertex-ai.html",
    "open-source-models-hugging-face": "nextdata_open-source-models-hugging-face.html",
    "langchain-for-llm-application-development": TEXT_PAGE,
    "building-generative-ai-applications-with-gradio": TEXT_PAGE,
    "vector-databases-embeddings-applications": "nextdata_lessons-only.html",
    "functions-tools-agents-langchain": "jsonld_google-cloud-vertex-ai.html",
}
WEB_TITLES = {
    "fullstackdeeplearning.com": "The Full Stack - LLM Bootcamp",
    "www.promptingguide.ai": "Prompt Engineering Guide | Prompt Engineering Guide",
    "hub.superlinked.com": "VectorHub by Superlinked",
    "www.datacamp.com": "spaCy Cheat Sheet: Advanced NLP in Python | DataCamp",
}
PUBLIC_HOSTS = {"www.youtube.com", "www.deeplearning.ai", *WEB_TITLES}


def remap(port: int) -> list[tuple[re.Pattern[str], str]]:
    """Every public host of the catalog to its own path prefix on the loopback site."""
    return [
        (re.compile(rf"^https://{re.escape(host)}/"), f"http://127.0.0.1:{port}/{host}/")
        for host in sorted(PUBLIC_HOSTS)
    ]


def test_registry_order_and_kinds() -> None:
    assert [type(c) for c in CHECKERS] == [
        YoutubeChecker,
        GithubChecker,
        CourseChecker,
        FileChecker,
        WebChecker,
    ]
    for kind, expected in [
        (Kind.YOUTUBE, "youtube"),
        (Kind.GITHUB, "github"),
        (Kind.COURSE, "course"),
        (Kind.FILE, "file"),
        (Kind.WEB, "web"),
    ]:
        # the GitHub checker takes repository links only
        url = "https://github.com/o/r" if kind is Kind.GITHUB else "https://example.org/"
        checker = checker_for(Resource(id="x", url=url, kind=kind, section="s", label="l"))
        assert checker is not None and checker.name == expected
    site_page = Resource(
        id="x", url="https://github.com/advisories/GHSA-x", kind=Kind.GITHUB, section="s", label="l"
    )
    assert checker_for(site_page) is CHECKERS[-1]  # a GitHub site page is a web link


def _site(server: LoopbackServer) -> None:
    for slug, name in COURSE_PAGES.items():
        page = (FIXTURES / "courses" / name).read_bytes()
        server.routes[f"/www.deeplearning.ai/short-courses/{slug}/"] = Reply(200, page)
    for host, title in WEB_TITLES.items():
        page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        path = (
            "/cheat-sheet/spacy-cheat-sheet-advanced-nlp-in-python" if "datacamp" in host else "/"
        )
        server.routes[f"/{host}{path}"] = Reply(200, page.encode())
    server.routes["/www.youtube.com/oembed"] = Reply(
        200,
        (FIXTURES / "youtube" / "oembed.json").read_bytes(),
        {"Content-Type": "application/json"},
    )


def _github(api: LoopbackServer) -> None:
    for name in ("llm-course", "hands-on-llms"):
        body = (FIXTURES / "github" / f"repo_{name}.json").read_bytes()
        full_name = json.loads(body)["full_name"]
        api.routes[f"/repos/{full_name}"] = Reply(
            200, body, {"Content-Type": "application/json", "ETag": '"e1"'}
        )


def _extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
    video_id = url.split("v=")[1]
    if video_id == "iR2O2GPbB0E":  # blocked on this "runner": the oEmbed fallback answers
        raise yt_error(video_id, f"Sign in to confirm you’re not a bot. {HINT}")
    info = copy.deepcopy(VIDEO)
    info.update(id=video_id, title=f"Video {video_id}", webpage_url=url)
    return info


@pytest.fixture
def scenario(
    tmp_path: Path, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, list[CheckResult]]:
    import asyncio

    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    repo = tmp_path / "roadmap"
    repo.mkdir()
    shutil.copy(REPO / "resources.toml", repo / "resources.toml")
    (repo / "spacy_cheatsheet.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    catalog = load_catalog(repo / "resources.toml")
    youtube = next(c for c in CHECKERS if isinstance(c, YoutubeChecker))
    monkeypatch.setattr(youtube, "extract", _extract)
    _site(server)
    api = LoopbackServer().start()
    try:
        _github(api)

        async def go() -> list[CheckResult]:
            settings = EngineSettings(allow_private=True, retries=0)
            async with HttpEngine(settings, remap=remap(server.port)) as http:
                ctx = CheckContext(
                    http=http,
                    base_dir=catalog.base_dir,
                    youtube=YoutubeSettings(min_interval_ms=0),
                    github=GithubSettings(api_url=api.url()),
                )
                outcome = await run_checks(catalog.resources, ctx)
            db = repo / "monitor.sqlite"
            with Store.open(db) as store:
                store.record_run(outcome.run, outcome.results, catalog.resources)
            return list(outcome.results)

        results = asyncio.run(go())
    finally:
        api.stop()
    return repo, repo / "monitor.sqlite", results


def test_shipped_catalog_run_stores_metadata(
    scenario: tuple[Path, Path, list[CheckResult]],
) -> None:
    repo, db, results = scenario
    catalog = load_catalog(repo / "resources.toml")
    assert len(catalog.resources) == 16
    by_id = {r.resource_id: r for r in results}
    assert all(r.verdict is Verdict.OK for r in results), [
        (r.resource_id, r.verdict, r.error) for r in results
    ]
    with Store.open(db) as store:
        stored = {r.id: store.latest(r.id) for r in catalog.resources}
    assert all(s is not None for s in stored.values())
    for resource in catalog.resources:
        latest = stored[resource.id]
        assert latest is not None and latest.meta != Metadata(), resource.id
        assert latest.checker == resource.kind.value
    # What each kind brought back, as stored.
    assert stored["llm-course"].meta.stars == 71842  # type: ignore[union-attr]
    assert stored["hands-on-llms-course"].meta.archived is True  # type: ignore[union-attr]
    assert stored["how-large-language-models-work"].meta.duration_s == 603  # type: ignore[union-attr]
    blocked = by_id["what-are-large-language-models-llms"]
    assert (
        blocked.partial
        and blocked.meta.title == "AI, Machine Learning, Deep Learning and Generative AI Explained"
    )
    durations = [stored[r.id].meta.duration_s for r in catalog.resources if r.section == "cursos"]  # type: ignore[union-attr]
    assert durations == [4560, 4500, 5880, 5880, 2100, 4560]
    # "Cursos (6 horas)": the real total of the emulated pages.
    assert sum(d or 0 for d in durations) == 27_480
    assert stored["vectorhub"].meta.title == "VectorHub by Superlinked"  # type: ignore[union-attr]
    assert stored["datacamp-spacy-cheatsheet-pdf"].meta.content_type == "application/pdf"  # type: ignore[union-attr]

    runner = CliRunner()
    out = runner.invoke(
        app,
        ["history", "llm-course", "--catalog", str(repo / "resources.toml"), "--db", str(db)],
        env={"COLUMNS": "200"},
    )
    assert out.exit_code == 0, out.output
    assert "mlabonne/llm-course" in out.output and "ok" in out.output
    out = runner.invoke(
        app,
        [
            "history",
            "understanding-and-applying-text-embeddings",
            "--catalog",
            str(repo / "resources.toml"),
            "--db",
            str(db),
        ],
        env={"COLUMNS": "200"},
    )
    assert "Understanding and Applying Text Embeddings" in out.output
