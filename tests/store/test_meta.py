"""Stored metadata is cleaned and capped per field (monitor/store/meta.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Run, Verdict
from monitor.store.database import Store
from monitor.store.meta import CAPS, ITEM_CAP, LIST_ITEMS, clean_meta

AT = datetime(2026, 11, 1, 3, tzinfo=UTC)


def test_texts_are_cleaned_and_cut_at_their_fields_limit() -> None:
    meta = {
        "title": "  A\u202e title\n\twith\x1b[2J   breaks  ",
        "description": "word " * 1000,
        "instructors": ["  Ana  "] * 100 + [""],
        "stars": 41234,
        "archived": False,
        "level": " \n ",
    }
    out = clean_meta(meta)
    assert out["title"] == "  A title\n\twith[2J   breaks  "  # no escape, no override
    assert len(out["description"]) == CAPS["description"] and out["description"].endswith("…")
    assert out["instructors"] == ["  Ana  "] * LIST_ITEMS
    assert out["stars"] == 41234 and out["archived"] is False
    assert "level" not in out  # cleans to nothing: unknown, not empty


def test_a_course_page_worth_megabytes_is_stored_in_kilobytes(tmp_path: Path) -> None:
    """The run that once added 4.3 MB: a course page whose every field held the page."""
    page = "Lorem ipsum dolor sit amet. " * 40_000  # ~1.1 MB of text
    res = Resource("c", "https://courses.example/c", Kind.COURSE, "s", "C")
    meta = Metadata(title=page, description=page, provider=page, instructors=(page,) * 4)
    with Store.open(tmp_path / "m.sqlite") as store:
        store.record_run(Run(None, AT), [CheckResult("c", res.url, Verdict.OK, meta=meta,
                                                     checked_at=AT)], [res])  # fmt: skip
        with store.engine.connect() as conn:
            stored = conn.execute(text('SELECT meta FROM "check"')).scalar_one()
        back = store.history("c")[0].result.meta
    assert len(stored) < 3 * 1024
    assert back.title is not None and len(back.title) == CAPS["title"]
    assert back.instructors is not None and all(len(i) <= ITEM_CAP for i in back.instructors)
    assert json.loads(stored)["provider"].endswith("…")
