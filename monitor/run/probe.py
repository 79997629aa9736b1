"""Known-good probes: network evidence that does not depend on how many hosts a run touches.

A run's own results are weak evidence when it touches few hosts: a pull request that adds one
link to a misspelled host fails on every host it tried, which looks exactly like a runner
without network. So when the results alone cannot tell (`RunEvidence` says unusable, or a
"name not known" would be called broken while no other name resolved), a few *known-good*
addresses are asked: configured probes (`[engine] network_probes`), hosts that answered in
the stored history (results reused by `--max-age` among them), and catalog links the run does
not check. Any HTTP answer, whatever its status, proves the network works; a probe reached by
name proves DNS works. A probe that fails proves nothing (known-good links rot too), so
without an answer the run's own evidence stands.

So "network unusable" comes from what the run actually tried plus what it asked on purpose,
never from how many hosts it happened to touch, nor from results it merely reused.

A run in which names did not resolve and no name resolved at all, probes included, is
unusable too, even when links reached by address answered: its "name not known" failures
cannot be told from a DNS outage, so it must neither call them broken nor count them
towards `down` (an unusable run changes no state), and it exits 3.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from monitor.domain.models import CheckResult, Resource, Verdict
from monitor.net.engine import HttpEngine
from monitor.run.evidence import Checked, RunEvidence

__all__ = ["PROBE_DEADLINE_S", "PROBE_HOSTS", "known_good", "probe", "with_known_good"]

# At most this many distinct hosts are asked, all at once; the first answer ends the probe.
PROBE_HOSTS = 3
# The whole probe gives up after this long (a dead network should not cost a minute more).
PROBE_DEADLINE_S = 10.0


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _web(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https") and bool(_host(url))


def known_good(
    configured: Iterable[str],
    previous: Iterable[CheckResult],
    others: Iterable[Resource] = (),
) -> list[str]:
    """Probe candidates, best first: configured probes, then URLs whose newest stored check
    got an HTTP answer (newest first), then catalog links this run does not check."""
    answered = sorted(
        (r for r in previous if r.status is not None and not r.network_failure),
        key=lambda r: r.checked_at,
        reverse=True,
    )
    urls = [*configured, *(r.url for r in answered), *(r.url for r in others if not r.skip)]
    return list(dict.fromkeys(u for u in urls if _web(u)))


async def probe(
    http: HttpEngine, urls: Sequence[str], failed_hosts: Iterable[str]
) -> tuple[tuple[str, ...], str | None]:
    """Ask up to PROBE_HOSTS distinct hosts (not ones that just failed) with a HEAD; returns
    (the URLs asked, the first that got any HTTP answer, or None)."""
    skip = {h.lower() for h in failed_hosts}
    picked: dict[str, str] = {}
    for url in urls:
        host = _host(url)
        if host and host not in skip and host not in picked:
            picked[host] = url
        if len(picked) == PROBE_HOSTS:
            break
    asked = tuple(picked.values())
    if not asked:
        return asked, None

    async def ask(url: str) -> str | None:
        fetched = await http.fetch(url, method="HEAD", want_body=False, follow_redirects=False)
        return url if fetched.failure is None and fetched.status is not None else None

    tasks = [asyncio.create_task(ask(url)) for url in asked]
    try:
        async with asyncio.timeout(PROBE_DEADLINE_S):
            for next_done in asyncio.as_completed(tasks):
                answered = await next_done
                if answered is not None:
                    return asked, answered
    except TimeoutError:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return asked, None


async def with_known_good(
    checked: Sequence[Checked], http: HttpEngine, probes: Sequence[str], trust_dns: bool
) -> tuple[RunEvidence, str]:
    """The run's evidence, completed by asking known-good `probes` when it cannot tell:
    when the run looks unusable, or when a link would be broken for a name that does not
    resolve and no other name resolved yet. Returns the evidence and a note for the run."""
    results = [c.result for c in checked]
    run = RunEvidence.of(results, http.resolved_names, trust_dns)
    dns_at_stake = any(c.evidence.dns and c.result.verdict is Verdict.BROKEN for c in checked)
    if run.usable and (run.dns_proven or not dns_at_stake):
        return run, ""
    failed = {_host(r.url) for r in results if r.network_failure}
    asked, answered = await probe(http, probes, failed)
    dns_proven = RunEvidence.of(results, http.resolved_names, trust_dns).dns_proven
    if (answered is not None or run.usable) and dns_at_stake and not dns_proven:
        note = "network unusable: no name resolved in this run (a DNS outage, or no DNS)"
        if asked:
            note += f", not even a known-good host's ({', '.join(_host(u) for u in asked)})"
        return RunEvidence(False, dns_proven), note
    if answered is not None:
        return RunEvidence(
            True, dns_proven
        ), f"network shown usable by a known-good host: {answered}"
    if run.usable:
        return RunEvidence(True, dns_proven), ""
    note = "network unusable: nearly every host failed at DNS or connect"
    if asked:
        note += f", and no known-good host answered ({', '.join(_host(u) for u in asked)})"
    return RunEvidence(False, dns_proven), note
