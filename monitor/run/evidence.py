"""Network evidence: what the engine saw while a resource was checked, and what it changes.

A checker says what it found; it cannot know whether our own network was the problem. That is
judged here, from evidence carried explicitly from the fetches to the verdict:

1. `RecordingHttp` wraps the engine for one check and keeps a `FetchNote` of every fetch the
   checker makes (a checker never has to pass failures on).
2. `Evidence.of(notes)` sums them up: a connection refused by the private-address guard, a
   failure below HTTP (DNS, connect), a DNS failure.
3. Two chains of small named links, run in order (the shape of lychee's handler chain):
   `AFTER_CHECK` right after each check (before the second opinion is decided),
   `AFTER_RUN` once the whole run is known (is the network usable? does DNS work?).
   Between them, `second_opinion` merges a recheck with the first verdict.

"Why is this link broken?": the checker's verdict, then the links below, in this order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from monitor.config.catalog import EngineSettings
from monitor.domain.models import CheckResult, Verdict
from monitor.net.engine import Failure, FetchResult, HttpEngine
from monitor.net.guard import AddressPolicy

# The network counts as unusable when at least this share of distinct hosts failed below
# HTTP (DNS, connect) and at least MIN_HOSTS hosts were tried, or when no host at all
# answered over HTTP and some failed below it.
NETWORK_DOWN_SHARE = 0.8
NETWORK_DOWN_MIN_HOSTS = 2
# Names that resolve without DNS (/etc/hosts): their success proves nothing about DNS.
LOCAL_NAMES = ("localhost",)


# -- collecting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchNote:
    """What the evidence stage keeps of one fetch, whatever the checker reports."""

    url: str
    failure: Failure | None
    error: str | None


class RecordingHttp:
    """The engine as one check sees it: the same `fetch`, with every outcome noted.

    Given to the checker as `CheckContext.http` for one resource; the notes then become that
    check's `Evidence`. Checkers need only `fetch` and `settings` (`monitor.checkers.base.Http`).
    In a second opinion (`second=True`) its fetches retry no failure below HTTP: the recheck
    is itself the retry.
    """

    def __init__(self, engine: HttpEngine, *, second: bool = False) -> None:
        self.engine = engine
        self.second = second
        self.notes: list[FetchNote] = []

    @property
    def settings(self) -> EngineSettings:
        return self.engine.settings

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        want_body: bool = True,
        max_bytes: int | None = None,
        follow_redirects: bool = True,
        content: bytes | None = None,
    ) -> FetchResult:
        result = await self.engine.fetch(
            url,
            method=method,
            headers=headers,
            want_body=want_body,
            max_bytes=max_bytes,
            follow_redirects=follow_redirects,
            content=content,
            retry_failures=not self.second,
        )
        self.notes.append(FetchNote(result.final_url, result.failure, result.error))
        return result

    @property
    def address_policy(self) -> AddressPolicy | None:
        return self.engine.address_policy

    async def vet(self, url: str) -> str | None:
        """The engine's address check for a connection made outside it (yt-dlp); a refusal
        is noted like a refused fetch."""
        refused = await self.engine.vet(url)
        if refused is not None:
            self.notes.append(FetchNote(url, Failure.PRIVATE, refused))
        return refused


@dataclass(frozen=True)
class Evidence:
    """What the engine saw while one resource was checked."""

    refused: FetchNote | None = None  # a connection refused by the private-address guard
    network: bool = False  # some fetch failed at DNS or connect level
    dns: bool = False  # some fetch failed at DNS level

    @classmethod
    def of(cls, notes: Sequence[FetchNote]) -> Evidence:
        return cls(
            refused=next((n for n in notes if n.failure is Failure.PRIVATE), None),
            network=any(n.failure is not None and n.failure.network_level for n in notes),
            dns=any(n.failure is Failure.DNS for n in notes),
        )


@dataclass(frozen=True)
class Checked:
    """A verdict and the evidence it was reached on, as the pipeline hands them on."""

    result: CheckResult
    evidence: Evidence = Evidence()


@dataclass(frozen=True)
class RunEvidence:
    """What the whole run says about our network."""

    usable: bool  # see `network_usable`
    dns_proven: bool  # some real name resolved in this run, so DNS works

    @classmethod
    def of(
        cls, results: Sequence[CheckResult], resolved_names: Iterable[str], trust_dns: bool
    ) -> RunEvidence:
        dns_proven = trust_dns or any(
            not (name in LOCAL_NAMES or name.endswith(".localhost")) for name in resolved_names
        )
        return cls(usable=network_usable(results), dns_proven=dns_proven)


def host_of(url: str) -> str | None:
    """The URL's host, or None (a link found in a document may be "https://[": unparseable)."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def network_usable(results: Sequence[CheckResult]) -> bool:
    """False when nearly every distinct host failed at the network level."""
    hosts: dict[str, bool] = {}
    for result in results:
        host = host_of(result.url)
        if not host or result.verdict is Verdict.SKIPPED:
            continue
        hosts[host] = hosts.get(host, True) and result.network_failure
    if not hosts:
        return True
    failed = sum(hosts.values())
    if failed == len(hosts):
        return False  # nothing answered at all: we cannot tell a dead link from a dead network
    if len(hosts) < NETWORK_DOWN_MIN_HOSTS:
        return True
    return failed / len(hosts) < NETWORK_DOWN_SHARE


