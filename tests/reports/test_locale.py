"""The reports' language: Babel formats, complete gettext catalogs, no English on the
Portuguese page, and a third language that is only a `.po` file."""

from __future__ import annotations

import gettext
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

import pytest
from babel.messages.catalog import Catalog as PoCatalog
from babel.messages.catalog import Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from selectolax.lexbor import LexborHTMLParser

from monitor.config import locales
from monitor.config.catalog import Catalog, CatalogError, parse_catalog
from monitor.reports import locale as locale_module
from monitor.reports.badge import render_badge, render_resource_badge
from monitor.reports.feed import render_feed
from monitor.reports.html import html_environment, render_html, render_resource
from monitor.reports.locale import MissingCatalog, language
from monitor.reports.markdown import md_environment, render_status_md
from monitor.reports.readme import render_table
from tests.report_fixture import ERRORS, EVIL_TITLE, build_context, make_catalog

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "monitor" / "locale"
NBSP = "\u00a0"


# Formats: expected values are CLDR's conventions, written by hand -----------------------


def test_compact_counts() -> None:
    en, pt = language("en"), language("pt-BR")
    assert [en.count(n) for n in (None, 7, 999, 1000, 41234, 1_250_000)] == [
        "",
        "7",
        "999",
        "1K",
        "41.2K",
        "1.2M",
    ]
    assert [pt.count(n) for n in (999, 41234, 1_250_000)] == [
        "999",
        f"41,2{NBSP}mil",
        f"1,2{NBSP}mi",
    ]


def test_numbers_and_percentages() -> None:
    en, pt = language("en"), language("pt-BR")
    assert (en.number(41234), pt.number(41234)) == ("41,234", "41.234")
    assert (en.signed(34), en.signed(-3), pt.signed(1200)) == ("+34", "-3", "+1.200")
    assert [en.percent(x) for x in (None, 1.0, 0.0, 0.96, 0.054)] == [
        "—",
        "100%",
        "0%",
        "96%",
        "5.4%",
    ]
    assert pt.percent(0.054) == "5,4%"


@pytest.mark.parametrize(
    ("seconds", "en", "pt"),
    [
        (None, "", ""),
        (0, "0 min", "0 min"),
        (29, "0 min", "0 min"),
        (31, "1 min", "1 min"),
        (754, "13 min", "13 min"),
        (3600, "1 hr", "1 h"),
        (5430, "1 hr 30 min", "1 h 30 min"),
        (36_000 + 59 * 60 + 40, "11 hr", "11 h"),
    ],
)
def test_durations(seconds: int | None, en: str, pt: str) -> None:
    assert language("en").duration(seconds) == en
    assert language("pt-BR").duration(seconds) == pt


def test_relative_times() -> None:
    en, pt = language("en"), language("pt-BR")
    assert en.ago(timedelta(minutes=5)) == "5 minutes"
    assert en.ago(timedelta(hours=1)) == "1 hour"
    assert pt.ago(timedelta(hours=8, minutes=55)) == "9 horas"
    assert pt.ago(timedelta(days=3, hours=5)) == "3 dias"
    assert pt.ago(timedelta(seconds=-30)) == "0 minuto"  # a clock skew is not "in 30 s"


def test_dates_and_times_are_utc() -> None:
    en, pt = language("en"), language("pt-BR")
    # 23:30 at UTC-3 is 02:30 UTC the next day: the page says UTC, so UTC it is.
    when = datetime(2026, 11, 6, 23, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=-3)))
    assert pt.date(when) == "6 de nov. de 2026"
    assert pt.time(when) == "6 de nov. de 2026 23:30 UTC"
    assert en.date(datetime(2026, 11, 7, 2, 30, tzinfo=UTC)) == "Nov 7, 2026"
    assert en.time(datetime(2026, 11, 7, 14, 5, tzinfo=UTC)) == "Nov 7, 2026, 2:05\u202fPM UTC"
    assert (en.date(None), en.time(None)) == ("", "")


