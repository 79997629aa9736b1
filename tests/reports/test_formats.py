"""`monitor check --format json`: orjson writes it, byte for byte as the standard library would."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.domain.models import CheckResult, Hop, Metadata, Verdict
from monitor.reports.formats import result_dict, to_json

# Scraped text is untrusted: quotes, backslashes, control characters, any Unicode.
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@st.composite
def results(draw: st.DrawFn) -> CheckResult:
    return CheckResult(
        resource_id=draw(TEXT),
        url=f"https://example.com/{draw(TEXT)}",
        verdict=draw(st.sampled_from(list(Verdict))),
        checker="web",
        status=draw(st.none() | st.integers(100, 599)),
        final_url=draw(st.none() | TEXT),
        redirects=tuple(Hop(url=u, status=301) for u in draw(st.lists(TEXT, max_size=2))),
        elapsed_ms=draw(st.integers(0, 10**6)),
        error=draw(st.none() | TEXT),
        note=draw(st.none() | TEXT),
        meta=Metadata(
            title=draw(st.none() | TEXT),
            duration_s=draw(st.none() | st.integers(0, 10**5)),
            stars=draw(st.none() | st.integers(0, 10**6)),
            archived=draw(st.none() | st.booleans()),
        ),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(results(), max_size=4), st.booleans())
def test_json_output_is_the_standard_librarys_text(
    checked: list[CheckResult], network_ok: bool
) -> None:
    text = to_json(checked, network_ok=network_ok)
    payload = json.loads(text)
    assert payload["results"] == [result_dict(r) for r in checked]
    assert text == json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def test_a_lone_surrogate_in_scraped_text_does_not_break_the_output() -> None:
    odd = CheckResult(
        resource_id="r",
        url="https://example.com/",
        verdict=Verdict.OK,
        checker="web",
        meta=Metadata(title="half \ud800 a pair"),
    )
    text = to_json([odd], network_ok=True)
    text.encode("utf-8")  # writable to a file: the surrogate is an escape
    assert json.loads(text)["results"][0]["meta"]["title"] == ("half \ud800 a pair")
