"""The YouTube checker through its seam at the yt-dlp call: real yt-dlp exception objects,
info dicts shaped like yt-dlp's, and the oEmbed fallback against a loopback server."""

from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from yt_dlp import YoutubeDL
from yt_dlp.extractor.youtube import YoutubeIE
from yt_dlp.utils import DownloadError, ExtractorError

from monitor.checkers.base import CheckContext
from monitor.checkers.youtube import (
    YoutubeChecker,
    classify,
    normalize_url,
    reason_of,
    ytdlp_extract,
    ytdlp_options,
)
from monitor.config.catalog import EngineSettings, YoutubeSettings
from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Verdict
from monitor.net.engine import HttpEngine
from tests.conftest import FIXTURES, LoopbackServer, Reply

VIDEO = json.loads((FIXTURES / "youtube" / "video.json").read_text())
PLAYLIST = json.loads((FIXTURES / "youtube" / "playlist.json").read_text())
OEMBED = (FIXTURES / "youtube" / "oembed.json").read_bytes()
# The hint yt-dlp appends to every "sign in" reason, taken from yt-dlp itself.
HINT = YoutubeIE()._youtube_login_hint
FAST = YoutubeSettings(concurrency=2, min_interval_ms=0)


class _Quiet:
    def debug(self, msg: str) -> None:
        pass

    warning = info = error = debug


def yt_error(video_id: str, reason: str) -> DownloadError:
    """A DownloadError made by yt-dlp's own reporting path, as extract_info raises it."""
    ydl = YoutubeDL({"quiet": True, "logger": _Quiet()})
    try:
        try:
            raise ExtractorError(reason, expected=True, video_id=video_id, ie="youtube")
        except ExtractorError as exc:
            ydl.report_error(str(exc), exc.format_traceback())
    except DownloadError as err:
        return err
    raise AssertionError("yt-dlp did not raise")


def res(url: str = "https://www.youtube.com/watch?v=qYNweeDHiyU", rid: str = "vid") -> Resource:
    return Resource(id=rid, url=url, kind=Kind.YOUTUBE, section="s", label="l")


async def run(
    checker: YoutubeChecker,
    resource: Resource,
    *,
    previous: dict[str, CheckResult] | None = None,
    settings: YoutubeSettings = FAST,
) -> CheckResult:
    async with HttpEngine(EngineSettings(allow_private=True, retries=0)) as http:
        ctx = CheckContext(http=http, youtube=settings, previous=previous or {})
        return await checker.check(resource, ctx)


def raising(err: BaseException) -> Any:
    def extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
        raise err

    return extract


@pytest.mark.parametrize(
    ("url", "flat"),
    [
        ("https://www.youtube.com/watch?v=qYNweeDHiyU", False),
        ("https://www.youtube.com/watch?v=qYNweeDHiyU&list=PLx", False),
        ("https://www.youtube.com/playlist?list=PLx", True),
        ("https://www.youtube.com/@IBMTechnology", True),
    ],
)
async def test_only_single_videos_are_extracted_fully(url: str, flat: bool) -> None:
    seen: list[dict[str, Any]] = []

    def extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
        seen.append(opts)
        return copy.deepcopy(PLAYLIST if flat else VIDEO)

    await run(YoutubeChecker(extract=extract), res(url))
    assert (seen[0].get("extract_flat") == "in_playlist") is flat
    assert seen[0]["noplaylist"] is not flat


def test_error_objects_are_shaped_like_yt_dlp() -> None:
    err = yt_error("qYNweeDHiyU", "Video unavailable")
    assert str(err) == "ERROR: [youtube] qYNweeDHiyU: Video unavailable"
    assert isinstance(err.exc_info[1], ExtractorError)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.youtube.com/watch?v=iR2O2GPbB0E&t=1s&pp=ygULd2hhdCBpcyBsbG0%3D",
            "https://www.youtube.com/watch?v=iR2O2GPbB0E",
        ),
        (
            "https://youtu.be/iR2O2GPbB0E?si=AbCdEf&t=30",
            "https://www.youtube.com/watch?v=iR2O2GPbB0E",
        ),
        (
            "https://www.youtube.com/watch?v=iR2O2GPbB0E&list=PLx&index=2&si=q",
            "https://www.youtube.com/watch?v=iR2O2GPbB0E&list=PLx",
        ),
        ("https://m.youtube.com/shorts/iR2O2GPbB0E", "https://www.youtube.com/watch?v=iR2O2GPbB0E"),
        (
            "https://www.youtube.com/playlist?list=PLOspHq&si=x",
            "https://www.youtube.com/playlist?list=PLOspHq",
        ),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


