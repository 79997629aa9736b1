"""The catalog: every validation error with its message and line, kinds, slugs, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from monitor.cli.app import app
from monitor.config.catalog import (
    Catalog,
    CatalogError,
    infer_kind,
    load_catalog,
    parse_catalog,
    slugify,
    unique_slug,
)
from monitor.domain.models import Kind

ROOT = Path(__file__).resolve().parents[2]
PATH = Path("bad.toml")

SECTION = '[[sections]]\nid = "s"\ntitle = "S"\n'


def entry(url: str = "https://a.example.com/", extra: str = "") -> str:
    return f'\n[[resources]]\nurl = "{url}"\nlabel = "A"\nsection = "s"\n{extra}'


def error_of(text: str) -> CatalogError:
    with pytest.raises(CatalogError) as info:
        parse_catalog(text, PATH)
    return info.value


def test_the_shipped_catalog_loads() -> None:
    catalog = load_catalog(ROOT / "resources.toml")
    assert len(catalog.resources) == 16
    assert len({r.url for r in catalog.resources}) == 16
    assert [s.id for s in catalog.sections] == [
        "aprendizado-de-maquina-vs-modelos-generativos",
        "cursos",
        "resources",
    ]
    kinds = [r.kind for r in catalog.resources]
    assert (kinds.count(Kind.YOUTUBE), kinds.count(Kind.COURSE)) == (3, 6)
    assert (kinds.count(Kind.GITHUB), kinds.count(Kind.WEB), kinds.count(Kind.FILE)) == (2, 4, 1)
    assert catalog.readme_path == ROOT / "README.md"
    pdf = catalog.find("spacy_cheatsheet.pdf")
    assert pdf is not None and pdf.id == "datacamp-spacy-cheatsheet-pdf"
    assert catalog.find("llm-course") == catalog.find("https://github.com/mlabonne/llm-course")
    assert {s.id: s.title for s in catalog.sections}["cursos"] == "Cursos (6 horas)"


# (name, catalog text, expected line, expected problem (a substring of the message))
ERRORS = [
    ("malformed TOML", SECTION + "[[resources]\n", 4, "not valid TOML: "),
    ("unterminated string", 'x = "abc\n', 1, "not valid TOML: "),
    ("duplicate TOML key", SECTION + 'title = "again"\n', 4, "not valid TOML: "),
    ("unknown top-level key", 'colour = "red"\n' + SECTION, 1, "colour: unknown key 'colour'"),
    ("unknown top-level table", SECTION + "\n[colours]\nred = 1\n", 5, "unknown key 'colours'"),
    (
        "unknown key in [settings]",
        '[settings]\nlocale = "en"\ncolour = "red"\n',
        3,
        "settings.colour: unknown key 'colour'",
    ),
    (
        "unknown key in a [[resources]] entry",
        SECTION + entry() + entry("https://b.example.com/", 'colour = "red"\n'),
        14,
        "resources[1].colour: unknown key 'colour'",
    ),
    (
        "missing url",
        SECTION + '\n[[resources]]\nlabel = "A"\nsection = "s"\n',
        5,
        "resources[0]: missing required key 'url'",
    ),
    (
        "missing label",
        SECTION + '\n[[resources]]\nurl = "https://a.com"\nsection = "s"\n',
        5,
        "resources[0]: missing required key 'label'",
    ),
    (
        "misspelt url is named, not reported missing",
        SECTION + '\n[[resources]]\nurll = "https://a.com"\nlabel = "A"\nsection = "s"\n',
        6,
        "resources[0].urll: unknown key 'urll'; did you mean 'url'?",
    ),
    (
        "misspelt title of a section",
        '[[sections]]\nid = "s"\ntitel = "S"\n',
        3,
        "sections[0].titel: unknown key 'titel'; did you mean 'title'?",
    ),
    (
        "missing section title",
        '[[sections]]\nid = "s"\n',
        1,
        "sections[0]: missing required key 'title'",
    ),
    ("URL without host", SECTION + entry("https://"), 6, "URL 'https://' has no host"),
    ("URL with a space", SECTION + entry("https://a.com/x y"), 6, "contains whitespace"),
    ("empty URL", SECTION + entry(""), 6, "URL is empty"),
    ("protocol-relative URL", SECTION + entry("//cdn.example.com/x"), 6, "protocol-relative"),
    ("same-page anchor", SECTION + entry("#top"), 6, "names no file"),
    (
        "duplicate URL",
        SECTION + entry() + entry(),
        11,
        "resources[1].url: duplicate URL 'https://a.example.com/' in section 's' (first at line 6)",
    ),
    (
        "unknown section",
        SECTION + '\n[[resources]]\nurl = "https://a.com"\nlabel = "A"\nsection = "t"\n',
        8,
        "resources[0].section: unknown section 't' (known: s)",
    ),
    ("ftp scheme", SECTION + entry("ftp://f.example.com/x"), 6, "has scheme 'ftp'; only http"),
    ("javascript scheme", SECTION + entry("javascript:alert(1)"), 6, "scheme 'javascript'"),
    ("mailto scheme", SECTION + entry("mailto:a@example.com"), 6, "has scheme 'mailto'"),
    ("file scheme", SECTION + entry("file:///etc/passwd"), 6, "has scheme 'file'"),
    ("absolute path", SECTION + entry("/etc/passwd"), 6, "'/etc/passwd' is absolute"),
    (
        "duplicate id",
        SECTION + entry(extra='id = "x"\n') + entry("https://b.com", 'id = "x"\n'),
        15,
        "resources[1].id: duplicate id 'x'",
    ),
    ("invalid id", SECTION + entry(extra='id = "Not A Slug"\n'), 9, "resources[0].id: String"),
    ("duplicate section", SECTION + SECTION, 5, "sections[1].id: duplicate section 's'"),
    ("unknown kind", SECTION + entry(extra='kind = "podcast"\n'), 9, "resources[0].kind: Input"),
    (
        "file kind on a URL",
        SECTION + entry(extra='kind = "file"\n'),
        9,
        "'file' needs a relative path",
    ),
    (
        "web kind on a file",
        SECTION + entry("a.pdf", 'kind = "youtube"\n'),
        9,
        "'youtube' needs an http(s) URL",
    ),
    (
        "accept out of range",
        SECTION + entry(extra="accept = [200, 999]\n"),
        9,
        "accept has codes outside 100-599: [999]",
    ),
    ("bad locale", '\n[settings]\nlocale = "fr"\n', 3, "settings.locale: unknown locale 'fr'"),
    (
        "bad host limit",
        '[hosts."a.example.com"]\nconcurrency = 0\n',
        2,
        "hosts.a.example.com.concurrency: Input should be greater than or equal to 1",
    ),
    (
        "resources not a list",
        '\n\nresources = "all of them"\n',
        3,
        "resources: Input should be a valid list",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "problem"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_each_error_names_file_line_and_problem(text: str, line: int, problem: str) -> None:
    err = error_of(text)
    assert err.path == PATH
    assert err.line == line
    assert problem in err.problem
    assert str(err) == f"bad.toml:{line}: {err.problem}"


def test_malformed_toml_message_drops_tomllib_position() -> None:
    err = error_of('[settings]\nlocale = "en"\nlocale = "pt-BR"\n')
    assert err.line == 3
    assert "(at line" not in err.problem


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    err = error_of("x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert err.line is None
    assert str(err) == "bad.toml: not valid TOML: values nested too deeply"


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="catalog file not found"):
        load_catalog(tmp_path / "missing.toml")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('[[sections]]\nid = "s"\ntitle = "Ação"\n'.encode("latin-1"))
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_catalog(latin1)
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path)


def test_ids_are_derived_from_labels_and_stay_unique() -> None:
    text = SECTION + entry() + entry("https://b.com") + entry("https://c.com", 'id = "a-2"\n')
    catalog = parse_catalog(text, PATH)
    assert [r.id for r in catalog.resources] == ["a", "a-3", "a-2"]


def test_defaults_and_relative_files() -> None:
    catalog = parse_catalog(SECTION + entry("docs/a b%20c.pdf".replace(" ", "")), PATH)
    assert isinstance(catalog, Catalog)
    (res,) = catalog.resources
    assert (res.kind, res.url, res.skip, res.accept) == (Kind.FILE, "docs/ab%20c.pdf", False, ())
    # No locale: English, the source language of the messages (monitor init writes one).
    assert catalog.settings.locale == "en" and catalog.settings.down_after == 2
    assert catalog.engine.per_host_concurrency == 10


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://www.youtube.com/watch?v=qYNweeDHiyU", Kind.YOUTUBE),
        ("https://youtu.be/qYNweeDHiyU", Kind.YOUTUBE),
        ("https://m.youtube.com/watch?v=x", Kind.YOUTUBE),
        ("https://music.youtube.com/watch?v=x", Kind.YOUTUBE),
        ("https://WWW.YOUTUBE.COM/watch?v=x", Kind.YOUTUBE),
        ("https://github.com/mlabonne/llm-course", Kind.GITHUB),
        ("https://github.com/iusztinpaul/hands-on-llms?tab=readme-ov-file#x", Kind.GITHUB),
        ("https://www.github.com/a/b/tree/main/docs", Kind.GITHUB),
        ("https://github.com/mlabonne", Kind.WEB),
        ("https://github.com/topics/llm", Kind.WEB),
        ("https://github.com/orgs/python/repositories", Kind.WEB),
        ("https://gist.github.com/a/b", Kind.WEB),
        ("https://www.deeplearning.ai/short-courses/google-cloud-vertex-ai/", Kind.COURSE),
        ("https://www.deeplearning.ai/courses/generative-ai-for-everyone/", Kind.COURSE),
        ("https://www.deeplearning.ai/the-batch/", Kind.WEB),
        ("https://learn.deeplearning.ai/courses/x", Kind.COURSE),
        ("https://www.coursera.org/learn/machine-learning", Kind.COURSE),
        ("https://www.udemy.com/course/python/", Kind.COURSE),
        ("https://www.edx.org/course/cs50", Kind.COURSE),
        ("https://fullstackdeeplearning.com/", Kind.WEB),
        ("http://notyoutube.com/watch?v=x", Kind.WEB),
        ("spacy_cheatsheet.pdf", Kind.FILE),
        ("../docs/guide.md#part", Kind.FILE),
    ],
)
def test_kind_inference(url: str, kind: Kind) -> None:
    assert infer_kind(url) is kind


@pytest.mark.parametrize(
    ("text", "asides", "slug"),
    [
        ("Cursos (6 horas)", True, "cursos"),
        ("Cursos (6 horas)", False, "cursos-6-horas"),
        ("Resources 🧰", True, "resources"),
        (
            "Aprendizado de Máquina vs Modelos Generativos",
            True,
            "aprendizado-de-maquina-vs-modelos-generativos",
        ),
        ("What are Large Language Models (LLMs)?", False, "what-are-large-language-models-llms"),
        (
            "AI, Machine Learning, Deep Learning and Generative AI Explained",
            False,
            "ai-machine-learning-deep-learning-and-generative-ai-explaine",
        ),
        ("🧰 (only an aside)", True, "item"),
    ],
)
def test_slugify(text: str, asides: bool, slug: str) -> None:
    assert slugify(text, drop_asides=asides) == slug


def test_unique_slug_takes_the_next_free_number() -> None:
    taken = {"a", "a-2"}
    assert unique_slug("a", taken) == "a-3"
    assert unique_slug("b", taken) == "b"
    assert taken == {"a", "a-2", "a-3", "b"}


# --- hypothesis: parse_catalog returns a Catalog or raises CatalogError, nothing else --

_toml_pieces = st.sampled_from(
    ["[[resources]]\n", "[[sections]]\n", "[settings]\n", "[hosts.\"a\"]\n", 'url = "',
     'id = "s"\n', 'title = "T"\n', 'section = "s"\n', 'label = "L"\n', "https://a.com",
     "mailto:x", "/abs", '"\n', "kind = ", '"file"', "accept = [", "]", "600", "line = 0\n",
     "= ", "\n", "{", "}", "'", '"""', "#", "x", "é", "\x00", "\r"]
)  # fmt: skip
catalog_texts = st.one_of(st.text(), st.lists(_toml_pieces, max_size=60).map("".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog_texts)
def test_parse_catalog_returns_a_catalog_or_raises_catalog_error(text: str) -> None:
    try:
        result = parse_catalog(text, PATH)
    except CatalogError as err:
        assert str(err).startswith("bad.toml")
        assert err.line is None or 1 <= err.line <= len(text.splitlines()) + 1
    else:
        assert isinstance(result, Catalog)


# --- the command line ----------------------------------------------------------------


BAD = SECTION + entry("ftp://f.example.com/x")


def test_cli_reports_a_bad_catalog_on_stderr_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(BAD, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "resources", "--catalog", "bad.toml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "bad.toml:6: resources[0].url: URL 'ftp://f.example.com/x' has scheme 'ftp'" in (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""


@pytest.mark.parametrize("command", ["check", "resources", "history llm-course"])
def test_every_catalog_command_exits_2_on_a_bad_catalog(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD, encoding="utf-8")
    args = [*command.split(), "--catalog", str(bad)]
    if command == "check" or command.startswith("history"):
        args += ["--db", str(tmp_path / "db.sqlite")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert f"{bad}:6: " in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_one_url_in_two_sections_is_two_resources() -> None:
    """An awesome list may list a link under two headings; each place keeps its row."""
    text = (
        SECTION
        + '\n[[sections]]\nid = "t"\ntitle = "T"\n'
        + entry()
        + '\n[[resources]]\nurl = "https://a.example.com/"\nlabel = "A"\nsection = "t"\n'
    )
    catalog = parse_catalog(text, PATH)
    assert [(r.id, r.section) for r in catalog.resources] == [("a", "s"), ("a-2", "t")]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            '[settings]\nlocale = "en"\n\n[[resource]]\nurl = "https://a.com"\n',
            4,
            "resource: unknown key 'resource'; did you mean 'resources'?",
        ),
        (
            '[settings]\nlocal = "en"\n',
            2,
            "settings.local: unknown key 'local'; did you mean 'locale'?",
        ),
        (
            SECTION + entry(extra="acept = [403]\n"),
            9,
            "resources[0].acept: unknown key 'acept'; did you mean 'accept'?",
        ),
        (
            '[hosts."a.com"]\nconcurency = 2\n',
            2,
            "unknown key 'concurency'; did you mean 'concurrency'?",
        ),
        ("[settings]\nzzz = 1\n", 2, "settings.zzz: unknown key 'zzz'"),
    ],
)
def test_an_unknown_key_names_its_line_and_the_closest_known_one(
    text: str, line: int, message: str
) -> None:
    err = error_of(text)
    assert err.line == line
    assert str(err).endswith(message)
    assert str(err).startswith(f"{PATH}:{line}: ")
