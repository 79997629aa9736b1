"""The YouTube checker: yt-dlp as a library for the truth, oEmbed when yt-dlp is blocked.

YouTube answers HTTP 200 for deleted and private videos, so a status code says nothing; the
reason yt-dlp relays from the player ("Private video", "Video unavailable", ...) does.
yt-dlp is blocking and not documented as thread-safe: each extraction runs in a small bounded
thread pool with its own `YoutubeDL` instance, and starts are paced (YouTube blocks fast
clients, and CI runners on datacenter IPs are flagged first).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.checkers.base import CheckContext
from monitor.checkers.common import env_first, previous_meta, redact
from monitor.config.catalog import YOUTUBE_HOSTS, YoutubeSettings
from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Verdict
from monitor.net import sockets
from monitor.net.guard import AddressPolicy

# Environment overrides for CI, where the catalog cannot hold secrets (README).
ENV_COOKIES = "MONITOR_YOUTUBE_COOKIES"
ENV_PROXY = "MONITOR_YOUTUBE_PROXY"
OEMBED_ENDPOINT = "https://www.youtube.com/oembed"
SOCKET_TIMEOUT_S = 20

# Query parameters that identify what a link shows; every other one (t=1s, pp=..., si=...,
# feature=...) is tracking or a start offset that must not change what we check.
KEEP_PARAMS = ("v", "list")

# Every reason yt-dlp's YouTube extractors (yt_dlp/extractor/youtube/, 2026.10.26) raise or
# relay, matched case-insensitively on the reason itself (after the cookie hint is stripped);
# first match wins, so the specific comes before the general. Verdicts:
#   BROKEN  proof the link is dead for every reader (deleted, private, a malformed link);
#   OK      the video exists, readers may need to sign in or pay;
#   BLOCKED what a throttled, bot-flagged or geo-blocked client sees: oEmbed decides;
#   ERROR   yt-dlp or YouTube failed: oEmbed decides;
#   None    says nothing about the video (a warning yt-dlp prints on a playable video).
# A reason that is not in this table is ERROR (cross-checked by oEmbed), never BROKEN.
REASONS: tuple[tuple[str, Verdict | None, str], ...] = (
    # -- what a throttled or flagged client sees ------------------------------------------
    # YouTube's bot wall for datacenter IPs (curly apostrophe as YouTube writes it).
    ("sign in to confirm you’re not a bot", Verdict.BLOCKED, "YouTube asked: not a bot?"),
    ("sign in to confirm you're not a bot", Verdict.BLOCKED, "YouTube asked: not a bot?"),
    # "This content isn't available, try again later": session rate limit, lifted within the
    # hour (yt-dlp adds "has been rate-limited by YouTube for up to an hour").
    ("isn't available, try again later", Verdict.BLOCKED, "rate-limited by YouTube"),
    ("isn’t available, try again later", Verdict.BLOCKED, "rate-limited by YouTube"),
    ("rate-limited by youtube", Verdict.BLOCKED, "rate-limited by YouTube"),
    # "Video unavailable. This content isn't available.": also what a throttled client is
    # told about a healthy video, so not proof of deletion.
    ("this content isn't available", Verdict.BLOCKED, "YouTube: this content isn't available"),
    ("this content isn’t available", Verdict.BLOCKED, "YouTube: this content isn't available"),
    # _video.py: every player response was for another video (YouTube serving a decoy).
    ("your ip is likely being blocked", Verdict.BLOCKED, "YouTube is blocking this IP"),
    # _video.py: playerCaptchaViewModel ("YouTube is requiring a captcha challenge").
    ("captcha", Verdict.BLOCKED, "YouTube demanded a captcha"),
    ("http error 429", Verdict.BLOCKED, "HTTP 429 Too Many Requests"),
    ("too many requests", Verdict.BLOCKED, "HTTP 429 Too Many Requests"),
    ("http error 403", Verdict.BLOCKED, "HTTP 403 from YouTube"),
    # Geo restriction applies to where the check ran, not to readers elsewhere
    # (raise_geo_restricted's default text, and YouTube's subreason).
    ("not available from your location", Verdict.BLOCKED, "geo-restricted where the check ran"),
    ("available in your country", Verdict.BLOCKED, "geo-restricted where the check ran"),
    ("geo restriction", Verdict.BLOCKED, "geo-restricted where the check ran"),
    # _base.py _check_login_required, common.py raise_login_required: our client has no
    # account; readers with one may see the video.
    ("login details are needed", Verdict.BLOCKED, "YouTube wants a signed-in client"),
    ("only available for registered users", Verdict.BLOCKED, "sign-in required"),
    ("login with oauth is no longer supported", Verdict.ERROR, "bad yt-dlp login options"),
    # _tab.py: an authenticated client whose ytcfg did not load.
    ("playlists that require authentication", Verdict.BLOCKED, "playlist needs an account"),
    # -- the video exists; some readers must sign in, join or pay -------------------------
    ("sign in to confirm your age", Verdict.OK, "age-restricted: sign-in required to watch"),
    ("inappropriate for some users", Verdict.OK, "age-restricted: sign-in required to watch"),
    ("age-restricted", Verdict.OK, "age-restricted: sign-in required to watch"),
    ("members-only", Verdict.OK, "members-only video"),
    ("available to this channel's members", Verdict.OK, "members-only video"),
    ("join this channel", Verdict.OK, "members-only video"),
    ("requires payment", Verdict.OK, "paid video"),
    ("youtube premium", Verdict.OK, "YouTube Premium only"),
    # An upcoming live stream or premiere: the page exists, the video starts later.
    ("this live event will begin", Verdict.OK, "upcoming live stream"),
    ("premieres in", Verdict.OK, "upcoming premiere"),
    # common.py report_drm: playable in a browser, not by yt-dlp.
    ("drm protected", Verdict.OK, "DRM-protected video"),
    # _tab.py UserNotLive: a channel's /live page while it is not streaming.
    ("not currently live", Verdict.OK, "channel not live right now"),
    # -- proof the link is dead ------------------------------------------------------------
    ("private video", Verdict.BROKEN, "private video"),
    ("this video is private", Verdict.BROKEN, "private video"),
    ("has been terminated", Verdict.BROKEN, "removed: the uploader's account was terminated"),
    ("removed by the uploader", Verdict.BROKEN, "removed by the uploader"),
    ("copyright claim", Verdict.BROKEN, "removed after a copyright claim"),
    ("violating youtube", Verdict.BROKEN, "removed for violating YouTube's rules"),
    ("has been removed", Verdict.BROKEN, "removed by YouTube"),
    ("no longer available", Verdict.BROKEN, "video no longer available"),
    # _tab.py: the channel/playlist page redirected to the home page; YouTube's alert.
    ("channel/playlist does not exist", Verdict.BROKEN, "the channel or playlist does not exist"),
    ("the playlist does not exist", Verdict.BROKEN, "the playlist does not exist"),
    ("this playlist is private", Verdict.BROKEN, "private playlist"),
    ("this channel does not have a", Verdict.BROKEN, "the channel has no such tab"),
    # _mistakes.py: a link with a truncated id, or a watch URL without any id.
    ("incomplete youtube id", Verdict.BROKEN, "not a valid video id"),
    ("a video url was given without video id", Verdict.BROKEN, "a watch URL without a video id"),
    ("did you forget to quote the url", Verdict.BROKEN, "a watch URL without a video id"),
    # YouTube's own text for a deleted video, when it adds nothing ("This content isn't
    # available" is matched above).
    ("video unavailable", Verdict.BROKEN, "video unavailable"),
    # -- yt-dlp or YouTube failed: oEmbed decides ------------------------------------------
    ("failed to resolve url", Verdict.ERROR, "YouTube could not resolve the URL"),
    ("failed to extract any player response", Verdict.ERROR, "no player response"),
    ("incomplete data received", Verdict.ERROR, "YouTube sent incomplete data"),
    ("incomplete yt initial data", Verdict.ERROR, "YouTube sent incomplete data"),
    # _video.py extract_id: a URL yt-dlp cannot take an id from (it called us with it).
    ("invalid url", Verdict.ERROR, "yt-dlp could not read the URL"),
    ("cannot identify player", Verdict.ERROR, "yt-dlp could not read YouTube's player"),
    ("signature", Verdict.ERROR, "yt-dlp could not solve YouTube's signature"),
    ("no player clients have been requested", Verdict.ERROR, "bad yt-dlp client options"),
    ("unsupported language code", Verdict.ERROR, "bad yt-dlp language option"),
    ("unable to recognize tab page", Verdict.ERROR, "yt-dlp could not read the channel page"),
    ("unable to find selected tab", Verdict.ERROR, "yt-dlp could not read the channel page"),
    ("failed to resolve album", Verdict.ERROR, "yt-dlp could not read the album"),
    ("unable to find video id", Verdict.ERROR, "yt-dlp could not read the clip"),
    ("invalid cookie consent", Verdict.ERROR, "YouTube's consent page"),
    ("unable to download", Verdict.ERROR, "network error talking to YouTube"),
    # -- warnings printed on playable videos: no verdict -----------------------------------
    # Format selection found only storyboards: we want metadata, not a download.
    ("requested format is not available", None, "no downloadable format"),
    ("only images are available", None, "no downloadable format"),
    ("formats may be missing", None, "some formats missing"),
    ("formats have been skipped", None, "some formats missing"),
    ("skipping player responses", None, "some player responses skipped"),
)  # fmt: skip

# yt-dlp appends a cookie hint to every "sign in" reason, and a bug-report plea to
# unexpected errors; neither is part of what YouTube said.
_HINT = re.compile(r"\.?\s*Use --(?:cookies|username)\b.*$", re.DOTALL)
_BUG_PLEA = re.compile(r";\s*please report this issue on .*$", re.DOTALL)
_PREFIX = re.compile(r"^(?:ERROR:\s*)?(?:\[[\w:.-]+\]\s*)?(?:[\w-]+:\s)?")

# oEmbed answers when the player is blocked: status -> (verdict, note).
OEMBED_STATUS: dict[int, tuple[Verdict, str]] = {
    404: (Verdict.BROKEN, "deleted (oEmbed 404)"),
    403: (Verdict.BROKEN, "private (oEmbed 403)"),
    401: (Verdict.OK, "embedding disabled (oEmbed 401)"),
    400: (Verdict.BROKEN, "not a valid video id (oEmbed 400)"),
}

Extract = Callable[[str, dict[str, Any]], dict[str, Any]]


class _Recorder:
    """yt-dlp prints errors to stderr even when quiet; we report them as results instead.

    Warnings are kept: with `ignore_no_formats_error` YouTube's playability reason ("Private
    video", "Video unavailable") arrives as a warning, not an exception.
    """

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def debug(self, msg: str) -> None:
        pass

    info = error = debug

    def warning(self, msg: str) -> None:
        self.warnings.append(msg)


def ytdlp_extract(url: str, opts: dict[str, Any]) -> dict[str, Any]:
    """The real yt-dlp call: a fresh `YoutubeDL` per extraction, never a download."""
    from yt_dlp import YoutubeDL  # ~0.3 s to import: only when a video is checked

    with YoutubeDL(opts) as ydl:
        # in a guarded thread, only handlers whose sockets pass the address guard
        sockets.keep_guarded_handlers(ydl._request_director.handlers)
        info = ydl.extract_info(url, download=False)
        sanitized: dict[str, Any] = ydl.sanitize_info(info)
        return sanitized


def normalize_url(url: str) -> str:
    """The canonical watch/playlist URL: `t=1s`, `pp=...`, `si=...` dropped; `v`, `list` kept."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in KEEP_PARAMS]
    path = parts.path
    if host == "youtu.be" and path.strip("/"):
        query = [("v", path.strip("/").split("/")[0]), *[(k, v) for k, v in query if k != "v"]]
        path = "/watch"
    elif m := re.match(r"^/(?:shorts|live|embed)/([\w-]{6,})", path):
        query = [("v", m.group(1)), *[(k, v) for k, v in query if k != "v"]]
        path = "/watch"
    if host in ("youtu.be", "youtube.com", "m.youtube.com"):
        host = "www.youtube.com"
    return urlunsplit(("https", host, path, urlencode(query), ""))


