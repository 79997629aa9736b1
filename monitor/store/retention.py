"""Retention: history in tiers, so the database stays small after years of nightly runs.

Three tiers, by age (`[settings]` of the catalog, README "Retention"):

- younger than `retention_days` (default 90): every check;
- older, up to `retention_weekly_after_days` (default 365): one check per resource and UTC day;
- older still: one check per resource and ISO week.

In the thinned tiers, per resource and day (or week):

- keep the bucket's *representative*: its latest check from a run whose network was usable
  (the latest check of any run when the bucket has none);
- also keep every usable check whose verdict differs from the previously kept one (the first
  usable check ever differs from nothing, so it stays too), so the moment a resource went
  down or came back stays exact, not rounded to the day or week;
- drop the rest (re-checks of failing resources, checks from network-down runs);
- never drop the newest check of a resource, whatever its age;
- kept old checks are compacted: their scraped metadata shrinks to `SUMMARY_META` (what the
  timeline and trends show), the bulky rest (descriptions, topics, ETags...) goes;
- runs older than the age left with no check are removed.

Everything happens in one transaction (`Store.thin`, which runs this policy): an interrupted
prune changes nothing. This module holds only the policy; the database work is the store's.
Each resource's state and its changes (`monitor.store.summary`) were derived from the whole
history as it was recorded: a prune takes none of them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor.domain.models import utcnow
from monitor.store.database import CheckKey, Store, ThinReport

__all__ = ["SUMMARY_META", "CheckKey", "ThinReport", "checks_to_keep", "compact_meta", "prune"]

# Metadata fields an old check keeps: what `monitor history`, trends and uptime still need.
SUMMARY_META = frozenset(
    {"title", "duration_s", "stars", "forks", "archived", "availability", "full_name"}
)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(moment: datetime) -> date:
    return _aware(moment).astimezone(UTC).date()


def _bucket(moment: datetime, weekly_before: datetime | None) -> tuple[int, int, int]:
    """The UTC day of a check, or its ISO week when it is older than `weekly_before`."""
    day = _day(moment)
    if weekly_before is not None and _aware(moment) < weekly_before:
        year, week, _ = day.isocalendar()
        return (year, week, 0)
    return (day.year, day.month, day.day)


def checks_to_keep(
    old: Iterable[CheckKey], newest: Iterable[int], weekly_before: datetime | None = None
) -> set[int]:
    """Ids of old checks the policy keeps (module docstring): one a day, one an ISO week
    for checks older than `weekly_before`; `newest` are always kept."""
    keep = set(newest)
    by_resource: dict[str, list[CheckKey]] = {}
    for key in old:
        by_resource.setdefault(key.resource_id, []).append(key)
    for checks in by_resource.values():
        checks.sort(key=lambda k: (k.checked_at, k.id))
        days: dict[tuple[int, int, int], list[CheckKey]] = {}
        for key in checks:
            days.setdefault(_bucket(key.checked_at, weekly_before), []).append(key)
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


WEEKLY_AFTER_DAYS = 365


def prune(
    store: Store,
    older_than_days: int,
    *,
    weekly_after_days: int | None = WEEKLY_AFTER_DAYS,
    now: datetime | None = None,
    dry_run: bool = False,
) -> ThinReport:
    """Apply the retention policy, in one transaction: every check of the last
    `older_than_days`, one a day before that, one a week before `weekly_after_days` (None:
    no weekly tier)."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    if weekly_after_days is not None and weekly_after_days < older_than_days:
        raise ValueError("weekly_after_days must be at least older_than_days")
    moment = now or utcnow()
    cutoff = moment - timedelta(days=older_than_days)
    weekly = moment - timedelta(days=weekly_after_days) if weekly_after_days is not None else None

    def keep(old: Sequence[CheckKey], newest: Sequence[int]) -> set[int]:
        return checks_to_keep(old, newest, weekly)

    return store.thin(cutoff, keep, compact_meta, dry_run=dry_run)