def test_a_naive_time_is_utc_whatever_the_machine_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/Sao_Paulo")
    time.tzset()
    try:
        naive = datetime(2026, 11, 6, 23, 30)  # naive: the point of the test
        assert language("pt-BR").time(naive) == "6 de nov. de 2026 23:30 UTC"
        assert language("pt-BR").date(naive) == "6 de nov. de 2026"
    finally:
        monkeypatch.undo()
        time.tzset()


# Catalogs ---------------------------------------------------------------------------------


def _read(path: Path, locale: str | None = None) -> PoCatalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> PoCatalog:
    """The messages of monitor/ and templates/ as `make messages` extracts them now."""
    out = tmp_path_factory.mktemp("pot") / "monitor.pot"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)  # pybabel reads [tool.babel] from ./pyproject.toml
        CommandLineInterface().run(["pybabel", "-q", "extract", "-o", str(out)])
    return _read(out)


def _keys(catalog: PoCatalog) -> set[tuple[str, str | None]]:
    return {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in catalog if m.id}


def test_extraction_finds_the_words_of_code_and_templates(extracted: PoCatalog) -> None:
    keys = _keys(extracted)
    assert ("Link status", None) in keys  # a template
    assert ("broken", "verdict") in keys and ("down", "state") in keys  # monitor/reports
    assert ("{n} day of data", None) in keys  # ngettext in Python
    assert ("History: %(num)d check", None) in keys  # ngettext in a template
    assert len(keys) > 60


def test_the_committed_template_is_up_to_date(extracted: PoCatalog) -> None:
    assert _keys(_read(LOCALE_DIR / "monitor.pot")) == _keys(extracted), "run `make messages`"


@pytest.mark.parametrize("folder", ["pt_BR", "en"])
def test_every_message_is_translated(extracted: PoCatalog, folder: str) -> None:
    po = _read(LOCALE_DIR / folder / "LC_MESSAGES" / "monitor.po", folder)
    missing = []
    for message in extracted:
        if not message.id:
            continue
        found = po.get(message.id, context=message.context)
        strings = (found.string if found else None) or ""
        complete = all(strings) if isinstance(strings, tuple) else bool(strings)
        if found is None or found.fuzzy or not complete:
            missing.append((message.context, message.id))
    assert missing == [], f"untranslated in {folder}: run `make messages` and translate"
    assert po.num_plurals >= 2


BRACES = re.compile(r"\{(\w+)\}")


@pytest.mark.parametrize("folder", ["pt_BR", "en"])
def test_translations_keep_the_placeholders(folder: str) -> None:
    """A translation that drops or renames `{error}` or `%(num)d` breaks the page (KeyError,
    or a number gone): Babel checks the %-style ones, and the braces are checked here."""
    po = _read(LOCALE_DIR / folder / "LC_MESSAGES" / "monitor.po", folder)
    assert [(m.id, errors) for m, errors in po.check()] == []
    for message in po:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {name for text in ids for name in BRACES.findall(text)}
        for text in strings:
            got = set(BRACES.findall(text))
            # a plural form may leave the number out ("one day"); nothing else may go
            assert got <= wanted and (message.pluralizable or got == wanted), (folder, ids, text)


@pytest.mark.parametrize("folder", ["pt_BR", "en"])
def test_compiled_catalogs_match_their_po(folder: str) -> None:
    """The committed .mo is what `pybabel compile` makes of the committed .po."""
    po = _read(LOCALE_DIR / folder / "LC_MESSAGES" / "monitor.po", folder)
    with (LOCALE_DIR / folder / "LC_MESSAGES" / "monitor.mo").open("rb") as f:
        committed = gettext.GNUTranslations(f)
    for message in po:
        if not message.id:
            continue
        if message.pluralizable:
            for n in (1, 2, 5, 1_000_000):
                expected = message.string[committed.plural(n)]  # type: ignore[attr-defined]
                assert committed.ngettext(*message.id, n) == expected, (folder, message.id, n)
        elif message.context:
            assert committed.pgettext(message.context, message.id) == message.string
        else:
            assert committed.gettext(message.id) == message.string, (folder, message.id)


