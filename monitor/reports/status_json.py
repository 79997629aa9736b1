"""`site/status.json`: every resource's state, verdict and metadata, for programs.

The shape is versioned and documented by a JSON Schema shipped in the package
(`monitor/reports/schema/status.v1.json`, `schema_version` 1). Within a version fields are
only ever added, never renamed or retyped; a breaking change is version 2 with its own file.
Scraped strings are bounded and `<`, `>`, `&` escaped (`monitor.reports.bounded`).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.domain.models import Metadata
from monitor.domain.state import UPTIME_WINDOWS_DAYS, State
from monitor.reports.bounded import TEXT_LIMIT, URL_LIMIT, bounded, bounded_or_none, json_text
from monitor.reports.context import ReportContext, Row

SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).resolve().parent / "schema" / f"status.v{SCHEMA_VERSION}.json"
# Metadata a reader has no use for: an HTTP cache validator of our own requests.
PRIVATE_METADATA = frozenset({"etag"})
# Bounds of list-valued metadata (topics, instructors): items kept, characters per item.
LIST_ITEMS = 20
ITEM_LIMIT = 100
DESCRIPTION_LIMIT = 1000
_URL_FIELDS = frozenset({"canonical_url"})
_TEXT_LIMITS = {"description": DESCRIPTION_LIMIT}


def iso(dt: datetime | None) -> str | None:
    """RFC 3339 in UTC, to the second ("2026-11-06T03:00:05Z")."""
    if dt is None:
        return None
    return dt.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta_value(name: str, value: Any) -> Any:
    if isinstance(value, str):
        limit = URL_LIMIT if name in _URL_FIELDS else _TEXT_LIMITS.get(name, TEXT_LIMIT)
        return bounded(value, limit)
    if isinstance(value, tuple):
        return [bounded(str(item), ITEM_LIMIT) for item in value[:LIST_ITEMS]]
    return value  # int, bool


def metadata_json(meta: Metadata) -> dict[str, Any]:
    """Known fields only (unknown is absent, never null), in the dataclass's order."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(meta):
        value = getattr(meta, f.name)
        if value is None or f.name in PRIVATE_METADATA:
            continue
        out[f.name] = _meta_value(f.name, value)
    return out


def _resource(row: Row) -> dict[str, Any]:
    st, latest = row.st, row.st.latest
    checked = latest is not None and row.state is not State.SKIPPED
    return {
        "id": row.resource.id,
        "label": bounded(row.resource.label),
        "url": bounded(row.resource.url, URL_LIMIT),
        "kind": row.resource.kind.value,
        "section": row.resource.section,
        "state": row.state.value,
        "state_since": iso(st.since),
        "verdict": latest.verdict.value if checked and latest else None,
        "http_status": latest.status if checked and latest else None,
        "last_checked": iso(latest.checked_at) if checked and latest else None,
        "moved_to": bounded_or_none(row.moved_to, URL_LIMIT),
        "detail": bounded(row.detail) if row.detail and not row.moved_to else None,
        "failures": st.failures,
        "uptime": [
            {"days": days, "share": None if share is None else round(share, 4)}
            for days, share in ((d, st.uptime.get(d)) for d in UPTIME_WINDOWS_DAYS)
        ],
        "history_since": iso(st.first_usable),
        "metadata": metadata_json(st.meta),
        "page": row.page,
        "badge": f"badges/{row.resource.id}.svg",
        "badge_endpoint": f"badges/{row.resource.id}.json",
    }


def status_document(ctx: ReportContext) -> dict[str, Any]:
    run = ctx.last_run
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(ctx.now),
        "locale": ctx.locale,
        "repository_url": ctx.repository_url,
        "last_run": None
        if run is None
        else {
            "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at),
            "network_ok": run.network_ok,
        },
        "summary": {
            "healthy": ctx.healthy,
            "total": ctx.total,
            "states": {c.state.value: c.count for c in ctx.counts},
        },
        "resources": [_resource(row) for row in ctx.rows],
    }


def render_status_json(ctx: ReportContext) -> str:
    return json_text(status_document(ctx))