REASONS = [
    ("Video unavailable", Verdict.BROKEN, "video unavailable"),
    ("Video unavailable. This video has been removed by the uploader", Verdict.BROKEN, "uploader"),
    (
        "Video unavailable. This video is no longer available because the YouTube account "
        "associated with this video has been terminated.",
        Verdict.BROKEN,
        "terminated",
    ),
    (
        f"Private video. Sign in if you've been granted access to this video. {HINT}",
        Verdict.BROKEN,
        "private",
    ),
    (
        f"Sign in to confirm your age. This video may be inappropriate for some users. {HINT}",
        Verdict.OK,
        "age-restricted",
    ),
    (f"Sign in to confirm you’re not a bot. {HINT}", Verdict.BLOCKED, "bot"),
    (
        "This content isn't available, try again later. The current session has been "
        "rate-limited by YouTube for up to an hour.",
        Verdict.BLOCKED,
        "rate-limited",
    ),
    (
        "All player responses are invalid. Your IP is likely being blocked by Youtube",
        Verdict.BLOCKED,
        "blocking this IP",
    ),
    (
        "Video unavailable. YouTube is requiring a captcha challenge before playback",
        Verdict.BLOCKED,
        "captcha",
    ),
    (
        "Unable to download API page: HTTP Error 429: Too Many Requests",
        Verdict.BLOCKED,
        "429",
    ),
    ("Failed to extract any player response", Verdict.ERROR, "player response"),
]


@pytest.mark.parametrize(("reason", "verdict", "note"), REASONS)
def test_classify_reason_from_real_errors(reason: str, verdict: Verdict, note: str) -> None:
    got_verdict, got_note = classify(reason_of(yt_error("qYNweeDHiyU", reason)))
    assert got_verdict is verdict
    assert note in got_note


def test_reason_never_includes_the_cookie_hint() -> None:
    err = yt_error("qYNweeDHiyU", f"Sign in to confirm you’re not a bot. {HINT}")
    assert reason_of(err) == "Sign in to confirm you’re not a bot"
    # The same, parsed from the message text when exc_info is missing.
    bare = DownloadError(str(err))
    assert reason_of(bare) == "Sign in to confirm you’re not a bot"


async def test_video_metadata() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
        seen.append((url, opts))
        return copy.deepcopy(VIDEO)

    url = "https://www.youtube.com/watch?v=qYNweeDHiyU&t=1s&pp=ygULd2hhdCBpcyBsbG0%3D"
    result = await run(YoutubeChecker(extract=extract), res(url))
    assert result.verdict is Verdict.OK
    assert seen[0][0] == "https://www.youtube.com/watch?v=qYNweeDHiyU"
    assert seen[0][1]["noplaylist"] is True
    assert "extract_flat" not in seen[0][1]
    assert result.meta == Metadata(
        title="AI, Machine Learning, Deep Learning and Generative AI Explained",
        canonical_url="https://www.youtube.com/watch?v=qYNweeDHiyU",
        duration_s=603,
        channel="IBM Technology",
        channel_id="UCKWaEZ-_VweaEx1j62do_vQ",
        video_id="qYNweeDHiyU",
        upload_date="20240408",
        view_count=1432118,
        availability="public",
        live_status="not_live",
        age_limit=0,
    )


async def test_playlist_title_count_and_total_duration() -> None:
    seen: list[dict[str, Any]] = []

    def extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
        seen.append(opts)
        return copy.deepcopy(PLAYLIST)

    url = "https://www.youtube.com/playlist?list=PLOspHqNVtKADfxkuDuHduUkDExBpEt3DF"
    result = await run(YoutubeChecker(extract=extract), res(url))
    assert seen[0]["noplaylist"] is False
    assert seen[0]["extract_flat"] == "in_playlist"
    assert result.verdict is Verdict.OK
    assert result.meta.title == "Generative AI in Action"
    assert result.meta.video_count == 3
    assert result.meta.duration_s == 340 + 333
    assert result.note == "1 of 3 videos without duration"


