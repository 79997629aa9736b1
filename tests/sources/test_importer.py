"""`monitor import`: the shipped catalog from the seed, re-import rules, the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.catalog import CatalogError, load_catalog, parse_catalog
from monitor.domain.models import Kind
from monitor.sources.importer import ImportResult, detect_locale, import_roadmap

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "fixtures" / "roadmap.md"  # a copy of ../shared/seed/roadmap.md
SHIPPED = ROOT / "resources.toml"
README = ROOT / "README.md"
CATALOG = Path("resources.toml")


def run_import(roadmap: str, catalog: str | None, path: str = "roadmap.md") -> ImportResult:
    return import_roadmap(roadmap, path, catalog, CATALOG)


@pytest.fixture(scope="module")
def seed() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def shipped() -> str:
    return SHIPPED.read_text(encoding="utf-8")


@pytest.mark.parametrize("empty", [None, "", "\n  \n"])
def test_seed_into_an_empty_catalog_is_the_shipped_file(
    seed: str, shipped: str, empty: str | None
) -> None:
    result = run_import(seed, empty)
    assert result.text == shipped
    assert len(result.added) == 16
    assert [s.id for s in result.new_sections] == [
        "aprendizado-de-maquina-vs-modelos-generativos",
        "cursos",
        "resources",
    ]


def test_seed_into_the_shipped_catalog_changes_nothing(seed: str, shipped: str) -> None:
    result = run_import(seed, shipped)
    assert not result.changed
    assert result.text == shipped
    assert (result.added, result.unlined, result.missing) == ((), 0, ())


def test_readme_tables_give_the_same_16_links(shipped: str) -> None:
    readme = README.read_text(encoding="utf-8")
    fresh = run_import(readme, None, "README.md")
    assert fresh.links == 16  # the badge and the maintenance links are outside the markers
    # the README's English maintenance guide outweighs its Portuguese roadmap text
    assert fresh.text == shipped.replace('locale = "pt-BR"', 'locale = "en"')
    onto_shipped = run_import(readme, shipped, "README.md")
    assert onto_shipped.added == () and onto_shipped.missing == ()
    assert not onto_shipped.changed


def test_no_line_numbers_in_the_catalog(seed: str, shipped: str) -> None:
    """One line added at the top of the roadmap rewrites nothing in the catalog."""
    assert "line =" not in shipped
    moved = run_import("New first line.\n\n" + seed, shipped)
    assert not moved.changed


HAND_EDITED = """\
# my own header comment
[settings]
locale = "en"  # readers are English speakers
readme = "README.md"

[[sections]]
id = "videos"
title = "Videos renamed by hand"

[[sections]]
id = "cursos"
title = "Cursos (6 horas)"

[[resources]]
id = "the-video"
url = "https://www.youtube.com/watch?v=qYNweeDHiyU"
label = "A label I prefer"
section = "videos"
kind = "web"
line = 99
accept = [403]
notes = "checked by hand"

# a course without a line
[[resources]]
url = "https://www.deeplearning.ai/short-courses/google-cloud-vertex-ai/"
label = "Embeddings"
section = "cursos"
skip = true
# end of the course entry