def is_playlist(url: str) -> bool:
    """Anything but a single video (playlist, channel, handle page) is extracted flat.

    A full extraction of a channel page would fetch every one of its videos.
    """
    return "v" not in dict(parse_qsl(urlsplit(url).query))


def ytdlp_options(
    settings: YoutubeSettings, *, playlist: bool, cookies: str | None, proxy: str | None
) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "skip_download": True,
        "socket_timeout": SOCKET_TIMEOUT_S,
        "noplaylist": not playlist,
        "logger": _Recorder(),
        # Metadata, not a download: YouTube often offers a healthy video with storyboard
        # images only, and format selection would fail with "Requested format is not
        # available". The playability reason becomes a warning; `judge_info` reads it.
        "ignore_no_formats_error": True,
    }
    if playlist:
        # Entries as listed on the playlist page (with their durations), not one
        # extraction per video: one request instead of hundreds.
        opts["extract_flat"] = "in_playlist"
    if cookies:
        opts["cookiefile"] = cookies
    if proxy:
        opts["proxy"] = proxy
    return opts


def reason_of(exc: BaseException) -> str:
    """What YouTube said, without yt-dlp's prefix, cookie hint or bug-report plea."""
    from yt_dlp.utils import ExtractorError

    inner = getattr(exc, "exc_info", None)
    original = inner[1] if isinstance(inner, tuple) and len(inner) > 1 else None
    if isinstance(original, ExtractorError):
        text = original.orig_msg
        if original.cause is not None:
            text += f" (caused by {original.cause!r})"
    else:
        text = str(exc)
    return clean_reason(text)