@pytest.mark.parametrize(
    ("reason", "verdict"),
    [
        ("Video unavailable", Verdict.BROKEN),
        (
            f"Private video. Sign in if you've been granted access to this video. {HINT}",
            Verdict.BROKEN,
        ),
        (
            f"Sign in to confirm your age. This video may be inappropriate for some users. {HINT}",
            Verdict.OK,
        ),
    ],
)
async def test_verdicts_without_fallback(reason: str, verdict: Verdict) -> None:
    previous = {
        "vid": CheckResult("vid", "u", Verdict.OK, meta=Metadata(duration_s=603, age_limit=0))
    }
    checker = YoutubeChecker(
        extract=raising(yt_error("qYNweeDHiyU", reason)), oembed_endpoint="http://0.0.0.0:9/none"
    )
    result = await run(checker, res(), previous=previous)
    assert result.verdict is verdict
    if verdict is Verdict.OK:
        assert result.partial and result.meta.duration_s == 603 and result.meta.age_limit == 18


def test_real_youtubedl_options(monkeypatch: pytest.MonkeyPatch) -> None:
    opts = ytdlp_options(
        FAST, playlist=False, cookies="/secret/cookies.txt", proxy="http://u:p@proxy:3128"
    )
    ydl = YoutubeDL(opts)
    assert ydl.params["skip_download"] is True
    assert ydl.params["quiet"] is True and ydl.params["no_warnings"] is True
    assert ydl.params["socket_timeout"] == 20
    assert ydl.params["noplaylist"] is True
    assert ydl.params["cookiefile"] == "/secret/cookies.txt"
    assert ydl.params["proxy"] == "http://u:p@proxy:3128"
    calls: list[dict[str, Any]] = []

    def fake_extract_info(
        self: YoutubeDL, url: str, download: bool = True, **kw: Any
    ) -> dict[str, Any]:
        calls.append({"url": url, "download": download, "params": self.params})
        return copy.deepcopy(VIDEO)

    monkeypatch.setattr(YoutubeDL, "extract_info", fake_extract_info)
    info = ytdlp_extract(
        "https://www.youtube.com/watch?v=qYNweeDHiyU",
        ytdlp_options(FAST, playlist=True, cookies=None, proxy=None),
    )
    assert calls[0]["download"] is False
    assert calls[0]["params"]["extract_flat"] == "in_playlist"
    assert "cookiefile" not in calls[0]["params"] and "proxy" not in calls[0]["params"]
    assert info["id"] == "qYNweeDHiyU"


async def test_env_cookies_and_proxy_used_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = "http://user:s3cret@10.9.8.7:3128"
    monkeypatch.setenv("MONITOR_YOUTUBE_COOKIES", "/run/secrets/yt-cookies.txt")
    monkeypatch.setenv("MONITOR_YOUTUBE_PROXY", proxy)
    seen: list[dict[str, Any]] = []

    def extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
        seen.append(opts)
        raise yt_error("qYNweeDHiyU", f"Unable to connect to proxy {proxy}: connection refused")

    checker = YoutubeChecker(extract=extract, oembed_endpoint="http://127.0.0.1:9/oembed")
    result = await run(checker, res())
    assert seen[0]["proxy"] == proxy and seen[0]["cookiefile"] == "/run/secrets/yt-cookies.txt"
    assert result.verdict is Verdict.ERROR
    assert "s3cret" not in (result.error or "") and "[redacted]" in (result.error or "")


async def test_pool_is_bounded_and_starts_are_paced() -> None:
    lock = threading.Lock()
    starts: list[float] = []
    active = [0, 0]

    def extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
        with lock:
            starts.append(time.monotonic())
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return copy.deepcopy(VIDEO)

    import asyncio

    checker = YoutubeChecker(extract=extract)
    settings = YoutubeSettings(concurrency=2, min_interval_ms=80)
    async with HttpEngine(EngineSettings(allow_private=True)) as http:
        ctx = CheckContext(http=http, youtube=settings)
        results = await asyncio.gather(*(checker.check(res(rid=f"v{i}"), ctx) for i in range(5)))
    assert all(r.verdict is Verdict.OK for r in results)
    assert active[1] <= 2
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    # Starts are granted 80 ms apart; a thread the OS wakes late on a loaded machine can
    # shorten the gap it leaves to the next one, never the pacing as a whole. Unpaced, two
    # pool threads start together (a gap near 0).
    assert min(gaps) >= 0.05
    assert sum(gaps) / len(gaps) >= 0.07


