"""Output formats of `monitor check`: text, JSON and Markdown, one function each.

All take the finished results; problems come first everywhere, in VERDICT_ORDER.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from monitor.domain.models import CheckResult, Verdict
from monitor.domain.text import counted
from monitor.reports.text import md_escape

# Problems first in every listing (the CLI summary, the Markdown table, log order).
VERDICT_ORDER: tuple[Verdict, ...] = (
    Verdict.BROKEN,
    Verdict.MOVED,
    Verdict.BLOCKED,
    Verdict.ERROR,
    Verdict.SKIPPED,
    Verdict.OK,
)
_RANK = {verdict: rank for rank, verdict in enumerate(VERDICT_ORDER)}


def sorted_results(results: Sequence[CheckResult]) -> list[CheckResult]:
    """Problems first; within a verdict, input order (Python's sort is stable)."""
    return sorted(results, key=lambda r: _RANK[r.verdict])


def counts(results: Sequence[CheckResult]) -> dict[str, int]:
    """Every verdict, zero included, in VERDICT_ORDER (derived, never kept by hand)."""
    counted = Counter(r.verdict for r in results)
    return {v.value: counted[v] for v in VERDICT_ORDER}


# resource id -> (where it is written, "README.md:12"; its label): lychee prints the source
# of every link, so each output format carries it.
Sources = Mapping[str, tuple[str, str]]


def result_dict(result: CheckResult, sources: Sources | None = None) -> dict[str, Any]:
    source, label = (sources or {}).get(result.resource_id, (None, None))
    return {
        "url": result.url,
        "source": source,
        "label": label,
        "resource_id": result.resource_id,
        "verdict": result.verdict.value,
        "status": result.status,
        "final_url": result.final_url,
        "redirects": [{"url": hop.url, "status": hop.status} for hop in result.redirects],
        "elapsed_ms": result.elapsed_ms,
        "error": result.error,
        "note": result.note,
        "moved_to": result.moved_to,
        "checker": result.checker,
        "meta": result.meta.to_dict(),
    }


def to_json(
    results: Sequence[CheckResult], *, network_ok: bool, sources: Sources | None = None
) -> str:
    payload = {
        "network_ok": network_ok,
        "summary": counts(results),
        "skipped_reasons": skipped_reasons(results),
        "results": [result_dict(r, sources) for r in results],
    }
    # orjson: the same text as json.dumps(indent=2, ensure_ascii=False), ~25x faster (1.1 s
    # for 10,000 results with the standard library). It refuses a lone surrogate (scraped
    # JSON can carry "\ud800"), which the standard library writes as an escape.
    try:
        return orjson.dumps(
            payload, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
        ).decode()
    except orjson.JSONEncodeError:
        return json.dumps(payload, indent=2) + "\n"  # ASCII: the escape survives any file


def skipped_reasons(results: Sequence[CheckResult]) -> dict[str, int]:
    """Why links were skipped, by reason (the note up to its first ":"), most common first."""
    counted = Counter(
        (r.note or "no reason given").split(":", 1)[0].strip()
        for r in results
        if r.verdict is Verdict.SKIPPED
    )
    return dict(counted.most_common())


def summary_line(results: Sequence[CheckResult]) -> str:
    """ "7 links: 3 ok, 4 skipped (root-relative link, no site root)"."""
    shown = []
    for verdict, n in counts(results).items():
        if not n:
            continue
        if verdict == Verdict.SKIPPED.value:
            reasons = skipped_reasons(results)
            if len(reasons) == 1:
                why = next(iter(reasons))
            else:
                why = "; ".join(f"{count} {reason}" for reason, count in reasons.items())
            shown.append(f"{n} {verdict} ({why})")
        else:
            shown.append(f"{n} {verdict}")
    return f"{counted(len(results), 'link')}: " + (", ".join(shown) if shown else "nothing checked")


def to_markdown(
    results: Sequence[CheckResult], *, network_ok: bool, sources: Sources | None = None
) -> str:
    lines = ["# Link check", ""]
    if not network_ok:
        lines += ["**The network was unusable during this run: no link is called broken.**", ""]
    lines += [summary_line(results), ""]
    lines += ["| verdict | link | source | detail |", "| --- | --- | --- | --- |"]
    for result in sorted_results(results):
        plain = "://" in result.url and not any(c in result.url for c in "<> \n")
        link = f"<{result.url}>" if plain else md_escape(result.url)
        source = md_escape(where(result, sources))
        lines.append(
            f"| {result.verdict.value} | {link} | {source} | {md_escape(result.describe())} |"
        )
    return "\n".join(lines) + "\n"


def where(result: CheckResult, sources: Sources | None) -> str:
    """ "README.md:12 (Nextcloud — Demo)": the source and the label, when known."""
    source, label = (sources or {}).get(result.resource_id, ("", ""))
    if label and label != result.url:
        return f"{source} ({label})" if source else label
    return source


def to_text(
    results: Sequence[CheckResult], *, network_ok: bool, sources: Sources | None = None
) -> str:
    """Plain text for files: one line per link that is not ok, then the counts."""
    lines = []
    for result in sorted_results(results):
        if result.verdict is Verdict.OK:
            continue
        place = where(result, sources)
        line = f"{result.verdict.value:<8} {result.url}  {place}  {result.describe()}"
        lines.append(line.rstrip())
    if not network_ok:
        lines.append("network unusable: no link is called broken in this run")
    lines.append(summary_line(results))
    return "\n".join(lines) + "\n"


def _field(text: str) -> str:
    """One tab-separated field: no tab or line break inside."""
    return " ".join(text.split())


def to_plain(results: Sequence[CheckResult], *, sources: Sources | None = None) -> str:
    """For pipes: one line per link, `verdict<TAB>url<TAB>file:line<TAB>detail`, problems
    first, nothing else on the line (so `grep`, `cut -f2` and `awk -F'\\t'` work)."""
    lines = []
    for result in sorted_results(results):
        source = (sources or {}).get(result.resource_id, ("", ""))[0]
        fields = (result.verdict.value, result.url, source, result.describe())
        lines.append("\t".join(_field(f) for f in fields))
    return "\n".join(lines) + "\n" if lines else ""
