"""Output formats of `monitor check`: text, JSON and Markdown, one function each.

All take the finished results; problems come first everywhere, in VERDICT_ORDER.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from monitor.domain.models import CheckResult, Verdict
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


def result_dict(result: CheckResult) -> dict[str, Any]:
    return {
        "url": result.url,
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


def to_json(results: Sequence[CheckResult], *, network_ok: bool) -> str:
    payload = {
        "network_ok": network_ok,
        "summary": counts(results),
        "results": [result_dict(r) for r in results],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def summary_line(results: Sequence[CheckResult]) -> str:
    shown = [f"{n} {verdict}" for verdict, n in counts(results).items() if n]
    return f"{len(results)} links: " + (", ".join(shown) if shown else "nothing checked")


def to_markdown(results: Sequence[CheckResult], *, network_ok: bool) -> str:
    lines = ["# Link check", ""]
    if not network_ok:
        lines += ["**The network was unusable during this run: no link is called broken.**", ""]
    lines += [summary_line(results), ""]
    lines += ["| verdict | link | detail |", "| --- | --- | --- |"]
    for result in sorted_results(results):
        plain = "://" in result.url and not any(c in result.url for c in "<> \n")
        link = f"<{result.url}>" if plain else md_escape(result.url)
        lines.append(f"| {result.verdict.value} | {link} | {md_escape(result.describe())} |")
    return "\n".join(lines) + "\n"


def to_text(results: Sequence[CheckResult], *, network_ok: bool) -> str:
    """Plain text for files and pipes: one line per link that is not ok, then the counts."""
    lines = []
    for result in sorted_results(results):
        if result.verdict is Verdict.OK:
            continue
        lines.append(f"{result.verdict.value:<8} {result.url}  {result.describe()}".rstrip())
    if not network_ok:
        lines.append("network unusable: no link is called broken in this run")
    lines.append(summary_line(results))
    return "\n".join(lines) + "\n"