def _add_note(result: CheckResult, note: str) -> str:
    return f"{result.note}; {note}" if result.note else note


# -- after each check --------------------------------------------------------------------------

CheckLink = Callable[[CheckResult, Evidence], CheckResult]


def skip_refused_private(result: CheckResult, evidence: Evidence) -> CheckResult:
    """A connection refused by the private-address guard is a skip, not a failure."""
    if evidence.refused is None or result.verdict is Verdict.OK:
        return result
    return dataclasses.replace(
        result,
        verdict=Verdict.SKIPPED,
        error=None,
        network_failure=False,
        note=f"{evidence.refused.error} (private addresses are not checked; "
        "--allow-private lifts this)",
    )


def mark_network_failure(result: CheckResult, evidence: Evidence) -> CheckResult:
    """A failure the engine saw below HTTP is marked so, whatever the checker said."""
    if evidence.network and result.verdict.is_failure and not result.network_failure:
        return dataclasses.replace(result, network_failure=True)
    return result


AFTER_CHECK: tuple[CheckLink, ...] = (skip_refused_private, mark_network_failure)


def settle(checked: Checked) -> Checked:
    """Run the `AFTER_CHECK` chain on one fresh check."""
    result = checked.result
    for link in AFTER_CHECK:
        result = link(result, checked.evidence)
    return dataclasses.replace(checked, result=result)


# -- the second opinion ------------------------------------------------------------------------


def second_opinion(first: CheckResult, second: CheckResult) -> CheckResult:
    """The recheck is the verdict kept; its note says what the first check found.

    Only an answer changes a verdict: a recheck that sent nothing (`deferred`, a rate-limit
    wait) leaves the first verdict as it was.
    """
    if second.deferred and not first.deferred:
        return dataclasses.replace(
            first, note=_add_note(first, f"second check not made ({second.note or 'deferred'})")
        )

    def why(result: CheckResult) -> str:
        reason = result.reason()
        return f"{result.verdict.value}, {reason}" if reason else result.verdict.value

    if not second.verdict.is_failure:
        note = f"recovered on second check (first: {why(first)})"
    elif second.verdict is first.verdict:
        note = "confirmed on second check"
    else:
        note = f"second check (first: {why(first)})"
    return dataclasses.replace(second, note=_add_note(second, note))


# -- after the run -----------------------------------------------------------------------------

RunLink = Callable[[CheckResult, Evidence, RunEvidence], CheckResult]


def _demoted(result: CheckResult, note: str) -> CheckResult:
    return dataclasses.replace(
        result, verdict=Verdict.ERROR, network_failure=True, note=_add_note(result, note)
    )


def _broken_by_network(result: CheckResult, evidence: Evidence) -> bool:
    return result.verdict is Verdict.BROKEN and (result.network_failure or evidence.network)


def demote_when_network_unusable(
    result: CheckResult, evidence: Evidence, run: RunEvidence
) -> CheckResult:
    """No link is broken because of our network."""
    if run.usable or not _broken_by_network(result, evidence):
        return result
    return _demoted(result, "not counted as broken: the network was unusable during this run")


def demote_unproven_dns(result: CheckResult, evidence: Evidence, run: RunEvidence) -> CheckResult:
    """A DNS failure is NXDOMAIN only if DNS is shown to work (another name resolved)."""
    if run.dns_proven or not evidence.dns or not _broken_by_network(result, evidence):
        return result
    return _demoted(
        result,
        "not counted as broken: no other name resolved in this run, so a missing "
        "domain cannot be told from a DNS outage",
    )


AFTER_RUN: tuple[RunLink, ...] = (demote_when_network_unusable, demote_unproven_dns)


def judge(checked: Checked, run: RunEvidence) -> CheckResult:
    """Run the `AFTER_RUN` chain on one final check."""
    result = checked.result
    for link in AFTER_RUN:
        result = link(result, checked.evidence, run)
    return result
