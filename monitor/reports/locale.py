"""The reports' language: words from gettext catalogs, numbers and dates from Babel (CLDR).

Words: English messages in the code and templates, extracted by `make messages` (Babel's
`pybabel`, see babel.cfg) into `monitor/locale/monitor.pot`, translated in one `.po` per
language (`monitor/locale/<ll_CC>/LC_MESSAGES/monitor.po`). A third language is one more
`.po` file. Numbers, durations, dates and relative times come from Babel's CLDR data for
the same locale ("41,2 mil" in pt-BR, "41.2K" in English), so no format is written here.

Adding words (there is no `ctx.t` table any more):
- in a template, `{{ _("Uptime") }}`, `{{ ngettext("%(num)d check", "%(num)d checks", n) }}`,
  `{{ pgettext("state", "down") }}` (the context tells two "down"s apart), and for a time
  `{{ when|datetime }}` ("6 de nov. de 2026 03:00 UTC");
- in Python, `ctx.lang.gettext("...")` (or `.ngettext`, `.pgettext`; `.state(s)`, `.verdict(v)`,
  `.kind(k)` for the domain's words; `.number`, `.count`, `.percent`, `.duration`, `.date`,
  `.time`, `.ago` for values);
- then `make messages` and translate the new entries in monitor/locale/pt_BR/LC_MESSAGES/
  monitor.po (English fills itself); tests/reports/test_locale.py fails until every language
  has every message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta, get_datetime_format
from babel.lists import format_list
from babel.numbers import (
    format_compact_decimal,
    format_decimal,
    format_percent,
)
from babel.support import Translations
from babel.units import format_unit

from monitor.config.locales import DOMAIN, LOCALE_DIR, folder_of
from monitor.domain.models import Kind, Verdict
from monitor.domain.state import State

if TYPE_CHECKING:  # jinja2 loads only with the templates (`monitor --help` stays fast)
    from jinja2 import Environment

# Emoji for Markdown (GitHub renders them); the HTML page uses text glyphs instead,
# because a reader's machine (and headless Chromium on CI) may have no emoji font.
EMOJI: Mapping[State, str] = {
    State.DOWN: "❌",
    State.FLAKY: "〰️",
    State.BLOCKED: "🚫",
    State.FAILING: "⚠️",
    State.MOVED: "↪️",
    State.RECOVERED: "💚",
    State.OK: "✅",
    State.SKIPPED: "⏭️",
    State.UNKNOWN: "❔",
}
GLYPH: Mapping[State, str] = {
    State.DOWN: "✕",
    State.FLAKY: "≈",
    State.BLOCKED: "⊘",
    State.FAILING: "!",
    State.MOVED: "↪",
    State.RECOVERED: "↻",
    State.OK: "✓",
    State.SKIPPED: "–",
    State.UNKNOWN: "?",
}


class MissingCatalog(LookupError):
    """A locale the configuration accepted has no compiled catalog (a broken install)."""


def _translations(tag: str) -> Translations:
    found = Translations.load(str(LOCALE_DIR), [folder_of(tag)], DOMAIN)
    if not isinstance(found, Translations):  # Babel falls back to NullTranslations silently
        raise MissingCatalog(
            f"no compiled catalog for locale {tag!r} in {LOCALE_DIR} "
            f"(expected {folder_of(tag)}/LC_MESSAGES/{DOMAIN}.mo)"
        )
    return found


@dataclass(frozen=True, eq=False)  # one per tag (cached): hashed by identity
class Language:
    """One locale's words and formats; `language(tag)` builds (and caches) it."""

    tag: str  # as the catalog writes it and HTML's lang wants it: "pt-BR"
    translations: Translations = field(repr=False)
    cldr: Locale = field(repr=False)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return str(self.translations.pgettext(context, message))

    # Numbers -----------------------------------------------------------------------------

    def number(self, n: int) -> str:
        """41.234 (pt-BR), 41,234 (en)."""
        return format_decimal(n, locale=self.cldr)

    def signed(self, n: int) -> str:
        """+66 / -3 / 0: a change in a count."""
        return format_decimal(n, format="+#,##0;-#,##0", locale=self.cldr)

    def count(self, n: int | None) -> str:
        """Compact counts ("41,2 mil", "41.2K"): exact star counts would rewrite the README
        every night."""
        return "" if n is None else _count(self, n)

    def percent(self, share: float | None) -> str:
        """A share as a percentage: whole above 10% and at the ends, one decimal below."""
        return "—" if share is None else _percent(self, share)

    # Times -------------------------------------------------------------------------------

    def duration(self, seconds: int | None) -> str:
        """A video's or course's length to the minute: "1 h 5 min" (pt-BR), "1 hr 5 min" (en).
        Not "1:05", which a YouTube viewer reads as minutes and seconds."""
        return "" if seconds is None else _duration(self, round(seconds / 60))

    def ago(self, delta: timedelta) -> str:
        """How long, in the largest unit CLDR would say ("3 horas", "2 days")."""
        return format_timedelta(
            max(delta, timedelta(0)), granularity="minute", format="long", locale=self.cldr
        )

    def date(self, when: datetime | None) -> str:
        """The day, in UTC: "6 de nov. de 2026" / "Nov 6, 2026"."""
        return "" if when is None else _date(self, _utc(when).date())

    def time(self, when: datetime | None) -> str:
        """Day and minute with the zone: "6 de nov. de 2026 12:00 UTC" / "Nov 6, 2026, 12:00 PM
        UTC". Always UTC: the page is built once for readers anywhere."""
        if when is None:
            return ""
        return _time(self, int(_utc(when).timestamp() // 60))

    # Words of the domain -----------------------------------------------------------------

    def state(self, state: State) -> str:
        return _state_labels(self)[state]

    def verdict(self, verdict: Verdict | str) -> str:
        return _verdict_labels(self)[verdict]  # a StrEnum: "broken" finds Verdict.BROKEN

    def kind(self, kind: Kind) -> str:
        return _kind_labels(self)[kind]


def _utc(when: datetime) -> datetime:
    """A time in UTC; a naive one already is (the store's and the CLI's convention), whatever
    the machine's time zone."""
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


# Babel formats in Python (20-80 us a call); a page of 3,000 resources asks for the same
# minutes, days and shares again and again (30 check times per resource), so each answer is
# kept per language (hashed by identity: cheap) and value.
_MEMO = 8192


@lru_cache(_MEMO)
def _count(lang: Language, n: int) -> str:
    return format_compact_decimal(n, format_type="short", fraction_digits=1, locale=lang.cldr)


@lru_cache(_MEMO)
def _percent(lang: Language, share: float) -> str:
    pct = share * 100
    whole = pct in (0, 100) or pct >= 10
    return format_percent(share, format="#,##0%" if whole else "#,##0.0%", locale=lang.cldr)


@lru_cache(_MEMO)
def _duration(lang: Language, total_minutes: int) -> str:
    cldr = lang.cldr
    hours, minutes = divmod(total_minutes, 60)
    parts = [
        format_unit(value, unit, length="short", locale=cldr)
        for value, unit in ((hours, "duration-hour"), (minutes, "duration-minute"))
        if value
    ]
    if not parts:
        return format_unit(0, "duration-minute", length="short", locale=cldr)
    return format_list(parts, style="unit-narrow", locale=cldr)


@lru_cache(_MEMO)
def _date(lang: Language, day: date) -> str:
    return format_date(day, format="medium", locale=lang.cldr)


@lru_cache(_MEMO)
def _time(lang: Language, minute: int) -> str:
    """`minute`: minutes since the epoch (what the output depends on; a cheap key)."""
    at = datetime.fromtimestamp(minute * 60, UTC)
    pattern = str(get_datetime_format("medium", locale=lang.cldr))
    clock = format_time(at, format="short", tzinfo=UTC, locale=lang.cldr)
    day = _date(lang, at.date())
    return pattern.replace("'", "").replace("{0}", clock).replace("{1}", day) + " UTC"


@cache
def _state_labels(lang: Language) -> Mapping[State, str]:
    return {
        State.DOWN: lang.pgettext("state", "down"),
        State.FLAKY: lang.pgettext("state", "flaky"),
        State.BLOCKED: lang.pgettext("state", "blocked"),
        State.FAILING: lang.pgettext("state", "failing"),
        State.MOVED: lang.pgettext("state", "moved"),
        State.RECOVERED: lang.pgettext("state", "recovered"),
        State.OK: lang.pgettext("state", "ok"),
        State.SKIPPED: lang.pgettext("state", "skipped"),
        State.UNKNOWN: lang.pgettext("state", "not checked yet"),
    }


@cache
def _verdict_labels(lang: Language) -> Mapping[str, str]:
    return {
        Verdict.OK: lang.pgettext("verdict", "ok"),
        Verdict.MOVED: lang.pgettext("verdict", "moved"),
        Verdict.BROKEN: lang.pgettext("verdict", "broken"),
        Verdict.BLOCKED: lang.pgettext("verdict", "blocked"),
        Verdict.ERROR: lang.pgettext("verdict", "error"),
        Verdict.SKIPPED: lang.pgettext("verdict", "skipped"),
    }


@cache
def _kind_labels(lang: Language) -> Mapping[Kind, str]:
    return {
        Kind.YOUTUBE: lang.pgettext("kind", "video"),
        Kind.COURSE: lang.pgettext("kind", "course"),
        Kind.GITHUB: lang.pgettext("kind", "repository"),
        Kind.WEB: lang.pgettext("kind", "page"),
        Kind.FILE: lang.pgettext("kind", "file"),
    }


@cache
def language(tag: str) -> Language:
    """The language of a catalog's `locale` (validated by the catalog loader)."""
    return Language(tag, _translations(tag), Locale.parse(tag, sep="-"))


def install_language(env: Environment, tag: str) -> None:
    """Give a Jinja environment (with `jinja2.ext.i18n`) the words and formats of `tag`:
    `_()`, `ngettext()`, `pgettext()` (new-style: `_("%(n)s days", n=3)` formats and
    escapes the values) and the `datetime` filter."""
    lang = language(tag)
    env.install_gettext_translations(lang.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["datetime"] = lang.time