def clean_reason(text: str) -> str:
    """A reason without yt-dlp's "ERROR: [youtube] ID: " prefix, cookie hint or bug plea."""
    text = _PREFIX.sub("", text, count=1)
    text = _BUG_PLEA.sub("", text)
    return _HINT.sub("", text).strip()


def lookup(reason: str) -> tuple[Verdict | None, str] | None:
    """The table's entry for a reason, or None when the table does not know it."""
    lowered = reason.lower()
    for needle, verdict, note in REASONS:
        if needle in lowered:
            return verdict, note
    return None


def classify(reason: str) -> tuple[Verdict, str]:
    """The verdict of a reason yt-dlp raised; unknown ones (and warnings) are ERROR."""
    entry = lookup(reason)
    if entry is None or entry[0] is None:
        return Verdict.ERROR, reason or "yt-dlp failed without a reason"
    return entry[0], entry[1]


# What `availability` and `live_status` say about a video yt-dlp read (None: nothing to add).
AVAILABILITY_NOTES: dict[str, tuple[Verdict, str | None]] = {
    "public": (Verdict.OK, None),
    "unlisted": (Verdict.OK, "unlisted"),
    "needs_auth": (Verdict.OK, "age-restricted: sign-in required to watch"),
    "premium_only": (Verdict.OK, "YouTube Premium only"),
    "subscriber_only": (Verdict.OK, "members-only video"),
    # readers cannot watch it; yt-dlp saw it only through the owner's cookies
    "private": (Verdict.BROKEN, "private video"),
}
LIVE_NOTES: dict[str, str | None] = {
    "not_live": None,
    "was_live": None,
    "is_live": "live now",
    "is_upcoming": "upcoming live stream or premiere",
    "post_live": "live stream just ended",
}