# No English on the Portuguese page --------------------------------------------------------

# Every English word the domain has for a verdict or a state ("ok" is Portuguese too).
ENGLISH = re.compile(
    r"\b(moved|broken|blocked|error|skipped|down|flaky|failing|recovered|not checked yet"
    r"|unknown)\b",
    re.IGNORECASE,
)


def _visible_text(html: str) -> str:
    tree = LexborHTMLParser(html)
    for node in tree.css("script, style"):
        node.decompose()
    text = tree.body.text(separator=" ") if tree.body else ""
    title = tree.css_first("title")
    return (title.text() if title else "") + " " + text


def _xml_text(xml: str) -> str:
    """What a reader of a feed or a badge sees: text and labels, not terms, ids or links."""
    root = ElementTree.fromstring(xml)
    return " ".join(
        part
        for node in root.iter()
        for part in (node.text or "", node.get("label") or "", node.get("aria-label") or "")
    )


def _without_data(text: str, catalog: Catalog, values: Iterable[str] = ()) -> str:
    """The page's own words: what the catalog and the checkers wrote is data, in its own
    language (labels "Moved repo", errors "timeout after 20 s"); `values` too."""
    data = [r.label for r in catalog.resources] + [r.url for r in catalog.resources]
    data += [*ERRORS.values(), "video is private", "skip = true in the catalog", EVIL_TITLE]
    for value in sorted(filter(None, [*data, *values]), key=len, reverse=True):
        text = text.replace(value, " ")  # longest first: a title holds a label
    return text


def test_no_english_verdict_or_state_word_on_the_portuguese_pages(tmp_path: Path) -> None:
    ctx = build_context(tmp_path / "ctx")
    (tmp_path / "cat").mkdir()
    catalog = make_catalog(tmp_path / "cat")
    pages = {"index.html": render_html(ctx)}
    pages |= {row.page: render_resource(ctx, row) for row in ctx.rows}
    found = {}
    for name, html in pages.items():
        words = ENGLISH.findall(_without_data(_visible_text(html), catalog))
        if words:
            found[name] = sorted(set(words))
    assert found == {}
    # The Markdown report, the README tables, the feed and the badges too.
    markdown = render_status_md(ctx, clock=True)
    markdown += "".join(render_table(ctx, s) for s in ctx.sections)
    markdown += _xml_text(render_badge(ctx)) + _xml_text(render_feed(ctx))
    markdown += "".join(_xml_text(render_resource_badge(row)) for row in ctx.rows)
    assert ENGLISH.findall(_without_data(markdown, catalog)) == []
    # ...while every verdict and state is on them, in Portuguese.
    text = " ".join(_visible_text(h) for h in pages.values())
    for word in ("quebrado", "erro", "movido", "bloqueado", "ignorado", "fora do ar", "instável"):
        assert word in text, word
    assert "falhou" in text and "recuperado" in text and "não verificado" in text


def test_the_english_page_uses_the_same_words_in_english(tmp_path: Path) -> None:
    ctx = build_context(tmp_path, locale="en")
    page = _visible_text(render_resource(ctx, ctx.rows[1]))  # video-private: broken, error
    assert "broken" in page and "error" in page and "quebrado" not in page
    assert '<html lang="en">' in render_html(ctx)


# Languages are catalogs --------------------------------------------------------------------


def test_locale_must_have_a_catalog() -> None:
    with pytest.raises(CatalogError, match=r"unknown locale 'de'.*monitor speaks en, pt-BR"):
        parse_catalog('[settings]\nlocale = "de"\n', Path("resources.toml"))