BOT = f"Sign in to confirm you’re not a bot. {HINT}"


def _oembed_route(server: LoopbackServer, reply: Reply) -> list[str]:
    queries: list[str] = []

    def handler(seen: Any) -> Reply:
        queries.append(seen.path)
        return reply

    server.routes["/oembed"] = handler
    return queries


async def test_oembed_fallback_ok_keeps_last_duration(server: LoopbackServer) -> None:
    queries = _oembed_route(server, Reply(200, OEMBED, {"Content-Type": "application/json"}))
    previous = {
        "vid": CheckResult("vid", "u", Verdict.OK, meta=Metadata(duration_s=603, title="old"))
    }
    checker = YoutubeChecker(
        extract=raising(yt_error("qYNweeDHiyU", BOT)), oembed_endpoint=server.url("/oembed")
    )
    url = "https://www.youtube.com/watch?v=qYNweeDHiyU&t=1s"
    result = await run(checker, res(url), previous=previous)
    query = parse_qs(urlsplit(queries[0]).query)
    assert query == {"url": ["https://www.youtube.com/watch?v=qYNweeDHiyU"], "format": ["json"]}
    assert result.verdict is Verdict.OK and result.partial
    assert result.meta.title == "AI, Machine Learning, Deep Learning and Generative AI Explained"
    assert result.meta.channel == "IBM Technology"
    assert result.meta.duration_s == 603
    assert "not a bot" in (result.note or "")


@pytest.mark.parametrize(
    ("status", "verdict", "word"),
    [
        (404, Verdict.BROKEN, "deleted"),
        (403, Verdict.BROKEN, "private"),
        (401, Verdict.OK, "embedding disabled"),
        (400, Verdict.BROKEN, "valid video id"),
        (429, Verdict.BLOCKED, "oEmbed fallback failed"),
        (500, Verdict.BLOCKED, "oEmbed fallback failed"),
    ],
)
async def test_oembed_statuses(
    server: LoopbackServer, status: int, verdict: Verdict, word: str
) -> None:
    _oembed_route(server, Reply(status, b"Not Found" if status == 404 else b"Bad Request"))
    previous = {
        "vid": CheckResult("vid", "u", Verdict.OK, meta=Metadata(duration_s=603, title="Kept"))
    }
    checker = YoutubeChecker(
        extract=raising(yt_error("qYNweeDHiyU", BOT)), oembed_endpoint=server.url("/oembed")
    )
    result = await run(checker, res(), previous=previous)
    assert result.verdict is verdict
    assert word in (result.note or result.error or "")
    if verdict is not Verdict.BROKEN:
        assert result.meta.title == "Kept" and result.meta.duration_s == 603


async def test_yt_dlp_error_falls_back_and_reports_network_failure() -> None:
    err = yt_error(
        "qYNweeDHiyU", "Unable to download webpage: [Errno -3] Temporary failure in name resolution"
    )
    # Nothing listens on port 9: the fallback fails at connect level, which is network evidence.
    checker = YoutubeChecker(extract=raising(err), oembed_endpoint="http://127.0.0.1:9/oembed")
    result = await run(checker, res())
    assert result.verdict is Verdict.ERROR
    assert result.network_failure