[[resources]]
id = "gone"
url = "https://example.com/removed-from-the-roadmap"
label = "Gone"
section = "cursos"
"""


def test_hand_set_fields_survive_and_stored_lines_are_dropped(seed: str) -> None:
    result = run_import(seed, HAND_EDITED)
    text = result.text
    # everything written by hand is still there, byte for byte, but the stored line number
    head = HAND_EDITED.split("\n[[resources]]", 1)[0]
    assert text.startswith(head + '\n[[sections]]\nid = "resources"\ntitle = "Resources 🧰"\n')
    for kept in (
        'label = "A label I prefer"\nsection = "videos"\nkind = "web"\naccept = [403]\n'
        'notes = "checked by hand"\n\n# a course without a line\n[[resources]]\n',
        'label = "Embeddings"\nsection = "cursos"\nskip = true\n# end of the course entry\n',
    ):
        assert kept in text
    assert "line = " not in text
    assert result.unlined == 1
    catalog = parse_catalog(text, CATALOG)
    video = catalog.find("the-video")
    assert video is not None
    assert (video.label, video.kind, video.accept, video.notes) == (
        "A label I prefer", Kind.WEB, (403,), "checked by hand"
    )  # fmt: skip
    assert [k.id for k in result.missing] == ["gone"]
    assert catalog.find("gone") is not None  # kept, never dropped
    # the other videos join the section their neighbour is in, though its title changed
    assert [s.id for s in result.new_sections] == ["resources"]
    assert [a.section for a in result.added[:2]] == ["videos", "videos"]
    assert len(result.added) == 14
    # rows follow the roadmap: new ones sit beside their neighbours, the orphan stays last
    ids = [r.id for r in catalog.resources]
    assert ids[0] == "the-video" and ids[3] == "embeddings" and ids[-1] == "gone"
    assert ids[1:3] == ["how-large-language-models-work", "what-are-large-language-models-llms"]


def test_reimport_is_idempotent_byte_for_byte(seed: str) -> None:
    first = run_import(seed, HAND_EDITED).text
    second = run_import(seed, first)
    assert second.text == first
    assert not second.changed


def test_new_links_go_where_the_roadmap_has_them(seed: str, shipped: str) -> None:
    roadmap = seed.replace(
        "- [VectorHub](https://hub.superlinked.com/)\n",
        "- [VectorHub](https://hub.superlinked.com/)\n- [New One](https://new.example.com/)\n",
    )
    roadmap += "\n## Cursos (2 horas)\n- [Curto](https://www.coursera.org/learn/curto)\n"
    result = run_import(roadmap, shipped)
    assert result.text.startswith(shipped.split("[[resources]]")[0].rstrip("\n"))
    new_one = (
        '[[resources]]\nid = "new-one"\nurl = "https://new.example.com/"\n'
        'label = "New One"\nsection = "resources"\nkind = "web"\n\n'
    )
    # right after VectorHub, before the Datacamp links that follow it in the roadmap
    assert 'url = "https://hub.superlinked.com/"' in result.text.split(new_one)[0]
    assert "datacamp" in result.text.split(new_one)[1]
    assert result.text.endswith(
        '[[resources]]\nid = "curto"\nurl = "https://www.coursera.org/learn/curto"\n'
        'label = "Curto"\nsection = "cursos-2"\nkind = "course"\n'
    )
    # the new section sits after the last one, before the resources
    assert '\n[[sections]]\nid = "cursos-2"\ntitle = "Cursos (2 horas)"\n\n[[resources]]' in (
        result.text
    )
    assert run_import(roadmap, result.text).text == result.text
    catalog = parse_catalog(result.text, CATALOG)
    assert [r.url for r in catalog.resources][-4:] == [
        "https://new.example.com/",
        "https://www.datacamp.com/cheat-sheet/spacy-cheat-sheet-advanced-nlp-in-python",
        "spacy_cheatsheet.pdf",
        "https://www.coursera.org/learn/curto",
    ]


def test_a_section_title_edited_by_hand_keeps_its_id(shipped: str) -> None:
    edited = shipped.replace('title = "Cursos (6 horas)"', 'title = "Cursos curtos"')
    roadmap = "## Cursos (6 horas)\n- [Novo](https://www.udemy.com/course/novo/)\n"
    result = run_import(roadmap, edited)
    assert result.new_sections == ()
    assert result.added[0].section == "cursos"
    assert result.added[0].kind is Kind.COURSE


def test_ids_are_unique_and_links_before_any_heading_get_a_section() -> None:
    roadmap = (
        "[Same](https://a.example.com/) [Same](https://b.example.com/) "
        "[Same](https://a.example.com/)\n\n# Títulos 🚀\n[Links](other.md)\n"
    )
    result = run_import(roadmap, None)
    assert [(a.id, a.section) for a in result.added] == [
        ("same", "links"),
        ("same-2", "links"),
        ("links", "titulos"),
    ]
    assert result.duplicates == 1
    assert [(s.id, s.title) for s in result.new_sections] == [
        ("links", "Links"),
        ("titulos", "Títulos 🚀"),
    ]


def test_relative_links_as_written_and_unsupported_ones_skipped() -> None:
    roadmap = (
        "# S\n"
        "- [pdf](docs/ação 1.pdf) [pdf2](<docs/a b.pdf>) [up](../notes/x.md#part)\n"
        "- [m](mailto:a@b.com) [f](ftp://f.example.com/x) [abs](/etc/passwd) [top](#s)\n"
        "- [web](https://example.com/ação?q=1)\n"
    )
    result = run_import(roadmap, None)
    # <docs/a b.pdf> is the file GitHub links as docs/a%20b.pdf (extraction, issue 10)
    assert [a.url for a in result.added] == [
        "docs/a%20b.pdf",
        "../notes/x.md#part",
        "https://example.com/ação?q=1",
    ]
    assert [(s.link.url, s.link.line) for s in result.skipped] == [
        ("mailto:a@b.com", 3),
        ("ftp://f.example.com/x", 3),
        ("/etc/passwd", 3),
    ]
    assert "scheme 'mailto'" in result.skipped[0].reason
    assert result.anchors == 1


def test_an_invalid_catalog_is_not_imported_into(seed: str) -> None:
    with pytest.raises(CatalogError, match=r"resources.toml:2: .*unknown key 'colour'"):
        run_import(seed, '[settings]\ncolour = "red"\n')


def test_resources_as_an_inline_array_cannot_be_appended_to(seed: str) -> None:
    catalog = 'resources = []\n\n[[sections]]\nid = "x"\ntitle = "X"\n'
    with pytest.raises(CatalogError, match=r"\[\[resources\]\] tables"):
        run_import(seed, catalog)


def test_an_awesome_list_of_hundreds_of_links(tmp_path: Path) -> None:
    lines = ["# Awesome things", ""]
    for s in range(20):
        lines += [f"## Topic {s}", ""]
        lines += [f"- [Thing {s}.{i}](https://ex{s}.example.com/{i}) - a thing" for i in range(15)]
        lines += [""]
    result = run_import("\n".join(lines), None, "awesome.md")
    catalog = parse_catalog(result.text, CATALOG)
    assert len(catalog.resources) == 300 and len(catalog.sections) == 20
    assert catalog.resources[-1].section == "topic-19"
    assert [r.label for r in catalog.resources[:2]] == ["Thing 0.0", "Thing 0.1"]


# --- the command -------------------------------------------------------------------


runner = CliRunner()


def test_command_writes_then_reports_up_to_date(tmp_path: Path, shipped: str) -> None:
    catalog = tmp_path / "resources.toml"
    readme = tmp_path / "README.md"
    readme.write_bytes(SEED.read_bytes())
    first = runner.invoke(app, ["import", str(readme), "--catalog", str(catalog)])
    assert first.exit_code == 0, first.output
    assert catalog.read_text(encoding="utf-8") == shipped
    assert "16 links" in first.output and "wrote" in first.output
    assert load_catalog(catalog).find("llm-course") is not None
    second = runner.invoke(app, ["import", str(readme), "--catalog", str(catalog)])
    assert second.exit_code == 0
    assert "is up to date" in second.output
    assert catalog.read_text(encoding="utf-8") == shipped


def test_command_dry_run_prints_a_diff_and_writes_nothing(tmp_path: Path, shipped: str) -> None:
    catalog = tmp_path / "resources.toml"
    catalog.write_text(shipped, encoding="utf-8")
    roadmap = tmp_path / "list.md"
    roadmap.write_text("## Resources 🧰\n- [VectorHub](https://hub.superlinked.com/)\n")
    result = runner.invoke(app, ["import", str(roadmap), "--catalog", str(catalog), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert '-readme = "README.md"\n+readme = "list.md"\n' in result.output  # the only change
    assert "15 entries of" in result.output and "no longer in the roadmap" in result.output
    assert catalog.read_text(encoding="utf-8") == shipped


def test_command_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[resources]]\nurl = "https://a.com"\n', encoding="utf-8")
    result = runner.invoke(app, ["import", str(SEED), "--catalog", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:1:" in result.output and "missing required key 'label'" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.md"), "--catalog", str(bad)])
    assert missing.exit_code == 2
    assert "cannot read the roadmap" in missing.output


def test_fixture_is_the_seed_roadmap() -> None:
    """The tests use a copy of the seed so a clone without ../shared still runs them."""
    shared = ROOT.parent / "shared" / "seed" / "roadmap.md"
    if not shared.exists():
        pytest.skip("../shared/seed/roadmap.md is not beside this checkout")
    assert SEED.read_bytes() == shared.read_bytes()


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("# Lista\n\nUma lista de cursos e vídeos para quem quer aprender.", "pt-BR"),
        ("# Awesome\n\nA curated list of the tools that are worth your time.", "en"),
        ("# Awesome\n\n- [de que não](https://e.com/the-of-and) - the list of tools", "en"),
    ],
)
def test_locale_is_detected_from_the_prose(text: str, locale: str) -> None:
    assert detect_locale(text) == locale
    assert f'locale = "{locale}"' in run_import(text, None).text


def test_import_from_another_folder_records_the_roadmap_and_its_links_resolve_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The roadmap lives in docs/, the catalog at the top, and every command runs from a
    third folder: the catalog names docs/roadmap.md, and the local PDF link resolves against
    docs/, not against the catalog's folder or the working directory."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "elsewhere").mkdir()
    roadmap = tmp_path / "docs" / "roadmap.md"
    roadmap.write_text("## Files\n- [Sheet](sheet.pdf)\n- [Gone](gone.pdf)\n")
    (tmp_path / "docs" / "sheet.pdf").write_bytes(b"%PDF-1.4\n")  # only beside the roadmap
    (tmp_path / "gone.pdf").write_bytes(b"%PDF-1.4\n")  # decoys beside the catalog...
    (tmp_path / "elsewhere" / "gone.pdf").write_bytes(b"%PDF-1.4\n")  # ...and in the cwd
    catalog = tmp_path / "resources.toml"
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = runner.invoke(app, ["import", "../docs/roadmap.md", "--catalog", "../resources.toml"])
    assert result.exit_code == 0, result.output
    assert 'readme = "docs/roadmap.md"' in catalog.read_text(encoding="utf-8")
    loaded = load_catalog(catalog)
    assert loaded.readme_path.resolve() == roadmap.resolve()
    assert loaded.links_dir.resolve() == roadmap.parent.resolve()
    again = runner.invoke(app, ["import", "../docs/roadmap.md", "--catalog", "../resources.toml"])
    assert "is up to date" in again.output
    check = runner.invoke(app, ["check", "--catalog", "../resources.toml", "--format", "json"])
    verdicts = {r["url"]: r["verdict"] for r in json.loads(check.stdout)["results"]}
    assert verdicts == {"sheet.pdf": "ok", "gone.pdf": "broken"}
