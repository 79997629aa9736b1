"""The prepared context every report renders: grouped, sorted, counted, formatted.

Templates hold loops and conditionals only; every decision (order, wording, numbers)
is made here, once, so the HTML page, status.md and the README agree.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from monitor.config.catalog import Catalog
from monitor.config.urls import followable_url
from monitor.domain.models import Kind, Resource, Run, Verdict
from monitor.domain.snapshot import HistoryLine, HistorySnapshot
from monitor.domain.state import (
    UPTIME_WINDOWS_DAYS,
    Change,
    ResourceState,
    State,
    derive_snapshot,
)
from monitor.reports.locale import EMOJI, GLYPH, Language, language

DETAIL_CHECKS = 30  # checks listed in a resource's history on the page
SPARK_W, SPARK_H = 96, 24


def fold(value: str) -> str:
    """Lower case without accents, as the page's search box compares ("video" finds "vídeo")."""
    decomposed = unicodedata.normalize("NFD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def uptime_level(share: float | None) -> str:
    """CSS level of an uptime figure: below 95% is worth a look, below 80% is bad."""
    if share is None or share >= 0.95:
        return ""
    return "warn" if share >= 0.8 else "bad"


@dataclass(frozen=True)
class Spark:
    """An inline SVG sparkline of response times (points already scaled)."""

    points: str
    last_x: float
    last_y: float
    low: int
    high: int
    last: int
    area: str  # the polygon under the line
    width: int = SPARK_W
    height: int = SPARK_H


def sparkline(values: Sequence[int | None]) -> Spark | None:
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return None
    low, high = min(v for _, v in known), max(v for _, v in known)
    span = max(high - low, 1)
    step = (SPARK_W - 4) / max(len(values) - 1, 1)
    coords = [(2 + i * step, 2 + (SPARK_H - 4) * (1 - (v - low) / span)) for i, v in known]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = f"{coords[0][0]:.1f},{SPARK_H} {points} {coords[-1][0]:.1f},{SPARK_H}"
    last_x, last_y = round(coords[-1][0], 1), round(coords[-1][1], 1)
    return Spark(points, last_x, last_y, low, high, known[-1][1], area)


@dataclass(frozen=True)
class HistoryRow:
    at: datetime  # the page's <time datetime>
    when: str
    verdict: Verdict
    verdict_label: str  # the verdict in the page's language
    status: str
    ms: str
    title: str
    detail: str
    network_ok: bool


@dataclass(frozen=True)
class Row:
    """One resource as every report shows it."""

    resource: Resource
    st: ResourceState
    url: str | None  # safe to link, or None (then shown as text)
    href: str | None  # the same on the published site (file links go to the repository)
    state: State
    state_label: str
    emoji: str
    glyph: str
    kind_label: str
    title: str  # scraped title ("" when unknown or the same as the label)
    duration: str
    duration_s: int | None
    stars: str
    since: str  # "3 days"
    since_date: str
    verified: str  # date of the latest usable check
    uptime: tuple[str, ...]  # 7/30/90 days
    uptime_cells: tuple[tuple[str, str], ...]  # (text, css level: "", "warn", "bad")
    spark: Spark | None
    detail: str  # error, or the new URL of a moved link
    moved_to: str | None
    moved_to_href: str | None  # moved_to if safe to link (it comes from a Location header)
    todo: str
    search: str  # lower-cased text the page's search box matches
    history: tuple[HistoryRow, ...]
    changes: tuple[str, ...]
    # The changes a README reader could see: a star count moving within its displayed
    # rounding (41,234 -> 41,249, both "41.2K") is left out, so status.md stays put.
    visible_changes: tuple[str, ...]
    page: str  # its own page, relative to the index: r/<id>.html
    data_note: str  # "10 days of data" when history is shorter than the longest window


@dataclass(frozen=True)
class SectionView:
    id: str
    title: str
    rows: tuple[Row, ...]  # problems first (the page)
    catalog_rows: tuple[Row, ...]  # roadmap order (the README)
    total_duration: str
    known_durations: int
    durations_partial: str  # "4 of 6 with a known duration", "" when all are known


@dataclass(frozen=True)
class Count:
    state: State
    label: str
    emoji: str
    glyph: str
    count: int
    share: str  # percentage of all resources, for the stacked health bar


@dataclass(frozen=True)
class ReportContext:
    now: datetime
    generated: str
    locale: str
    lang: Language  # the locale's words and number/date formats
    sections: tuple[SectionView, ...]
    rows: tuple[Row, ...]
    problems: tuple[Row, ...]
    changed: tuple[Row, ...]  # rows with changes in the latest usable run
    visible_changed: tuple[Row, ...]  # rows with `visible_changes`
    counts: tuple[Count, ...]  # non-zero, problems first
    verdicts: tuple[tuple[str, str, int], ...]  # (value, label, count)
    kinds: tuple[tuple[str, str], ...]  # (value, label) present in the catalog
    states: tuple[tuple[str, str], ...]  # (value, label) present
    state_labels: Mapping[State, str]
    last_run: Run | None
    last_run_time: str
    healthy: int
    total: int
    repository_url: str | None = None  # the roadmap's repository, for a link back


def _todo(row_state: State, st: ResourceState, lang: Language) -> str:
    """What the maintainer should do about a problem ("" for a healthy row)."""
    _ = lang.gettext
    latest = st.latest
    if row_state is State.MOVED:
        return _("update the link in the catalog and the README (monitor fix)")
    if row_state is State.DOWN and latest is not None:
        error = latest.reason() or lang.verdict(latest.verdict)
        return _("replace or remove the link; error: {error}").format(error=error)
    if row_state is State.BLOCKED:
        return _("the site refused the monitor; check by hand")
    if row_state is State.FLAKY:
        return _("alternates between ok and failing; keep an eye on it")
    if row_state is State.FAILING:
        return _("failed once; confirmed or cleared by the next run")
    return ""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _verdict_word(value: object, lang: Language) -> str:
    try:
        return lang.verdict(Verdict(str(value)))
    except ValueError:  # not a verdict: shown as stored
        return str(value)


def shows_at_display_rounding(change: Change, lang: Language) -> bool:
    """Whether a reader of the README sees `change`: a star count is shown rounded
    (`Language.count`, CLDR's compact form: 41,249 is "41.2K"), every other field as is."""
    if change.field != "stars":
        return True
    old, new = _int(change.old), _int(change.new)
    if old is None or new is None:
        return old != new
    return lang.count(old) != lang.count(new)


def describe_change(change: Change, lang: Language) -> str:
    """One change of the latest run, in words: "stars: 41.200 → 41.234 (+34)"."""
    _ = lang.gettext
    if change.field == "archived":
        return _("repository archived") if change.new else _("repository unarchived")
    if change.field == "duration":
        old, new = lang.duration(_int(change.old)), lang.duration(_int(change.new))
        return _("duration: {old} → {new}").format(old=old, new=new)
    if change.field == "stars":
        old_n, new_n = _int(change.old), _int(change.new)
        delta = lang.signed(change.delta) if change.delta is not None else ""
        return _("stars: {old} → {new} ({delta})").format(
            old=lang.number(old_n) if old_n is not None else change.old,
            new=lang.number(new_n) if new_n is not None else change.new,
            delta=delta,
        )
    if change.field == "verdict":
        out = _("verdict: {old} → {new}").format(
            old=_verdict_word(change.old, lang), new=_verdict_word(change.new, lang)
        )
        return f"{out} ({change.reason})" if change.reason else out
    if change.field == "title":
        return _("title: {old} → {new}").format(old=change.old, new=change.new)
    if change.field == "final_url":
        return _("final URL: {old} → {new}").format(old=change.old, new=change.new)
    return f"{change.field}: {change.old} → {change.new}"


def state_change(st: ResourceState, lang: Language) -> tuple[str, ...]:
    """The state the latest usable check moved the resource into, when it moved it ("state:
    failing → down"): a second failure changes no verdict, yet it is the change a reader
    most wants to see. The first check of a resource (no state before) is no change."""
    timeline = st.timeline
    if len(timeline) < 2 or st.latest is None or timeline[-1].at != st.latest.checked_at:
        return ()
    _ = lang.gettext
    old, new = timeline[-2].state, timeline[-1].state
    return (_("state: {old} → {new}").format(old=lang.state(old), new=lang.state(new)),)


def _history_rows(lines: Sequence[HistoryLine], lang: Language) -> tuple[HistoryRow, ...]:
    return tuple(
        HistoryRow(
            at=line.checked_at,
            when=lang.time(line.checked_at),
            verdict=line.verdict,
            verdict_label=lang.verdict(line.verdict),
            status=str(line.status or ""),
            ms=str(line.elapsed_ms) if line.elapsed_ms is not None else "",
            title=line.title or "",
            detail=line.detail,
            network_ok=line.network_ok,
        )
        for line in lines[:DETAIL_CHECKS]
    )


def data_days(first_usable: datetime | None, now: datetime) -> int | None:
    """Whole days of history, counting a started day (10 nightly checks: 10 days)."""
    if first_usable is None:
        return None
    return max(1, math.ceil((now - first_usable) / timedelta(days=1)))


def repository_file_url(repository_url: str | None, path: str) -> str | None:
    """A file link of the roadmap, in the repository (from the published page, a relative
    link would point inside the site, where the file is not)."""
    if not repository_url or followable_url(path) is None:
        return None
    clean = quote(path.removeprefix("./"), safe="/-_.~")
    return f"{repository_url.rstrip('/')}/blob/HEAD/{clean}"


def _row(
    resource: Resource,
    st: ResourceState,
    lines: Sequence[HistoryLine],
    now: datetime,
    lang: Language,
    last_usable_run: int | None,
    repository_url: str | None = None,
) -> Row:
    # `skip = true` in the catalog wins over history: such a link is never checked.
    state = State.SKIPPED if resource.skip else st.state
    meta = st.meta
    latest = st.latest
    title = (meta.title or "").strip()
    if title.casefold() == resource.label.strip().casefold():
        title = ""
    moved_to = (latest.moved_to or latest.final_url) if latest and state is State.MOVED else None
    detail = moved_to or ((latest.error or latest.note or "") if latest else "")
    changes: tuple[str, ...] = ()
    visible: tuple[str, ...] = ()
    if st.latest_run is not None and st.latest_run.id == last_usable_run:
        entered = state_change(st, lang)
        changes = (*entered, *(describe_change(c, lang) for c in st.changes))
        visible = (
            *entered,
            *(describe_change(c, lang) for c in st.changes if shows_at_display_rounding(c, lang)),
        )
    kind_label = lang.kind(resource.kind)
    span = data_days(st.first_usable, now)
    # A window longer than the history would repeat a shorter one's figure under a bigger
    # name ("90 days: 100%" on 10 days of data): only the first such window is shown.
    shares: list[float | None] = []
    partial_shown = False
    for days in UPTIME_WINDOWS_DAYS:
        if span is not None and span >= days:
            shares.append(st.uptime[days])
        elif not partial_shown:
            shares.append(st.uptime[days])
            partial_shown = True
        else:
            shares.append(None)
    note = ""
    if span is not None and span < UPTIME_WINDOWS_DAYS[-1]:
        note = lang.ngettext("{n} day of data", "{n} days of data", span).format(
            n=lang.number(span)
        )
    link = followable_url(resource.url)
    # On the published page a relative file link points inside the site: link the repository.
    href = repository_file_url(repository_url, resource.url) if resource.kind is Kind.FILE else link
    return Row(
        resource=resource,
        st=st,
        url=link,
        href=href,
        state=state,
        state_label=lang.state(state),
        emoji=EMOJI[state],
        glyph=GLYPH[state],
        kind_label=kind_label,
        title=title,
        duration=lang.duration(meta.duration_s),
        duration_s=meta.duration_s,
        stars=lang.count(meta.stars),
        since=lang.ago(now - st.since) if st.since else "",
        since_date=lang.date(st.since),
        verified=lang.date(latest.checked_at) if latest and state is not State.SKIPPED else "",
        uptime=tuple(lang.percent(share) for share in shares),
        uptime_cells=tuple((lang.percent(share), uptime_level(share)) for share in shares),
        spark=sparkline(st.response_ms),
        detail=detail,
        moved_to=moved_to,
        moved_to_href=followable_url(moved_to),
        todo=_todo(state, st, lang),
        search=fold(" ".join([resource.label, title, resource.url, kind_label])),
        history=_history_rows(lines, lang),
        changes=changes,
        visible_changes=visible,
        page=f"r/{resource.id}.html",
        data_note=note,
    )


def build_context(
    catalog: Catalog,
    snapshot: HistorySnapshot,
    now: datetime,
    repository_url: str | None = None,
) -> ReportContext:
    """Everything the reports show, from the catalog and a history snapshot at `now`.
    `repository_url` (else `settings.repository_url`): where the roadmap lives."""
    repo = catalog.settings.repository_url or repository_url
    locale = catalog.settings.locale
    lang = language(locale)
    states = derive_snapshot(catalog.resources, snapshot)
    ordered_runs = sorted(snapshot.runs, key=lambda r: (r.started_at, r.id or 0), reverse=True)
    last_run = ordered_runs[0] if ordered_runs else None
    usable = next((r for r in ordered_runs if r.network_ok), None)
    rows = {
        r.id: _row(
            r,
            states[r.id],
            snapshot.get(r.id).lines,
            now,
            lang,
            usable.id if usable else None,
            repo,
        )
        for r in catalog.resources
    }
    order = {r.id: i for i, r in enumerate(catalog.resources)}

    def by_severity(row: Row) -> tuple[int, int]:
        return (row.state.severity, order[row.resource.id])

    sections = []
    for section in catalog.sections:
        in_section = [rows[r.id] for r in catalog.resources if r.section == section.id]
        durations = [row.duration_s for row in in_section if row.duration_s is not None]
        partial = ""
        if durations and len(durations) < len(in_section):
            partial = lang.ngettext(
                "{known} of {count} with a known duration",
                "{known} of {count} with a known duration",
                len(in_section),
            ).format(known=lang.number(len(durations)), count=lang.number(len(in_section)))
        sections.append(
            SectionView(
                id=section.id,
                title=section.title,
                rows=tuple(sorted(in_section, key=by_severity)),
                catalog_rows=tuple(in_section),
                total_duration=lang.duration(sum(durations)) if durations else "",
                known_durations=len(durations),
                durations_partial=partial,
            )
        )
    all_rows = tuple(rows[r.id] for r in catalog.resources)
    state_counts = Counter(row.state for row in all_rows)
    verdict_counts = Counter(row.st.latest.verdict for row in all_rows if row.st.latest)
    counted = [r for r in all_rows if r.state is not State.SKIPPED]
    return ReportContext(
        now=now,
        generated=lang.time(now),
        locale=locale,
        lang=lang,
        sections=tuple(sections),
        rows=all_rows,
        problems=tuple(sorted((r for r in all_rows if r.state.is_problem), key=by_severity)),
        changed=tuple(r for r in all_rows if r.changes),
        visible_changed=tuple(r for r in all_rows if r.visible_changes),
        counts=tuple(
            Count(
                s,
                lang.state(s),
                EMOJI[s],
                GLYPH[s],
                state_counts[s],
                f"{100 * state_counts[s] / len(all_rows):.2f}",
            )
            for s in State
            if state_counts[s]
        ),
        verdicts=tuple(
            (v.value, lang.verdict(v), verdict_counts[v]) for v in Verdict if verdict_counts[v]
        ),
        kinds=tuple(
            (k.value, lang.kind(k)) for k in Kind if any(r.resource.kind is k for r in all_rows)
        ),
        states=tuple((s.value, lang.state(s)) for s in State if state_counts[s]),
        state_labels={s: lang.state(s) for s in State},
        last_run=last_run,
        last_run_time=lang.time(last_run.started_at) if last_run else "",
        healthy=sum(1 for r in counted if r.state.is_healthy),
        total=len(counted),
        repository_url=repo,
    )


def load_context(
    catalog: Catalog, history: HistorySnapshot, now: datetime, repository_url: str | None = None
) -> ReportContext:
    """The context of every report from the catalog and a history snapshot (`Store.snapshot`);
    reports never check links nor open a database."""
    return build_context(catalog, history, now, repository_url)
