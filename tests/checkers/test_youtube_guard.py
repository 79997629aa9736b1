"""yt-dlp never connects where the address guard would not (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.checkers import CHECKERS, CheckContext
from monitor.checkers.youtube import YoutubeChecker
from monitor.config.catalog import EngineSettings, YoutubeSettings
from monitor.domain.models import Kind, Resource, Verdict
from monitor.net.engine import HttpEngine
from monitor.run.pipeline import run_checks
from tests.conftest import LoopbackServer, Reply

FAST = YoutubeSettings(min_interval_ms=0)


def never(url: str, opts: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError(f"yt-dlp was handed {url}")


async def check(url: str, **engine: Any) -> Any:
    resource = Resource(id="v", url=url, kind=Kind.YOUTUBE, section="s", label="l")
    settings = EngineSettings(retries=0, **engine)
    async with HttpEngine(settings) as http:
        ctx = CheckContext(http=http, youtube=FAST)
        return await YoutubeChecker(extract=never).check(resource, ctx)


async def test_kind_youtube_on_another_host_never_reaches_ytdlp(server: LoopbackServer) -> None:
    server.routes["/watch?v=abcdefghijk"] = Reply(200, b"<title>runner secret</title>")
    result = await check(f"http://127.0.0.1:{server.port}/watch?v=abcdefghijk")
    assert result.verdict is Verdict.SKIPPED
    assert "not a YouTube address" in (result.note or "")
    assert server.requests == []


async def test_youtube_name_resolving_to_loopback_is_refused_before_ytdlp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (checker,) = [c for c in CHECKERS if isinstance(c, YoutubeChecker)]
    monkeypatch.setattr(checker, "extract", never)  # nothing may leave the machine

    async def poisoned(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    resource = Resource(
        id="v", url="https://www.youtube.com/watch?v=qYNweeDHiyU", kind=Kind.YOUTUBE,
        section="s", label="l",
    )  # fmt: skip
    async with HttpEngine(EngineSettings(retries=0), resolver=poisoned) as http:
        ctx = CheckContext(http=http, youtube=FAST)
        outcome = await run_checks([resource], ctx)
    (result,) = outcome.results
    assert result.verdict is Verdict.SKIPPED
    assert "www.youtube.com resolves to 127.0.0.1" in (result.note or "")
