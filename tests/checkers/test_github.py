"""The GitHub checker against a loopback emulation of the REST and GraphQL APIs."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator

import pytest

from monitor.checkers.base import CheckContext
from monitor.checkers.github import GithubChecker, graphql_query, moved_url, parse_repo
from monitor.config.catalog import EngineSettings, GithubSettings
from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Verdict
from monitor.net.engine import HttpEngine
from tests.conftest import FIXTURES, LoopbackServer, Reply, Seen

GH = FIXTURES / "github"
LLM_COURSE = (GH / "repo_llm-course.json").read_bytes()
HANDS_ON = (GH / "repo_hands-on-llms.json").read_bytes()
GRAPHQL = json.loads((GH / "graphql_response.json").read_text())
TOKEN = "ghp_test0000000000000000000000000000000"
JSON = {"Content-Type": "application/json; charset=utf-8"}


def limits(remaining: int = 4999, reset: float | None = None) -> dict[str, str]:
    return {
        **JSON,
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(reset or time.time() + 3600)),
        "x-ratelimit-resource": "core",
    }


class GithubApi:
    """REST `GET /repos/{owner}/{repo}` and `POST /graphql` as GitHub answers them."""

    def __init__(self, server: LoopbackServer) -> None:
        self.server = server
        self.graphql_nodes: dict[str, dict[str, object]] = {}
        server.routes["/graphql"] = self._graphql

    def repo(self, full_name: str, reply: Reply) -> None:
        self.server.routes[f"/repos/{full_name}"] = reply

    def rest_calls(self) -> list[Seen]:
        return [s for s in self.server.requests if s.path.startswith(("/repos/", "/repositories/"))]

    def graphql_calls(self) -> list[Seen]:
        return [s for s in self.server.requests if s.path == "/graphql"]

    def _graphql(self, seen: Seen) -> Reply:
        query = json.loads(seen.body)["query"]
        data: dict[str, object] = {}
        errors = []
        pattern = r'(r\d+): repository\(owner: "([^"]+)", name: "([^"]+)"\)'
        for line_no, line in enumerate(query.splitlines(), start=1):
            m = re.search(pattern, line)
            if not m:
                continue
            alias, owner, name = m.groups()
            node = self.graphql_nodes.get(f"{owner}/{name}".lower())
            data[alias] = node
            if node is None:
                errors.append(
                    {
                        "type": "NOT_FOUND",
                        "path": [alias],
                        "locations": [{"line": line_no, "column": 3}],
                        "message": "Could not resolve to a Repository with the name "
                        f"'{owner}/{name}'.",
                    }
                )
        body: dict[str, object] = {"data": data}
        if errors:
            body["errors"] = errors
        return Reply(200, json.dumps(body).encode(), limits())


@pytest.fixture
def api(server: LoopbackServer) -> GithubApi:
    return GithubApi(server)


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    yield TOKEN


def res(url: str, rid: str = "repo") -> Resource:
    return Resource(id=rid, url=url, kind=Kind.GITHUB, section="s", label="l")


async def check_all(
    checker: GithubChecker,
    resources: list[Resource],
    api_url: str,
    previous: dict[str, CheckResult] | None = None,
    retry_after_cap_s: float = 60,
) -> list[CheckResult]:
    settings = EngineSettings(allow_private=True, retries=0, retry_after_cap_s=retry_after_cap_s)
    async with HttpEngine(settings) as http:
        ctx = CheckContext(
            http=http, github=GithubSettings(api_url=api_url), previous=previous or {}
        )
        await checker.prepare(resources, ctx)
        return [await checker.check(r, ctx) for r in resources]


def test_parse_repo_and_moved_url() -> None:
    ref = parse_repo("https://github.com/iusztinpaul/hands-on-llms?tab=readme-ov-file#hands-on")
    assert ref is not None and ref.full_name == "iusztinpaul/hands-on-llms" and ref.subpath is None
    ref = parse_repo("https://github.com/o/r.git/blob/main/docs/a.md")
    assert ref is not None and (ref.name, ref.subpath) == ("r", "blob/main/docs/a.md")
    assert (
        moved_url("https://github.com/old/r/tree/main/x?tab=1#top", "new/r2")
        == "https://github.com/new/r2/tree/main/x?tab=1#top"
    )


async def test_rest_fields_headers_and_etag(
    api: GithubApi, server: LoopbackServer, token: str
) -> None:
    api.repo("mlabonne/llm-course", Reply(200, LLM_COURSE, limits() | {"ETag": 'W/"5e3f1a"'}))
    [result] = await check_all(
        GithubChecker(), [res("https://github.com/mlabonne/llm-course")], server.url()
    )
    assert result.verdict is Verdict.OK, result
    meta = result.meta
    assert (meta.full_name, meta.stars, meta.forks, meta.open_issues) == (
        "mlabonne/llm-course",
        71842,
        8120,
        83,
    )
    assert (meta.archived, meta.disabled, meta.license, meta.default_branch) == (
        False,
        False,
        "Apache-2.0",
        "main",
    )
    assert meta.pushed_at == "2026-10-02T11:50:40Z" and meta.primary_language is None
    assert meta.topics == ("course", "large-language-models", "llm", "machine-learning", "roadmap")
    assert meta.etag == 'W/"5e3f1a"'
    sent = api.rest_calls()[0].headers
    assert sent["Accept"] == "application/vnd.github+json"
    assert sent["X-GitHub-Api-Version"] == "2022-11-28"
    assert sent["Authorization"] == f"Bearer {TOKEN}"
    assert "If-None-Match" not in sent


async def test_without_token_no_authorization(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("iusztinpaul/hands-on-llms", Reply(200, HANDS_ON, limits(59)))
    url = "https://github.com/iusztinpaul/hands-on-llms?tab=readme-ov-file#hands-on-llms-course-"
    [result] = await check_all(GithubChecker(), [res(url)], server.url())
    assert "Authorization" not in api.rest_calls()[0].headers
    assert result.verdict is Verdict.OK
    assert result.meta.archived is True and "archived" in (result.note or "")


async def test_304_keeps_previous_metadata(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    def conditional(seen: Seen) -> Reply:
        if seen.headers.get("If-None-Match") == 'W/"5e3f1a"':
            return Reply(304, b"", limits(60))
        return Reply(200, LLM_COURSE, limits(59) | {"ETag": 'W/"5e3f1a"'})

    server.routes["/repos/mlabonne/llm-course"] = conditional
    r = res("https://github.com/mlabonne/llm-course")
    [first] = await check_all(GithubChecker(), [r], server.url())
    [second] = await check_all(GithubChecker(), [r], server.url(), previous={r.id: first})
    assert second.verdict is Verdict.OK and second.status == 304
    assert second.note == "not modified (ETag)"
    assert second.meta == first.meta and second.meta.stars == 71842


async def test_renamed_repo_301_is_moved(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    moved = server.url("/repositories/665296150")
    api.repo(
        "oldname/llm-course",
        Reply(301, (GH / "moved_301.json").read_bytes(), {**JSON, "Location": moved}),
    )
    server.routes["/repositories/665296150"] = Reply(200, LLM_COURSE, limits())
    [result] = await check_all(
        GithubChecker(), [res("https://github.com/oldname/llm-course#readme")], server.url()
    )
    assert result.verdict is Verdict.MOVED
    assert result.moved_to == "https://github.com/mlabonne/llm-course#readme"
    assert [h.status for h in result.redirects] == [301]
    assert result.meta.stars == 71842


async def test_case_only_difference_is_ok_other_name_is_moved(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("MLabonne/LLM-Course", Reply(200, LLM_COURSE, limits()))
    api.repo("someone/llm-course", Reply(200, LLM_COURSE, limits()))
    results = await check_all(
        GithubChecker(),
        [
            res("https://github.com/MLabonne/LLM-Course", "a"),
            res("https://github.com/someone/llm-course", "b"),
        ],
        server.url(),
    )
    assert [r.verdict for r in results] == [Verdict.OK, Verdict.MOVED]
    assert results[1].moved_to == "https://github.com/mlabonne/llm-course"


async def test_404_and_451_are_broken(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("ghost/gone", Reply(404, (GH / "not_found_404.json").read_bytes(), limits()))
    api.repo("taken/down", Reply(451, (GH / "dmca_451.json").read_bytes(), limits()))
    gone, down = await check_all(
        GithubChecker(),
        [res("https://github.com/ghost/gone", "a"), res("https://github.com/taken/down", "b")],
        server.url(),
    )
    assert gone.verdict is Verdict.BROKEN and "not found" in (gone.error or "")
    assert down.verdict is Verdict.BROKEN
    assert "dmca" in (down.error or "") and "github/dmca" in (down.error or "")


@pytest.mark.parametrize(
    "headers",
    [limits(0), {**JSON, "retry-after": "60"}],
    ids=["remaining-0", "retry-after"],
)
@pytest.mark.parametrize("status", [403, 429])
async def test_rate_limit_is_blocked_never_broken(
    api: GithubApi, server: LoopbackServer, no_token: None, headers: dict[str, str], status: int
) -> None:
    api.repo(
        "mlabonne/llm-course", Reply(status, (GH / "rate_limited_403.json").read_bytes(), headers)
    )
    r = res("https://github.com/mlabonne/llm-course")
    previous = {
        r.id: CheckResult(
            r.id, r.url, Verdict.OK, meta=Metadata(stars=70000, full_name="mlabonne/llm-course")
        )
    }
    [result] = await check_all(GithubChecker(), [r], server.url(), previous=previous)
    assert result.verdict is Verdict.BLOCKED
    assert result.meta.stars == 70000 and result.partial


async def test_budget_defers_the_rest(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("mlabonne/llm-course", Reply(200, LLM_COURSE, limits(1)))
    for i in range(3):
        api.repo(f"o/r{i}", Reply(200, LLM_COURSE, limits(0)))
    resources = [res("https://github.com/mlabonne/llm-course", "first")]
    resources += [res(f"https://github.com/o/r{i}", f"r{i}") for i in range(3)]
    results = await check_all(GithubChecker(), resources, server.url())
    # One request left after the first answer: one more is spent, the other two deferred.
    assert len(api.rest_calls()) == 2
    assert [r.verdict for r in results[2:]] == [Verdict.BLOCKED, Verdict.BLOCKED]
    assert all((r.note or "").startswith("deferred: rate limit") for r in results[2:])


async def test_budget_waits_for_a_near_reset(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    reset = time.time() + 1.2
    api.repo("mlabonne/llm-course", Reply(200, LLM_COURSE, limits(0, reset)))
    api.repo("o/next", Reply(200, LLM_COURSE, limits(59)))
    resources = [
        res("https://github.com/mlabonne/llm-course", "a"),
        res("https://github.com/o/next", "b"),
    ]
    results = await check_all(GithubChecker(), resources, server.url(), retry_after_cap_s=30)
    assert [r.verdict for r in results] == [Verdict.OK, Verdict.MOVED]
    calls = api.rest_calls()
    # The second request waited for the (whole-second) reset time the server announced.
    assert len(calls) == 2 and time.time() >= int(reset)
    assert calls[1].at - calls[0].at >= 0.2


async def test_token_never_leaves_the_api_host_across_redirects(
    server: LoopbackServer, token: str
) -> None:
    other = LoopbackServer(host="127.0.0.2").start()
    try:
        server.routes["/repos/old/llm-course"] = Reply(
            301,
            (GH / "moved_301.json").read_bytes(),
            {**JSON, "Location": other.url("/repositories/665296150")},
        )
        other.routes["/repositories/665296150"] = Reply(200, LLM_COURSE, limits())
        [result] = await check_all(
            GithubChecker(), [res("https://github.com/old/llm-course")], server.url()
        )
    finally:
        other.stop()
    assert result.verdict is Verdict.MOVED
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert len(other.requests) == 1
    assert all(TOKEN not in value for value in other.requests[0].headers.values())
    assert "Authorization" not in other.requests[0].headers


def _node(full_name: str) -> dict[str, object]:
    node = copy.deepcopy(GRAPHQL["data"]["r0"])
    node["nameWithOwner"] = full_name
    node["url"] = f"https://github.com/{full_name}"
    return node


async def test_graphql_batch_one_request_for_many(
    api: GithubApi, server: LoopbackServer, token: str
) -> None:
    names = [f"owner{i}/repo{i}" for i in range(6)]
    for name in names:
        api.graphql_nodes[name] = _node(name)
    api.graphql_nodes["renamed/repo"] = _node("newowner/repo")  # GraphQL resolves renames
    resources = [res(f"https://github.com/{n}", f"id{i}") for i, n in enumerate(names)]
    resources += [res("https://github.com/ghost-owner/deleted-repo", "gone")]
    resources += [res("https://github.com/renamed/repo", "renamed")]
    checker = GithubChecker()
    results = await check_all(checker, resources, server.url())
    assert len(api.graphql_calls()) == 1 and api.rest_calls() == []
    assert checker.requests == {"rest": 0, "graphql": 1}
    assert api.graphql_calls()[0].headers["Authorization"] == f"Bearer {TOKEN}"
    by_id = {r.resource_id: r for r in results}
    assert all(by_id[f"id{i}"].verdict is Verdict.OK for i in range(6))
    assert by_id["id0"].meta.stars == 71842 and by_id["id0"].meta.open_issues == 61 + 22
    assert by_id["id0"].meta.topics == (
        "course",
        "large-language-models",
        "llm",
        "machine-learning",
        "roadmap",
    )
    assert by_id["gone"].verdict is Verdict.BROKEN and "NOT_FOUND" in (by_id["gone"].error or "")
    assert by_id["renamed"].verdict is Verdict.MOVED
    assert by_id["renamed"].moved_to == "https://github.com/newowner/repo"


async def test_without_token_many_repos_use_rest(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    names = [f"owner{i}/repo{i}" for i in range(8)]
    for name in names:
        body = json.loads(LLM_COURSE)
        body["full_name"] = name
        api.repo(name, Reply(200, json.dumps(body).encode(), limits()))
    checker = GithubChecker()
    results = await check_all(
        checker, [res(f"https://github.com/{n}", n) for n in names], server.url()
    )
    assert all(r.verdict is Verdict.OK for r in results)
    assert checker.requests == {"rest": 8, "graphql": 0}


async def test_graphql_failure_falls_back_to_rest(
    api: GithubApi, server: LoopbackServer, token: str
) -> None:
    server.routes["/graphql"] = Reply(502, b"Bad Gateway")
    names = [f"owner{i}/repo{i}" for i in range(6)]
    for name in names:
        body = json.loads(LLM_COURSE)
        body["full_name"] = name
        api.repo(name, Reply(200, json.dumps(body).encode(), limits()))
    checker = GithubChecker()
    results = await check_all(
        checker, [res(f"https://github.com/{n}", n) for n in names], server.url()
    )
    assert all(r.verdict is Verdict.OK for r in results)
    assert checker.requests == {"rest": 6, "graphql": 1}


def test_graphql_query_shape() -> None:
    query = graphql_query(
        [parse_repo("https://github.com/a/b"), parse_repo('https://github.com/x/y"z')]
    )  # type: ignore[list-item]
    assert 'r0: repository(owner: "a", name: "b")' in query
    assert 'r1: repository(owner: "x", name: "y\\"z")' in query
    assert "stargazerCount" in query and "issues(states: OPEN) { totalCount }" in query


async def test_link_inside_a_repo_checks_the_repo_and_names_the_path(
    api: GithubApi, server: LoopbackServer, no_token: None
) -> None:
    api.repo("mlabonne/llm-course", Reply(200, LLM_COURSE, limits()))
    url = "https://github.com/mlabonne/llm-course/blob/main/README.md#notebooks"
    [result] = await check_all(GithubChecker(), [res(url)], server.url())
    assert [s.path for s in api.rest_calls()] == ["/repos/mlabonne/llm-course"]
    assert result.verdict is Verdict.OK
    assert result.note == "path in repository: blob/main/README.md"