def judge_info(info: dict[str, Any], warnings: list[str]) -> tuple[Verdict, str | None, str]:
    """(verdict, note, reason) of an extraction that returned (ignore_no_formats_error turns
    YouTube's playability reason into a warning): the reason first, then availability."""
    reasons = [clean_reason(w) for w in warnings]
    for reason in reasons:
        entry = lookup(reason)
        if entry is not None and entry[0] is not None:
            return entry[0], entry[1], reason
    if not info.get("formats") and info.get("_type") != "playlist":
        unknown = next((r for r in reasons if lookup(r) is None), None)
        if unknown is not None:  # no format at all and a reason we do not know
            return Verdict.ERROR, unknown, unknown
    availability = _str(info.get("availability"))
    verdict, note = AVAILABILITY_NOTES.get(availability or "public", (Verdict.OK, None))
    live = LIVE_NOTES.get(_str(info.get("live_status")) or "not_live")
    notes = "; ".join(n for n in (note, live) if n) or None
    return verdict, notes, note or ""


def metadata_from_info(info: dict[str, Any]) -> tuple[Metadata, str | None]:
    """Fields readers want; for a playlist, its title, video count and total duration."""
    channel = _str(info.get("channel")) or _str(info.get("uploader"))
    common: dict[str, Any] = {
        # yt-dlp appends the check time to a live stream's `title`; `fulltitle` is YouTube's
        "title": _str(info.get("fulltitle")) or _str(info.get("title")),
        "channel": channel,
        "channel_id": _str(info.get("channel_id")),
        "canonical_url": _str(info.get("webpage_url")),
        "availability": _str(info.get("availability")),
        "view_count": _int(info.get("view_count")),
    }
    if info.get("_type") == "playlist":
        entries = [e for e in info.get("entries") or [] if isinstance(e, dict)]
        durations = [d for e in entries if (d := _int(e.get("duration"))) is not None]
        count = _int(info.get("playlist_count")) or len(entries)
        note = None
        if len(durations) < len(entries):
            note = f"{len(entries) - len(durations)} of {len(entries)} videos without duration"
        meta = Metadata(**common, video_count=count, duration_s=sum(durations) or None)
        return meta, note
    meta = Metadata(
        **common,
        video_id=_str(info.get("id")),
        duration_s=_int(info.get("duration")),
        upload_date=_str(info.get("upload_date")),
        live_status=_str(info.get("live_status")),
        age_limit=_int(info.get("age_limit")),
    )
    return meta, None