def test_a_missing_compiled_catalog_is_an_error_not_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locale_module, "LOCALE_DIR", tmp_path)
    with pytest.raises(MissingCatalog, match="no compiled catalog for locale 'pt-BR'"):
        locale_module._translations("pt-BR")


CACHED = (locales.available_locales, language, html_environment, md_environment)


@pytest.fixture
def french(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Callable[[Message], str]], None]]:
    """Install a French catalog made by `translate(message)` (a copy of monitor/locale/ plus
    fr/LC_MESSAGES/monitor.po and .mo, compiled as `make messages` does)."""
    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    monkeypatch.setattr(locales, "LOCALE_DIR", tmp_path / "locale")
    monkeypatch.setattr(locale_module, "LOCALE_DIR", tmp_path / "locale")

    def install(translate: Callable[[Message], str]) -> None:
        catalog = PoCatalog(locale="fr", domain="monitor")
        for message in _read(tmp_path / "locale" / "monitor.pot"):
            if message.pluralizable:
                forms = tuple(translate(Message(p, context=message.context)) for p in message.id)
                catalog.add(message.id, (*forms, forms[-1]), context=message.context)
            else:
                catalog.add(message.id, translate(message), context=message.context)
        folder = tmp_path / "locale" / "fr" / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with (folder / "monitor.po").open("wb") as f:
            write_po(f, catalog)
        with (folder / "monitor.mo").open("wb") as f:
            write_mo(f, catalog)
        for cached in CACHED:
            cached.cache_clear()

    yield install
    for cached in CACHED:
        cached.cache_clear()


def test_a_third_language_is_a_po_file(
    french: Callable[[Callable[[Message], str]], None], tmp_path: Path
) -> None:
    """French from nothing but a .po: the page speaks it, and Babel formats its numbers, with
    no line of Python added."""
    words = {(None, "Link status"): "État des liens", ("state", "down"): "hors service"}
    french(lambda m: words.get((m.context, str(m.id)), ""))
    assert "fr" in locales.available_locales()
    ctx = build_context(tmp_path / "ctx", locale="fr")
    page = render_html(ctx)
    assert '<html lang="fr">' in page and "<h1>État des liens</h1>" in page
    assert "hors service" in page
    assert f"41,2{NBSP}k" in page  # CLDR's French compact form, not ours
    assert "Problems" in page  # untranslated: English, the source language


def test_every_word_of_the_pages_comes_from_the_catalog(
    french: Callable[[Callable[[Message], str]], None], tmp_path: Path
) -> None:
    """Pseudo-translation: every message becomes ⟦message⟧. What is left on the pages once
    the ⟦⟧ parts, the catalog's and the checkers' data and the formatted values are taken
    away must hold no word: a word written into a template would be left."""
    french(lambda m: f"⟦{m.id}⟧")
    ctx = build_context(tmp_path / "ctx", locale="fr")
    pages = [render_html(ctx), *(render_resource(ctx, row) for row in ctx.rows)]
    values = [ctx.generated, ctx.last_run_time]
    for row in ctx.rows:
        values += [row.since, row.since_date, row.duration, row.stars, row.title, row.detail]
        values += [row.todo, row.data_note, row.kind_label, row.state_label, *row.uptime]
        values += [*row.changes, *(ctx.lang.time(tr.at) for tr in row.st.timeline)]
        values += [tr.detail for tr in row.st.timeline]
        values += [text for h in row.history for text in (h.when, h.title, h.detail)]
    values += [text for s in ctx.sections for text in (s.title, s.total_duration)]
    values += [s.durations_partial for s in ctx.sections]
    catalog = make_catalog(tmp_path / "ctx")
    left: set[str] = set()
    for page in pages:
        text = _without_data(re.sub(r"⟦[^⟧]*⟧", " ", _visible_text(page)), catalog, values)
        left |= set(re.findall(r"[^\W\d_]{2,}", text))
    assert left == {"ms"}  # the unit of the response times, the same in every language