async def test_catalog_cookies_file_is_relative_to_the_catalog(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MONITOR_YOUTUBE_COOKIES", raising=False)
    monkeypatch.delenv("MONITOR_YOUTUBE_PROXY", raising=False)
    seen: list[dict[str, Any]] = []

    def extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
        seen.append(opts)
        return copy.deepcopy(VIDEO)

    settings = YoutubeSettings(cookies_file="secrets/yt.txt", min_interval_ms=0)
    async with HttpEngine(EngineSettings(allow_private=True)) as http:
        ctx = CheckContext(http=http, youtube=settings, base_dir=tmp_path)
        await YoutubeChecker(extract=extract).check(res(), ctx)
    assert seen[0]["cookiefile"] == str(tmp_path / "secrets" / "yt.txt")
    assert "proxy" not in seen[0]


async def test_real_yt_dlp_through_a_dead_loopback_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real extraction path end to end, with every request sent to a closed local port
    (nothing leaves the machine): a connection failure is an error, and the proxy's
    credentials never show."""
    monkeypatch.delenv("MONITOR_YOUTUBE_COOKIES", raising=False)
    monkeypatch.setenv("MONITOR_YOUTUBE_PROXY", "http://user:s3cret@127.0.0.1:9")
    checker = YoutubeChecker(oembed_endpoint="http://127.0.0.1:9/oembed")
    result = await run(checker, res())
    assert result.verdict is Verdict.ERROR
    assert "Connection refused" in (result.error or "")
    assert "s3cret" not in (result.error or "") + (result.note or "")


# ------------------------------------------------------------------------------ yt-dlp's own path


class _ShapedYoutubeIE(YoutubeIE):
    """yt-dlp's own YoutubeIE whose `_real_extract` ends as the real one does for a given
    player answer: the playability reason goes through `raise_no_formats`, then the info dict
    goes through YoutubeDL's real processing (format selection, the live title)."""

    answer: tuple[dict[str, Any], str | None] = ({}, None)

    def _real_extract(self, url: str) -> dict[str, Any]:
        info, reason = self.answer
        if reason:
            self.raise_no_formats(reason, expected=True, video_id=info.get("id"))
        return copy.deepcopy(info)


def youtube_answers(info: dict[str, Any], reason: str | None = None) -> Any:
    def extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
        with YoutubeDL(opts) as ydl:
            ie = _ShapedYoutubeIE(ydl)
            ie.answer = (info, reason)
            ydl.add_info_extractor(ie)
            result = ydl.extract_info(url, download=False, ie_key=ie.ie_key())
            sanitized: dict[str, Any] = ydl.sanitize_info(result)
            return sanitized

    return extract


def test_storyboards_only_fail_yt_dlp_format_selection() -> None:
    """The fixture is what YouTube often hands a healthy video: storyboards only. yt-dlp's
    format selection refuses it; this is the input the checker must survive."""
    opts = {"quiet": True, "logger": _Quiet(), "skip_download": True}
    with pytest.raises(DownloadError, match="Requested format is not available"):
        youtube_answers(VIDEO)("https://www.youtube.com/watch?v=qYNweeDHiyU", opts)


async def test_storyboards_only_video_is_ok() -> None:
    result = await run(YoutubeChecker(extract=youtube_answers(VIDEO)), res())
    assert result.verdict is Verdict.OK
    assert result.error is None and result.note is None
    assert result.meta.title == "AI, Machine Learning, Deep Learning and Generative AI Explained"
    assert result.meta.duration_s == 603


async def test_live_stream_is_ok_with_its_clean_title() -> None:
    live = {**VIDEO, "is_live": True, "live_status": "is_live", "duration": None}
    result = await run(YoutubeChecker(extract=youtube_answers(live)), res())
    assert result.verdict is Verdict.OK
    assert result.note == "live now"
    # yt-dlp's `title` has the check time appended ("... 2026-11-29 08:30")
    assert result.meta.title == "AI, Machine Learning, Deep Learning and Generative AI Explained"
    assert result.meta.live_status == "is_live"


async def test_members_only_reason_as_a_warning_is_ok() -> None:
    reason = "Join this channel to get access to members-only content like this video"
    extract = youtube_answers({**VIDEO, "availability": "subscriber_only"}, reason)
    result = await run(YoutubeChecker(extract=extract), res())
    assert result.verdict is Verdict.OK
    assert result.note == "members-only video"
    assert result.meta.title == VIDEO["title"]


async def test_private_video_reason_as_a_warning_is_broken() -> None:
    gone = {"id": "qYNweeDHiyU", "title": "YouTube", "formats": []}
    reason = f"Private video. Sign in if you've been granted access to this video. {HINT}"
    checker = YoutubeChecker(
        extract=youtube_answers(gone, reason), oembed_endpoint="http://127.0.0.1:9/none"
    )
    result = await run(checker, res())
    assert result.verdict is Verdict.BROKEN
    assert result.error == (
        "private video: Private video. Sign in if you've been granted access to this video"
    )


UNAVAILABLE = "Video unavailable. This content isn't available."


@pytest.mark.parametrize("as_exception", [False, True], ids=["warning", "exception"])
async def test_this_content_isnt_available_asks_oembed(
    server: LoopbackServer, as_exception: bool
) -> None:
    server.routes["/oembed"] = Reply(200, OEMBED, {"Content-Type": "application/json"})
    gone = {"id": "qYNweeDHiyU", "title": "YouTube", "formats": []}
    extract = (
        raising(yt_error("qYNweeDHiyU", UNAVAILABLE))
        if as_exception
        else youtube_answers(gone, UNAVAILABLE)
    )
    checker = YoutubeChecker(extract=extract, oembed_endpoint=server.url("/oembed"))
    result = await run(checker, res())
    assert [r.path.split("?")[0] for r in server.requests] == ["/oembed"]
    assert result.verdict is Verdict.OK
    assert result.partial
    assert result.note is not None
    assert result.note.startswith(
        "yt-dlp: YouTube: this content isn't available; title from oEmbed"
    )


async def test_this_content_isnt_available_and_oembed_404_is_broken(
    server: LoopbackServer,
) -> None:
    server.routes["/oembed"] = Reply(404, b"Not Found", {"Content-Type": "text/html"})
    gone = {"id": "qYNweeDHiyU", "title": "YouTube", "formats": []}
    checker = YoutubeChecker(
        extract=youtube_answers(gone, UNAVAILABLE), oembed_endpoint=server.url("/oembed")
    )
    result = await run(checker, res())
    assert result.verdict is Verdict.BROKEN
    assert result.error is not None and result.error.startswith("deleted (oEmbed 404)")


@pytest.mark.parametrize(
    "reason",
    [
        "This video is not playable on this device today",  # a reason YouTube may invent
        "Something went wrong. Please try again",
    ],
)
async def test_unknown_reason_is_never_broken(reason: str) -> None:
    gone = {"id": "qYNweeDHiyU", "title": "YouTube", "formats": []}
    for extract in (youtube_answers(gone, reason), raising(yt_error("qYNweeDHiyU", reason))):
        checker = YoutubeChecker(extract=extract, oembed_endpoint="http://127.0.0.1:9/none")
        result = await run(checker, res())
        assert result.verdict is Verdict.ERROR
        assert result.error is not None and reason in result.error


def test_every_reason_the_installed_extractor_raises_is_in_the_table() -> None:
    """Read yt-dlp's YouTube extractors as installed: every literal error message must have
    an entry in REASONS (a new yt-dlp with a new reason fails here, not in the nightly)."""
    import re

    import yt_dlp.extractor.youtube as package

    from monitor.checkers.youtube import lookup

    raising_call = re.compile(
        r"(?:ExtractorError|raise_no_formats|raise_login_required|raise_geo_restricted"
        r"|error_msg\s*=|err_note\s*=|msg\s*=)\(?\s*f?(['\"])(.+?)\1"
    )
    # Not reasons themselves: "YouTube said: X" relays an alert (X is looked up); "{msg}. ..."
    # continues a message looked up on its first part; the DRM warning names a client.
    relays = ("YouTube said: ", "{msg}", "Some {client_name}")
    found = 0
    for source in sorted(Path(package.__file__).parent.glob("*.py")):
        for m in raising_call.finditer(source.read_text()):
            text = m.group(2)
            if text.startswith(relays):
                continue
            found += 1
            literal = text.split("{", 1)[0]
            assert lookup(literal) is not None, f"{source.name}: {text!r} is not in REASONS"
    assert found >= 20  # the scan itself still finds yt-dlp's messages


def test_javascript_runtime_and_challenge_solver_ship_with_the_package() -> None:
    """YouTube's players need a JavaScript runtime and yt-dlp's EJS solver scripts; both come
    from PyPI (`deno`, `yt-dlp-ejs`) so a fresh machine and the nightly extract completely."""
    from yt_dlp.dependencies import yt_dlp_ejs

    opts = ytdlp_options(FAST, playlist=False, cookies=None, proxy=None)
    with YoutubeDL(opts) as ydl:
        deno = ydl._js_runtimes["deno"]
        info = deno.info
    assert info is not None and info.supported, "yt-dlp found no usable deno"
    assert yt_dlp_ejs is not None