def _proxy_endpoint(proxy: str | None) -> frozenset[tuple[str, int]]:
    """The configured proxy's (host, port): connected to as is, it is the operator's choice."""
    if not proxy:
        return frozenset()
    try:
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        port = parts.port or {"https": 443, "socks5": 1080, "socks5h": 1080}.get(parts.scheme, 80)
    except ValueError:
        return frozenset()
    return frozenset({((parts.hostname or "").lower(), port)})


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


class _Pacer:
    """Spaces extraction starts by `interval_s`, across the pool's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def wait_turn(self, interval_s: float) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + interval_s
        if slot > now:
            time.sleep(slot - now)


class YoutubeChecker:
    name = "youtube"

    def __init__(self, extract: Extract = ytdlp_extract, oembed_endpoint: str = OEMBED_ENDPOINT):
        self.extract = extract
        self.oembed_endpoint = oembed_endpoint
        self._pool: ThreadPoolExecutor | None = None
        self._pool_size = 0
        self._pool_lock = threading.Lock()
        self._pacer = _Pacer()

    def handles(self, resource: Resource) -> bool:
        return resource.kind is Kind.YOUTUBE

    def _executor(self, size: int) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None or self._pool_size != size:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)
                self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="yt-dlp")
                self._pool_size = size
            return self._pool

    def _paced(
        self,
        url: str,
        opts: dict[str, Any],
        interval_s: float,
        policy: AddressPolicy | None,
        trusted: frozenset[tuple[str, int]],
    ) -> dict[str, Any]:
        with sockets.guarded(policy, trusted):  # entered first: the paced start stays exact
            self._pacer.wait_turn(interval_s)
            return self.extract(url, opts)

    async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
        host = (urlsplit(resource.url).hostname or "").lower()
        if host not in YOUTUBE_HOSTS:
            # yt-dlp's generic extractor would fetch any URL, outside the engine's limits:
            # it is only ever handed YouTube's own addresses (issue 16).
            return CheckResult(
                resource_id=resource.id, url=resource.url, verdict=Verdict.SKIPPED,
                checker=self.name, note=f"not a YouTube address ({host or 'no host'}): "
                "kind 'youtube' needs a youtube.com or youtu.be link",
            )  # fmt: skip
        url = normalize_url(resource.url)
        playlist = is_playlist(url)
        # Environment wins: CI keeps secrets there, the catalog is public.
        cookies = env_first(ENV_COOKIES) or (
            # a catalog path is relative to the catalog, like every other path in it
            str(ctx.base_dir / ctx.youtube.cookies_file) if ctx.youtube.cookies_file else None
        )
        proxy = env_first(ENV_PROXY) or ctx.youtube.proxy
        opts = ytdlp_options(ctx.youtube, playlist=playlist, cookies=cookies, proxy=proxy)
        policy = ctx.http.address_policy
        refused = await ctx.http.vet(url) if policy is not None else None
        if refused is not None:
            # The name resolves to an address the guard refuses: yt-dlp is not started at
            # all (the pipeline turns the refusal into `skipped`, like any refused fetch).
            return CheckResult(
                resource_id=resource.id, url=resource.url, verdict=Verdict.ERROR,
                checker=self.name, final_url=url, error=refused,
            )  # fmt: skip
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        pool = self._executor(ctx.youtube.concurrency)
        interval = ctx.youtube.min_interval_ms / 1000
        base = CheckResult(
            resource_id=resource.id, url=resource.url, verdict=Verdict.OK,
            checker=self.name, final_url=url,
        )  # fmt: skip
        try:
            info = await loop.run_in_executor(
                pool, self._paced, url, opts, interval, policy, _proxy_endpoint(proxy)
            )
        except Exception as exc:  # yt-dlp's own failures are results, not crashes
            from yt_dlp.utils import DownloadError

            reason = redact(reason_of(exc), (proxy, cookies))
            if not isinstance(exc, DownloadError):
                reason = f"yt-dlp crashed: {type(exc).__name__}: {reason}"
            verdict, note = classify(reason)
            return await self._judged(resource, ctx, url, base, started, verdict, note, reason)
        warnings = getattr(opts["logger"], "warnings", [])
        verdict, remark, reason = judge_info(info, [redact(w, (proxy, cookies)) for w in warnings])
        if verdict is not Verdict.OK:
            return await self._judged(resource, ctx, url, base, started, verdict, remark, reason)
        fresh, count_note = metadata_from_info(info)
        elapsed = int((time.monotonic() - started) * 1000)
        shown = "; ".join(n for n in (remark, count_note) if n) or None
        return replace(base, elapsed_ms=elapsed, note=shown, meta=fresh)

    async def _judged(
        self,
        resource: Resource,
        ctx: CheckContext,
        url: str,
        base: CheckResult,
        started: float,
        verdict: Verdict,
        note: str | None,
        reason: str,
    ) -> CheckResult:
        """The result of a reason: broken and ok as the table says, the rest asks oEmbed."""
        elapsed = int((time.monotonic() - started) * 1000)
        note = note or reason
        if verdict is Verdict.OK:
            known = previous_meta(resource, ctx)
            meta = Metadata(age_limit=18).merged(known) if "age" in note else known
            return replace(
                base, verdict=verdict, elapsed_ms=elapsed, note=note, partial=True, meta=meta
            )
        if verdict is Verdict.BROKEN:
            return replace(base, verdict=verdict, elapsed_ms=elapsed, error=f"{note}: {reason}")
        fallback = await self._oembed(resource, ctx, url, verdict, note, reason)
        return replace(fallback, elapsed_ms=int((time.monotonic() - started) * 1000))

    async def _oembed(
        self,
        resource: Resource,
        ctx: CheckContext,
        url: str,
        verdict: Verdict,
        note: str,
        reason: str,
    ) -> CheckResult:
        """Existence and title from oEmbed when the player refused us; duration from history."""
        known = previous_meta(resource, ctx)
        query = urlencode({"url": url, "format": "json"})
        fetch = await ctx.http.fetch(f"{self.oembed_endpoint}?{query}", max_bytes=200_000)
        base = CheckResult(
            resource_id=resource.id, url=resource.url, verdict=Verdict.OK, checker=self.name,
            final_url=url, elapsed_ms=fetch.elapsed_ms,
        )  # fmt: skip
        why = f"yt-dlp: {note}" if verdict is Verdict.BLOCKED else f"yt-dlp failed: {reason}"
        if fetch.failure is None and fetch.status == 200:
            try:
                data = json.loads(fetch.body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                fresh = Metadata(
                    title=_str(data.get("title")),
                    channel=_str(data.get("author_name")),
                    author=_str(data.get("author_name")),
                )
                return replace(
                    base, partial=True, meta=fresh.merged(known),
                    note=f"{why}; title from oEmbed, duration from the last full check",
                )  # fmt: skip
        if fetch.failure is None and fetch.status in OEMBED_STATUS:
            oembed_verdict, oembed_note = OEMBED_STATUS[fetch.status]
            if oembed_verdict is Verdict.OK:
                return replace(
                    base, partial=True, meta=known,
                    note=f"{why}; {oembed_note}",
                )  # fmt: skip
            return replace(base, verdict=oembed_verdict, error=f"{oembed_note}; {why}")
        oembed_said = fetch.error or f"HTTP {fetch.status}"
        return replace(
            base,
            verdict=verdict,
            error=f"{why}; oEmbed fallback failed too ({oembed_said})",
            meta=known,
            partial=True,
            network_failure=fetch.failure is not None and fetch.failure.network_level,
        )
