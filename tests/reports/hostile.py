"""Hostile scraped text and a one-resource history built by hand, for the output tests.

What a stranger's page can put in a title or an error: tags that close a script, the
README's own markers, table pipes, direction overrides, controls XML forbids, lone
surrogates, and sheer length.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from monitor.domain.models import CheckResult, Metadata, Run, StoredCheck, Verdict
from monitor.domain.snapshot import Change, HistorySnapshot, ResourceHistory

SCRIPT = "</script><script>alert(1)</script>"
MARKER = "<!-- monitor:begin section=x -->"
PIPES = "| a | b |\n|---|---|"
RTL = "\u202egnp.exe\u202c"  # reads as "exe.png" with the override
LONG = "A" * 10_000
FRAGMENTS = [
    SCRIPT,
    MARKER,
    "<!-- monitor:end -->",
    PIPES,
    RTL,
    "\u2066isolate\u2069",
    "\x00\x07\x1b[31m\x7f\x9b",
    "\ud800",  # a lone surrogate
    "\ufffe\uffff",
    "&amp; &lt;b&gt; ]]> <![CDATA[x]]>",
    '" onload="alert(1)',
    "\u2028\u2029\r\n\t",
    LONG,
]
HOSTILE = "".join(FRAGMENTS)

# Direction controls and characters XML 1.0 or UTF-8 refuse: none may reach an output.
FORBIDDEN = set(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\ufffe\uffff\u2028\u2029"
) | {chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)}

hostile_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=20), max_size=6).map("".join),
)


def forbidden_in(text: str) -> set[str]:
    return {c for c in text if c in FORBIDDEN or 0xD800 <= ord(c) <= 0xDFFF}


AT = datetime(2026, 11, 6, 3, 0, 5, tzinfo=UTC)


def one_check_snapshot(
    resource_id: str, url: str, title: str, error: str, topics: tuple[str, ...] = ()
) -> HistorySnapshot:
    """A resource whose one usable check failed with `error`, scraping `title`."""
    run = Run(id=1, started_at=AT - timedelta(seconds=5), network_ok=True)
    result = CheckResult(
        resource_id=resource_id,
        url=url,
        verdict=Verdict.BROKEN,
        status=404,
        error=error,
        moved_to=None,
        meta=Metadata(title=title, description=title, channel=title, topics=topics or None),
        checked_at=AT,
    )
    history = ResourceHistory(
        recent=(StoredCheck(run=run, result=result),),
        changes=(Change(AT, "failing", Verdict.BROKEN, error),),
        failures=1,
        first_usable=AT,
        usable=1,
    )
    return HistorySnapshot(runs=(run,), resources={resource_id: history})
