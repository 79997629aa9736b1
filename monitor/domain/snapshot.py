"""A history snapshot: what the store's queries answer, as plain values (no I/O).

Reports render from (catalog, snapshot, now); they never hold a store, and nothing here is the
whole history: per resource, its recent checks, its state changes, counts per uptime window.
`monitor.store.queries.snapshot` builds one; tests may build one by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from monitor.domain.models import Run, StoredCheck, Verdict


@dataclass(frozen=True)
class WindowCount:
    """Checks in the last `days` days that could tell (good or bad), and the good ones."""

    days: int
    told: int
    good: int

    @property
    def share(self) -> float | None:
        return self.good / self.told if self.told else None


@dataclass(frozen=True)
class Change:
    """The check at which a resource entered `state` (a `monitor.domain.state.State` value)."""

    at: datetime
    state: str
    verdict: Verdict
    detail: str = ""


@dataclass(frozen=True)
class HistoryLine:
    """One check as a resource's history table lists it (any run, newest first)."""

    checked_at: datetime
    verdict: Verdict
    status: int | None
    elapsed_ms: int | None
    title: str | None
    detail: str
    network_ok: bool


@dataclass(frozen=True)
class ResourceHistory:
    """One resource's part of a snapshot."""

    recent: tuple[StoredCheck, ...] = ()  # newest usable checks, oldest first
    changes: tuple[Change, ...] = ()  # state changes, oldest first
    failures: int = 0  # bad usable checks since the last good one
    windows: tuple[WindowCount, ...] = ()
    first_usable: datetime | None = None  # how far the usable history goes back
    usable: int = 0
    ignored: int = 0  # checks from runs whose network was unusable
    response_ms: tuple[int | None, ...] = ()  # recent usable checks' response times
    lines: tuple[HistoryLine, ...] = ()  # the latest checks of any run, newest first


@dataclass(frozen=True)
class HistorySnapshot:
    runs: tuple[Run, ...] = ()  # newest first (a few, not all)
    resources: Mapping[str, ResourceHistory] = field(default_factory=dict)

    def get(self, resource_id: str) -> ResourceHistory:
        return self.resources.get(resource_id) or ResourceHistory()
