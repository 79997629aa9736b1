"""Which links are down, for the nightly workflow's one `link-rot` issue.

Down is `monitor.domain.state`'s `State.DOWN`: failed (`broken` or `error`) on the last `down_after`
usable checks. `blocked` never counts: the site refused us, so we cannot tell, and an issue
telling the world a link is dead must not guess.

The Markdown is stable while the list does not change (no clock, only when each outage
began), so the workflow edits the issue only when something really changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.domain.models import CheckResult, Resource
from monitor.domain.snapshot import HistorySnapshot
from monitor.domain.state import State, derive_snapshot
from monitor.reports.text import md_escape


@dataclass(frozen=True)
class Down:
    resource: Resource
    latest: CheckResult
    since: datetime  # when the resource entered the down state


def down_resources(resources: Sequence[Resource], snapshot: HistorySnapshot) -> list[Down]:
    states = derive_snapshot(resources, snapshot)
    out = []
    for resource in resources:
        st = states[resource.id]
        if st.state is State.DOWN and st.latest is not None and st.since is not None:
            out.append(Down(resource, st.latest, st.since))
    return out


def render_markdown(downs: Sequence[Down], down_after: int) -> str:
    """The issue body; empty when nothing is down (the workflow then closes the issue)."""
    if not downs:
        return ""
    noun = "link is" if len(downs) == 1 else "links are"
    lines = [
        f"{len(downs)} {noun} down (failed on the last {down_after} checks with a working "
        "network):",
        "",
        "| Resource | URL | Verdict | Down since | Detail |",
        "| --- | --- | --- | --- | --- |",
    ]
    for d in sorted(downs, key=lambda d: (d.since, d.resource.id)):
        r = d.latest
        detail = r.reason() or r.note or ""
        lines.append(
            f"| {md_escape(d.resource.label)} | <{d.resource.url.replace('>', '%3E')}> | "
            f"{r.verdict.value} | {d.since:%Y-%m-%d} | {md_escape(detail)} |"
        )
    lines += [
        "",
        "This issue is kept up to date by the nightly workflow and closes itself when every "
        "link has recovered. `monitor fix` suggests archived copies of broken links.",
    ]
    return "\n".join(lines) + "\n"


def render_text(downs: Sequence[Down]) -> str:
    if not downs:
        return "nothing is down\n"
    return "".join(
        f"{d.resource.id}\t{d.latest.verdict.value}\t{d.since:%Y-%m-%d}\t{d.resource.url}\n"
        for d in downs
    )
