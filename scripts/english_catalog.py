"""Fill the English catalog from the messages themselves (`make messages` runs this).

English is the source language: its translation of a message is the message, unless a
person wrote a better one. New and changed messages (empty or fuzzy after `pybabel update`)
get their msgid as msgstr; entries a person edited are left alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ENGLISH = Path(__file__).resolve().parent.parent / "monitor/locale/en/LC_MESSAGES/monitor.po"


def fill(path: Path) -> int:
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    filled = 0
    for message in catalog:
        if not message.id:
            continue  # the header
        translated = all(message.string) if message.pluralizable else bool(message.string)
        if translated and not message.fuzzy:
            continue
        message.string = tuple(message.id) if message.pluralizable else message.id
        message.flags.discard("fuzzy")
        message.previous_id = []
        filled += 1
    with path.open("wb") as f:
        write_po(f, catalog, width=76, include_lineno=False, ignore_obsolete=True)
    return filled


if __name__ == "__main__":
    print(f"{fill(ENGLISH)} English messages filled in {ENGLISH}", file=sys.stderr)
