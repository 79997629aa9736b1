"""`site/feed.xml`: an Atom feed of state changes, one entry per change (feedgen).

An entry is a check at which a resource entered a new state: the store's state-change query
(`monitor.store.queries.transitions`), as the snapshot carries it in each resource's timeline.
A resource's first usable check is a change too (from "not checked yet"), so a reader of the
feed sees every state a link has been in.

Bounded: the changes of the last FEED_DAYS days before `now`, newest first, at most
FEED_MAX of them (a first run over 3,000 links would otherwise be 3,000 entries).

Entry ids are `urn:uuid:` UUIDv5 of (resource id, time of the check, new state): the same
change keeps its id on every rebuild, whatever else changes on the page, so feed readers
never show it twice. The feed's `updated` is its newest entry's time: regenerating with no
new change rewrites no byte.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from feedgen.feed import FeedGenerator

from monitor.domain.models import Verdict
from monitor.domain.state import State
from monitor.reports.bounded import bounded
from monitor.reports.context import ReportContext, Row

FEED_DAYS = 30
FEED_MAX = 100
# Namespace of the feed's UUIDv5 ids (fixed forever: changing it changes every entry's id).
NAMESPACE = uuid.UUID("5b0f3c1e-4b8a-5d6e-9a57-6f1c2d3e4a5b")


@dataclass(frozen=True)
class FeedEntry:
    row: Row
    at: datetime
    state: State
    previous: State  # UNKNOWN for a resource's first check
    verdict: Verdict
    detail: str


def entry_id(resource_id: str, at: datetime, state: State) -> str:
    key = f"{resource_id}\n{at.astimezone(UTC).isoformat()}\n{state.value}"
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, key)}"


def feed_entries(ctx: ReportContext) -> list[FeedEntry]:
    """The state changes the feed holds, newest first (bounded, see the module's doc)."""
    cutoff = ctx.now - timedelta(days=FEED_DAYS)
    found: list[tuple[int, FeedEntry]] = []
    for order, row in enumerate(ctx.rows):
        previous = State.UNKNOWN
        for tr in row.st.timeline:
            if cutoff < tr.at <= ctx.now:
                found.append(
                    (order, FeedEntry(row, tr.at, tr.state, previous, tr.verdict, tr.detail))
                )
            previous = tr.state
    # Newest first; changes found by one run keep the catalog's order.
    found.sort(key=lambda item: (-item[1].at.timestamp(), item[0]))
    return [entry for _, entry in found[:FEED_MAX]]


def _updated(ctx: ReportContext, entries: list[FeedEntry]) -> datetime:
    if entries:
        return entries[0].at
    return ctx.last_run.started_at if ctx.last_run else ctx.now


def render_feed(ctx: ReportContext) -> str:
    lang, labels = ctx.lang, ctx.state_labels
    entries = feed_entries(ctx)
    fg = FeedGenerator()
    fg.id(f"urn:uuid:{uuid.uuid5(NAMESPACE, 'feed ' + (ctx.repository_url or ''))}")
    fg.title(lang.gettext("Link status"))
    fg.subtitle(lang.gettext("Every link of the roadmap, checked automatically."))
    fg.author({"name": "monitor"})
    fg.generator("monitor")
    fg.language(ctx.locale)
    fg.updated(_updated(ctx, entries))
    # Relative links resolve against the feed's own address (RFC 4287 section 4.2.7).
    fg.link(href="index.html", rel="alternate", type="text/html")
    fg.link(href="feed.xml", rel="self", type="application/atom+xml")
    for e in entries:
        label = bounded(e.row.resource.label)
        summary = f"{lang.gettext('Verdict')}: {lang.verdict(e.verdict)}"
        if e.detail:
            summary += f" · {bounded(e.detail)}"
        fe = fg.add_entry(order="append")
        fe.id(entry_id(e.row.resource.id, e.at, e.state))
        fe.title(f"{label}: {labels[e.previous]} → {labels[e.state]}")
        fe.updated(e.at)
        fe.published(e.at)
        fe.link(href=e.row.page, rel="alternate", type="text/html")
        fe.category(term=e.state.value, label=labels[e.state])
        fe.summary(summary)
    out: bytes = fg.atom_str(pretty=True, encoding="UTF-8")
    return out.decode("utf-8")
