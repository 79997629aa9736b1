"""Core types shared by every module: one vocabulary of verdicts, plain frozen records.

The ORM tables live only in `monitor.store.database`; checkers and reports exchange these.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """What one check found (docs/architecture.md): the CLI, JSON, the store and reports."""

    OK = "ok"
    MOVED = "moved"
    BROKEN = "broken"
    BLOCKED = "blocked"
    ERROR = "error"
    SKIPPED = "skipped"

    @property
    def is_failure(self) -> bool:
        """A verdict that counts against a resource's health (moved still works)."""
        return self in (Verdict.BROKEN, Verdict.BLOCKED, Verdict.ERROR)


class Kind(StrEnum):
    YOUTUBE = "youtube"
    COURSE = "course"
    GITHUB = "github"
    WEB = "web"
    FILE = "file"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Section:
    """A heading of the roadmap that groups resources; `id` is what README markers name."""

    id: str
    title: str


@dataclass(frozen=True)
class Resource:
    """One catalog entry. `id` is stable across URL changes (``monitor fix`` keeps it)."""

    id: str
    url: str
    kind: Kind
    section: str
    label: str
    line: int | None = None
    accept: tuple[int, ...] = ()
    skip: bool = False
    notes: str = ""
    description: str = ""  # the roadmap item's words after its link (README tables show them)
    # Why a link found in a document is not checked ("root-relative link, no site root"):
    # it is reported `skipped` with this reason, never dropped. Implies `skip`.
    skip_reason: str | None = None


@dataclass(frozen=True)
class Metadata:
    """What a checker scraped. Every field is optional; absent means unknown, not empty."""

    # any page
    title: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    language: str | None = None
    # videos and courses
    duration_s: int | None = None
    channel: str | None = None
    channel_id: str | None = None
    author: str | None = None
    video_id: str | None = None
    upload_date: str | None = None
    view_count: int | None = None
    availability: str | None = None
    live_status: str | None = None
    age_limit: int | None = None
    video_count: int | None = None
    provider: str | None = None
    instructors: tuple[str, ...] | None = None
    level: str | None = None
    # repositories
    full_name: str | None = None
    stars: int | None = None
    forks: int | None = None
    open_issues: int | None = None
    archived: bool | None = None
    disabled: bool | None = None
    pushed_at: str | None = None
    license: str | None = None
    default_branch: str | None = None
    primary_language: str | None = None
    topics: tuple[str, ...] | None = None
    etag: str | None = None
    # files
    size_bytes: int | None = None
    content_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict without unknown (None) fields."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Metadata:
        """Inverse of `to_dict`; unknown keys (from newer versions) are ignored."""
        if not data:
            return cls()
        names = cls.__dataclass_fields__  # not dataclasses.fields(): reports read thousands
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in names:
                continue
            kwargs[key] = tuple(value) if isinstance(value, list) else value
        return cls(**kwargs)

    def merged(self, older: Metadata) -> Metadata:
        """Fill fields this one lacks from an older result (partial checks keep what we knew)."""
        updates = {
            f.name: getattr(older, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is None and getattr(older, f.name) is not None
        }
        return dataclasses.replace(self, **updates) if updates else self


@dataclass(frozen=True)
class Hop:
    """One step of a redirect chain: the URL requested and the status it answered."""

    url: str
    status: int


@dataclass(frozen=True)
class CheckResult:
    """What one check of one resource found. Expected failures are results, never exceptions."""

    resource_id: str
    url: str
    verdict: Verdict
    checker: str = "web"
    status: int | None = None
    final_url: str | None = None
    redirects: tuple[Hop, ...] = ()
    elapsed_ms: int | None = None
    # The response time: the first request's first attempt, to its answer's headers (no
    # retries, backoffs or redirects); None when the check sent no HTTP request or got no
    # answer. Reports fall back to elapsed_ms where it is unknown (older checks, APIs).
    first_ms: int | None = None
    error: str | None = None
    note: str | None = None
    moved_to: str | None = None
    partial: bool = False
    # True when the failure happened below HTTP (DNS, connect): the evidence for
    # network-down detection. Such a failure says nothing about the resource itself.
    network_failure: bool = False
    meta: Metadata = field(default_factory=Metadata)
    checked_at: datetime = field(default_factory=utcnow)
    # True when the check sent nothing (a rate-limit deferral): it says nothing about the
    # resource, so it never replaces an answer (only an answer changes a verdict:
    # docs/architecture.md).
    deferred: bool = False

    def reason(self) -> str:
        """What went wrong, in a few words: the error, else the HTTP status, else ""."""
        return self.error or (f"HTTP {self.status}" if self.status else "")

    def describe(self) -> str:
        """One line for a person: the HTTP status (unless ok), the move, the error, the note.

        What `monitor check` prints and writes beside each link, in every format.
        """
        parts: list[str] = []
        # A move is told by the status that moved it (the chain's first hop, 301), not by
        # the status of the page it led to (200).
        status = self.redirects[0].status if self.moved_to and self.redirects else self.status
        said = f"HTTP {status}"
        # ...and only once: an error that names it says more ("HTTP 429 (rate limited)").
        named = any(text and text.startswith(said) for text in (self.error, self.note))
        if status is not None and self.verdict is not Verdict.OK and not named:
            parts.append(said)
        if self.moved_to:
            parts.append(f"moved to {self.moved_to}")
        for text in (self.error, self.note):
            if text and text not in parts:
                parts.append(text)
        return "; ".join(parts)


@dataclass(frozen=True)
class Run:
    """One execution of ``monitor check``."""

    id: int | None
    started_at: datetime
    finished_at: datetime | None = None
    network_ok: bool = True
    trigger: str = "cli"
    note: str = ""


# The checker of local files (monitor/checkers/file.py). Its verdict needs no network: a
# file in the repository exists or not, so its checks count even in a run whose network was
# unusable (a missing file is broken whatever the Wi-Fi did).
FILE_CHECKER = "file"
OFFLINE_CHECKERS = frozenset({FILE_CHECKER})


@dataclass(frozen=True)
class StoredCheck:
    """A stored check with the run it belongs to: one row of a resource's history."""

    run: Run
    result: CheckResult

    @property
    def usable(self) -> bool:
        """Whether the state machine counts this check: its run's network was usable, or
        its verdict needed none (`OFFLINE_CHECKERS`)."""
        return self.run.network_ok or self.result.checker in OFFLINE_CHECKERS
