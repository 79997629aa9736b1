"""Retention: thin old checks so the history stays small after years of nightly runs.

Policy, for checks older than the retention age (`settings.retention_days`, default 90):

- per resource and UTC day, keep the day's *representative*: its latest check from a run whose
  network was usable (the latest check of any run when the day has none);
- also keep every usable check whose verdict differs from the previously kept one (the first
  usable check ever differs from nothing, so it stays too), so the moment a resource went
  down or came back stays exact, not rounded to the day;
- drop the rest (re-checks of failing resources, checks from network-down runs);
- never drop the newest check of a resource, whatever its age;
- kept old checks are compacted: their scraped metadata shrinks to `SUMMARY_META` (what the
  timeline and trends show), the bulky rest (descriptions, topics, ETags...) goes;
- runs older than the age left with no check are removed.

Everything happens in one transaction (`Store.thin`, which runs this policy): an interrupted
prune changes nothing. This module holds only the policy; the database work is the store's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor.domain.models import utcnow
from monitor.store.database import CheckKey, Store, ThinReport

__all__ = ["SUMMARY_META", "CheckKey", "ThinReport", "checks_to_keep", "compact_meta", "prune"]

# Metadata fields an old check keeps: what `monitor history`, trends and uptime still need.
SUMMARY_META = frozenset(
    {"title", "duration_s", "stars", "forks", "archived", "availability", "full_name"}
)


def _day(moment: datetime) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def checks_to_keep(old: Iterable[CheckKey], newest: Iterable[int]) -> set[int]:
    """Ids of old checks the policy keeps (module docstring); `newest` are always kept."""
    keep = set(newest)
    by_resource: dict[str, list[CheckKey]] = {}
    for key in old:
        by_resource.setdefault(key.resource_id, []).append(key)
    for checks in by_resource.values():
        checks.sort(key=lambda k: (k.checked_at, k.id))
        days: dict[date, list[CheckKey]] = {}
        for key in checks:
            days.setdefault(_day(key.checked_at), []).append(key)
        last_verdict: str | None = None
        for day_checks in days.values():
            usable = [k for k in day_checks if k.usable]
            representative = (usable or day_checks)[-1]
            for key in usable:
                if key is representative:
                    break
                if key.verdict != last_verdict:
                    keep.add(key.id)
                    last_verdict = key.verdict
            keep.add(representative.id)
            if representative.usable:
                last_verdict = representative.verdict
    return keep


def compact_meta(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    """The summary of a check's metadata, or None when it is already compact."""
    if not meta or meta.keys() <= SUMMARY_META:
        return None
    return {k: v for k, v in meta.items() if k in SUMMARY_META}


def prune(
    store: Store, older_than_days: int, *, now: datetime | None = None, dry_run: bool = False
) -> ThinReport:
    """Apply the retention policy to checks older than `older_than_days`, in one transaction."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    return store.thin(cutoff, checks_to_keep, compact_meta, dry_run=dry_run)
