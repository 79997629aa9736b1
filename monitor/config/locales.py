"""Which languages the reports speak: one gettext catalog each, under `monitor/locale/`.

A language is a folder `monitor/locale/<ll_CC>/LC_MESSAGES/` holding `monitor.po` (and its
compiled `monitor.mo`); the catalog names it with a BCP 47 tag (`pt-BR`). English is the
source language of the messages, and the default of a catalog that names none: it is the
language of the commands, the JSON and the docs, and `monitor init` writes the locale it
detects into every catalog it creates.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "monitor"
DEFAULT_LOCALE = "en"


def tag_of(folder: str) -> str:
    """`pt_BR` (gettext's folder name) -> `pt-BR` (the tag the catalog and HTML use)."""
    return folder.replace("_", "-")


def folder_of(tag: str) -> str:
    return tag.replace("-", "_")


@cache
def available_locales() -> tuple[str, ...]:
    """Every language with a compiled catalog, as tags, sorted."""
    found = LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")
    return tuple(sorted(tag_of(p.parent.parent.name) for p in found))


def check_locale(value: str) -> str:
    """The catalog's `locale`, if monitor has a catalog for it."""
    known = available_locales()
    if value not in known:
        raise ValueError(
            f"unknown locale {value!r}; monitor speaks {', '.join(known)} (a new language is "
            f"a catalog: monitor/locale/{folder_of(value)}/LC_MESSAGES/{DOMAIN}.po)"
        )
    return value
