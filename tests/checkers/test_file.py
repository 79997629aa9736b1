"""The file checker: relative links against the catalog's folder, never outside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from monitor.checkers.base import CheckContext
from monitor.checkers.file import FileChecker
from monitor.config.catalog import load_catalog
from monitor.domain.models import CheckResult, Kind, Resource, Verdict
from monitor.net.engine import HttpEngine
from tests.conftest import REPO

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n%%EOF\n"


async def check(url: str, base_dir: Path) -> CheckResult:
    resource = Resource(id="f", url=url, kind=Kind.FILE, section="resources", label="f")
    async with HttpEngine() as http:
        return await FileChecker().check(resource, CheckContext(http=http, base_dir=base_dir))


async def test_present_pdf_size_and_type(tmp_path: Path) -> None:
    (tmp_path / "spacy_cheatsheet.pdf").write_bytes(PDF)
    result = await check("spacy_cheatsheet.pdf", tmp_path)
    assert result.verdict is Verdict.OK
    assert result.meta.size_bytes == len(PDF)
    assert result.meta.content_type == "application/pdf"
    assert result.note is None


async def test_pdf_name_with_html_content_is_noted(tmp_path: Path) -> None:
    (tmp_path / "fake.pdf").write_bytes(b"<!DOCTYPE html><title>404</title>")
    result = await check("fake.pdf", tmp_path)
    assert result.verdict is Verdict.OK
    assert result.note == "named like application/pdf but the content is not"


async def test_shipped_catalog_pdf_is_broken_when_missing(tmp_path: Path) -> None:
    """The roadmap links spacy_cheatsheet.pdf; beside a catalog without it, it is broken
    (a copy of the catalog, so the test means the same whether or not the repository holds
    the PDF)."""
    shutil.copy(REPO / "resources.toml", tmp_path / "resources.toml")
    catalog = load_catalog(tmp_path / "resources.toml")
    pdf = catalog.find("datacamp-spacy-cheatsheet-pdf")
    assert pdf is not None and pdf.kind is Kind.FILE
    async with HttpEngine() as http:
        result = await FileChecker().check(pdf, CheckContext(http=http, base_dir=catalog.base_dir))
    assert result.verdict is Verdict.BROKEN
    assert result.error == "file not found: spacy_cheatsheet.pdf"


async def test_encoded_name_subfolder_fragment_and_query(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "my notes.md").write_text("# notes\n")
    # the fragment names the file's heading (a missing one is broken: test_missing_anchor...)
    result = await check("docs/my%20notes.md?plain=1#notes", tmp_path)
    assert result.verdict is Verdict.OK
    assert result.meta.content_type == "text/markdown"
    assert result.meta.size_bytes == 8


@pytest.mark.parametrize("url", ["../secret.txt", "docs/../../secret.txt", "%2E%2E/secret.txt"])
async def test_escaping_the_repository_is_broken(tmp_path: Path, url: str) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("outside")
    result = await check(url, repo)
    assert result.verdict is Verdict.BROKEN
    assert "outside the repository" in (result.error or "")
    assert result.meta.size_bytes is None


async def test_symlink_out_of_the_repository_is_broken(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "secret.txt").write_text("outside")
    (repo / "link.txt").symlink_to(tmp_path / "secret.txt")
    result = await check("link.txt", repo)
    assert result.verdict is Verdict.BROKEN


async def test_folder_link_is_ok(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    result = await check("notebooks/", tmp_path)
    assert result.verdict is Verdict.OK and result.meta.content_type == "inode/directory"


@pytest.mark.parametrize(
    ("url", "verdict", "error"),
    [
        ("guide.md#set-up--run-", Verdict.OK, None),  # GitHub's id for "Set-up & run 🚀"
        ("guide.md#Intro-1", Verdict.OK, None),  # the second "Intro", any case
        ("guide.md#legacy", Verdict.OK, None),  # <a name> in the file's HTML
        ("guide.md#install", Verdict.BROKEN, "missing anchor #install in guide.md"),
        ("data.csv#install", Verdict.OK, None),  # not Markdown: fragments are not ours to judge
    ],
)
async def test_missing_anchor_in_a_markdown_file_is_broken(
    tmp_path: Path, url: str, verdict: Verdict, error: str | None
) -> None:
    (tmp_path / "guide.md").write_text(
        '# Intro\n\n## Set-up & run 🚀\n\n## Intro\n\n<a name="legacy"></a>\n', encoding="utf-8"
    )
    (tmp_path / "data.csv").write_text("a,b\n")
    result = await check(url, tmp_path)
    assert (result.verdict, result.error) == (verdict, error)
