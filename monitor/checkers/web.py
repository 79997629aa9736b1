"""The web checker: any http(s) page. The fallback for every kind without its own checker."""

from __future__ import annotations

from monitor.checkers.base import CheckContext
from monitor.http import FetchResult
from monitor.models import CheckResult, Kind, Resource, Verdict


def verdict_for(fetch: FetchResult, resource: Resource) -> tuple[Verdict, str | None]:
    if fetch.failure is not None:
        return Verdict.ERROR, fetch.error
    status = fetch.status or 0
    if status in resource.accept or 200 <= status < 300:
        return Verdict.OK, None
    if status in (404, 410):
        return Verdict.BROKEN, f"HTTP {status}"
    if status in (401, 403, 429):
        return Verdict.BLOCKED, f"HTTP {status}"
    return Verdict.ERROR, f"HTTP {status}"


class WebChecker:
    name = "web"

    def handles(self, resource: Resource) -> bool:
        return resource.kind is not Kind.FILE

    async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
        fetch = await ctx.http.fetch(resource.url)
        verdict, error = verdict_for(fetch, resource)
        return CheckResult(
            resource_id=resource.id,
            url=resource.url,
            verdict=verdict,
            checker=self.name,
            status=fetch.status,
            final_url=fetch.final_url,
            redirects=fetch.redirects,
            elapsed_ms=fetch.elapsed_ms,
            error=error,
            network_failure=fetch.failure is not None and fetch.failure.network_level,
        )
