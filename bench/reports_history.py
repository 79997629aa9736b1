"""A realistic stored history, built through the store's own API, for the reports benchmark.

One nightly run per day at 03:00 UTC checks every resource (`Store.record_run`, as `monitor
check` does). Resources follow profiles seen on the real roadmap and awesome lists:

| share | profile |
| --- | --- |
| 82 % | healthy: ok every night |
| 5 % | moved: a permanent redirect to a new URL |
| 4 % | went down: ok, then broken from a random day on |
| 3 % | flaky: `error` on about one night in four |
| 3 % | blocked: the site refuses the bot on most nights |
| 2 % | recovered: down for a few days in the middle of the history |
| 1 % | skipped |

Every check carries metadata shaped like the real checkers' (a title, a 600-character
description, channel and duration for videos, stars that grow for repositories, a course
page's instructors and level) and a response time. One run in 60 has no usable network.
Deterministic: the same arguments build the same history.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Run, Verdict
from monitor.store.database import Store

END = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
KINDS = (Kind.WEB, Kind.YOUTUBE, Kind.GITHUB, Kind.COURSE, Kind.WEB)
PROFILES = (
    ("healthy", 82),
    ("moved", 5),
    ("down", 4),
    ("flaky", 3),
    ("blocked", 3),
    ("recovered", 2),
    ("skipped", 1),
)
SECTIONS = 40


@dataclass(frozen=True)
class Plan:
    resource: Resource
    profile: str
    change_day: int  # the day a `down`/`recovered` resource goes down
    seed: int


def resources(count: int) -> list[Plan]:
    rng = random.Random(count)
    weights = [w for _, w in PROFILES]
    names = [p for p, _ in PROFILES]
    plans = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        url = {
            Kind.WEB: f"https://site{i % 97}.example/page/{i}",
            Kind.YOUTUBE: f"https://www.youtube.com/watch?v=v{i:010d}",
            Kind.GITHUB: f"https://github.com/owner{i % 53}/repo-{i}",
            Kind.COURSE: f"https://courses{i % 11}.example/short-courses/c{i}/",
        }[kind]
        resource = Resource(
            id=f"r{i:05d}",
            url=url,
            kind=kind,
            section=f"s{i % SECTIONS:02d}",
            label=f"Resource {i}: a learning link about topic {i % 131}",
        )
        plans.append(Plan(resource, rng.choices(names, weights)[0], rng.randrange(1, 10**6), i))
    return plans


def _meta(plan: Plan, day: int) -> Metadata:
    i = plan.seed
    description = (f"Description of resource {i}. " * 30)[:600]
    kind = plan.resource.kind
    if kind is Kind.YOUTUBE:
        return Metadata(
            title=f"Video {i}: attention is all you need, explained",
            channel=f"Channel {i % 211}",
            duration_s=300 + (i * 37) % 5400,
            description=description,
            view_count=1000 * i + day * 13,
            availability="public",
        )
    if kind is Kind.GITHUB:
        return Metadata(
            title=f"owner{i % 53}/repo-{i}",
            full_name=f"owner{i % 53}/repo-{i}",
            stars=(i * 97) % 60000 + day * (i % 7),
            forks=(i * 13) % 4000,
            archived=False,
            pushed_at=(END - timedelta(days=(i % 30))).isoformat(),
            description=description,
            license="MIT",
        )
    if kind is Kind.COURSE:
        return Metadata(
            title=f"Course {i}: building applications with language models",
            provider="DeepLearning.AI",
            instructors=(f"Instructor {i % 17}", f"Instructor {i % 23}"),
            level="Beginner",
            duration_s=3600 + (i * 61) % 7200,
            description=description,
        )
    return Metadata(title=f"Page {i}: a tutorial", description=description, language="en")


def _result(plan: Plan, day: int, days: int, at: datetime, rng: random.Random) -> CheckResult:
    r = plan.resource
    verdict, status, error, moved_to = Verdict.OK, 200, None, None
    profile = plan.profile
    if profile == "moved":
        verdict, status, moved_to = Verdict.MOVED, 200, r.url.replace("example", "example.org")
    elif (profile == "down" and day >= plan.change_day % days) or (
        profile == "recovered" and 0 < day - (plan.change_day % max(days - 5, 1)) <= 4
    ):
        verdict, status, error = Verdict.BROKEN, 404, "HTTP 404"
    elif profile == "flaky" and rng.random() < 0.25:
        verdict, status, error = Verdict.ERROR, None, "timed out after 20 s"
    elif profile == "blocked" and rng.random() < 0.8:
        verdict, status, error = Verdict.BLOCKED, 403, "bot challenge (cf-mitigated)"
    elif profile == "skipped":
        verdict, status = Verdict.SKIPPED, None
    meta = _meta(plan, day) if verdict in (Verdict.OK, Verdict.MOVED) else Metadata()
    return CheckResult(
        resource_id=r.id,
        url=r.url,
        verdict=verdict,
        checker=r.kind.value,
        status=status,
        final_url=moved_to or (r.url if status else None),
        elapsed_ms=int(rng.lognormvariate(5.5, 0.6)),
        error=error,
        moved_to=moved_to,
        meta=meta,
        checked_at=at + timedelta(seconds=rng.randrange(0, 900)),
    )


def build(
    store: Store,
    count: int,
    days: int,
    *,
    end: datetime = END,
    progress: Callable[[int], None] | None = None,
) -> list[Resource]:
    """Record `days` nightly runs of `count` resources; returns the catalog's resources."""
    plans = resources(count)
    catalog = [p.resource for p in plans]
    for day in range(days):
        started = end - timedelta(days=days - 1 - day)
        rng = random.Random(day * 7919 + count)
        network_ok = day % 60 != 59
        results = [_result(p, day, days, started, rng) for p in plans]
        run = Run(
            id=None,
            started_at=started,
            finished_at=started + timedelta(minutes=20),
            network_ok=network_ok,
            trigger="schedule",
        )
        store.record_run(run, results, catalog)
        if progress:
            progress(day)
    return catalog


def catalog_toml(resources: list[Resource]) -> str:
    """The catalog file of these resources (sections in order)."""
    lines = ['[settings]\nlocale = "pt-BR"\n']
    for s in range(SECTIONS):
        lines.append(f'[[sections]]\nid = "s{s:02d}"\ntitle = "Section {s}"\n')
    for r in resources:
        lines.append(
            f'[[resources]]\nid = "{r.id}"\nurl = "{r.url}"\nlabel = "{r.label}"\n'
            f'section = "{r.section}"\nkind = "{r.kind.value}"\n'
        )
    return "\n".join(lines)
