"""The course checker: an online course page, its title, provider, instructors, level and
duration in seconds.

Course sites put the duration in different places, so sources are tried in order of trust:
JSON-LD (`Course.timeRequired`, `hasCourseInstance.courseWorkload`), Next.js page data
(`__NEXT_DATA__`, searched for duration-like keys), visible text ("1 Hour 16 Minutes",
"1h 16min", "1 hora e 16 minutos"), and last a JSON-LD `VideoObject` (often only the trailer).
The note says which source gave the duration. Scraped text is untrusted: it is stored as text
and escaped by the reports.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitor.checkers.base import CheckContext
from monitor.checkers.page import decode_html
from monitor.checkers.web import metadata_for, result_for, verdict_for
from monitor.domain.models import CheckResult, Kind, Metadata, Resource, Verdict

# Providers by host, for pages that name none in their data (og:site_name is often absent).
PROVIDERS: dict[str, str] = {
    "deeplearning.ai": "DeepLearning.AI",
    "coursera.org": "Coursera",
    "udemy.com": "Udemy",
    "edx.org": "edX",
}

_NUM = r"\d+(?:[.,]\d+)?"
# "1 Hour 16 Minutes", "1h 16min", "1h16", "16 min", "2 horas", "1 hora e 16 minutos",
# "1 hora y 16 minutos". Units end where letters end, so "1h16min" parses and "5 happy" does
# not.
_DURATION = (
    rf"(?:(?P<h>{_NUM})\s*(?:hours?|hrs?|horas?|h)(?![a-zà-ú])\.?"
    rf"(?:\s*(?:and|e|y|,)\s*|\s*)(?:(?P<hm>\d+)(?!\s*[a-zà-ú\d])|(?P<m1>\d+)\s*"
    rf"(?:minutes?|mins?|minutos?|min|m)(?![a-zà-ú])\.?)?"
    rf"|(?P<m2>{_NUM})\s*(?:minutes?|mins?|minutos?|min)(?![a-zà-ú])\.?)"
)
# The words a page puts before a duration (en, pt, es).
_LABEL = r"(?:duration|length|duração|duracao|duración|duracion|tempo|carga horária|tiempo)"
TEXT_DURATION = re.compile(rf"^(?:{_LABEL}\s*:?\s*)?{_DURATION}$", re.IGNORECASE)
# In running text ("Nível: Iniciante · Duração: 55 min · 8 aulas"): a labelled duration first.
LABELLED_DURATION = re.compile(rf"(?<![\w]){_LABEL}\s*:?\s*{_DURATION}", re.IGNORECASE)
# Then any duration in a sentence ("This course takes 1 hour 16 minutes"), except a reading
# time or an age ("5 min read", "5 minutos de leitura", "3 hours ago", "hace 2 horas").
SENTENCE_DURATION = re.compile(
    rf"(?<![\w.,]){_DURATION}"
    r"(?!\s*(?:read|of reading|de leitura|de lectura|ago|atrás|atras))",
    re.IGNORECASE,
)
_NOT_AN_AGE = re.compile(r"(?:hace|há|ha)\s*$", re.IGNORECASE)
ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
# __NEXT_DATA__ keys that hold a duration, and the unit a bare number in them is in.
DURATION_KEY = re.compile(r"duration|length|time_?required|workload|total_?time", re.IGNORECASE)
# A bare number under a key without a unit: courses are minutes long when small, else seconds.
BARE_MINUTES_MAX = 600
MAX_SECONDS = 366 * 86400


def parse_duration(text: str) -> int | None:
    """Seconds from ISO 8601 (`PT1H16M`) or English/Portuguese text, else None."""
    text = " ".join(text.split())
    if m := ISO_DURATION.match(text):
        if not any(m.groupdict().values()):
            return None
        parts = {k: float(v) for k, v in m.groupdict().items() if v}
        seconds = (
            parts.get("d", 0) * 86400
            + parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
        )
        return int(seconds) if seconds < MAX_SECONDS else None
    m = TEXT_DURATION.match(text)
    if not m:
        return None
    return _match_seconds(m)


def _match_seconds(m: re.Match[str]) -> int | None:
    groups = {k: float(v.replace(",", ".")) for k, v in m.groupdict().items() if v}
    minutes = groups.get("hm", 0) + groups.get("m1", 0) + groups.get("m2", 0)
    seconds = groups.get("h", 0) * 3600 + minutes * 60
    return int(seconds) if 0 < seconds < MAX_SECONDS else None


def _number_seconds(key: str, value: float) -> int:
    key = key.lower()
    if "ms" in key or "milli" in key:
        return int(value / 1000)
    if "sec" in key:
        return int(value)
    if "min" in key:
        return int(value * 60)
    if "hour" in key or "hr" in key:
        return int(value * 3600)
    return int(value * 60) if value <= BARE_MINUTES_MAX else int(value)


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _name(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        name = value.get("name")
        return name.strip() or None if isinstance(name, str) else None
    return None


def _types(item: dict[str, Any]) -> set[str]:
    return {t for t in _as_list(item.get("@type")) if isinstance(t, str)}


def jsonld_items(tree: LexborHTMLParser) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(script.text() or "")
        except ValueError:
            continue
        for item in _as_list(data):
            if isinstance(item, dict):
                items.append(item)
                items.extend(g for g in _as_list(item.get("@graph")) if isinstance(g, dict))
    return items


def _walk(data: object) -> Iterator[tuple[str, object, bool]]:
    """(key, value, inside a list) breadth-first: course totals sit above lesson lengths."""
    queue: deque[tuple[object, bool]] = deque([(data, False)])
    while queue:
        node, in_list = queue.popleft()
        if isinstance(node, dict):
            for key, value in node.items():
                yield str(key), value, in_list
                queue.append((value, in_list))
        elif isinstance(node, list):
            queue.extend((v, True) for v in node)


def next_data_duration(props: object) -> int | None:
    """A duration-like key outside lists first; else the lessons' lengths summed."""
    in_lists: list[int] = []
    for key, value, in_list in _walk(props):
        if not DURATION_KEY.search(key):
            continue
        seconds = None
        if isinstance(value, str):
            seconds = parse_duration(value)
        elif isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            # a year or more (or inf) is not a course page's duration: junk or another unit
            seconds = _number_seconds(key, float(value)) if value < MAX_SECONDS else None
        if seconds is None:
            continue
        if not in_list:
            return seconds
        in_lists.append(seconds)
    return sum(in_lists) or None


def next_data_fields(props: object) -> dict[str, Any]:
    """Instructors and level from Next.js page props, when the page names them there."""
    found: dict[str, Any] = {}
    for key, value, _ in _walk(props):
        lowered = key.lower()
        if "instructors" not in found and lowered in ("instructors", "instructor", "teachers"):
            names = tuple(n for v in _as_list(value) if (n := _name(v)))
            if names:
                found["instructors"] = names
        is_level = lowered in ("level", "difficulty", "skilllevel")
        if "level" not in found and is_level and isinstance(value, str) and value.strip():
            found["level"] = value.strip()
    return found


_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template"})


def text_duration(tree: LexborHTMLParser) -> int | None:
    """A duration in the visible text, most trusted first: an element whose whole text is a
    duration ("1 Hour 16 Minutes" in a fact list), then a labelled one in running text
    ("Duração: 55 min" among "·"-separated facts), then one in a sentence."""
    body = tree.body
    if body is None:
        return None
    for node in body.traverse():
        if node.tag in _SKIPPED_TAGS:
            continue
        text = node.text(deep=True, separator=" ")
        if len(text) > 80:
            continue
        seconds = parse_duration(text.strip())
        if seconds:
            return seconds
    text = " ".join(_visible_text(body))
    for pattern in (LABELLED_DURATION, SENTENCE_DURATION):
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 6) : m.start()]
            if pattern is SENTENCE_DURATION and _NOT_AN_AGE.search(before):
                continue  # "há 2 horas", "hace 2 horas": when it was posted
            seconds = _match_seconds(m)
            if seconds:
                return seconds
    return None


def _visible_text(body: LexborNode) -> Iterator[str]:
    for node in body.traverse(include_text=True):
        if node.tag != "-text":
            continue
        parent = node.parent
        hidden = False
        while parent is not None:
            if parent.tag in _SKIPPED_TAGS:
                hidden = True
                break
            parent = parent.parent
        if not hidden and (value := node.text_content):
            yield value


def _meta(tree: LexborHTMLParser, prop: str) -> str | None:
    node = tree.css_first(f'meta[property="{prop}"]') or tree.css_first(f'meta[name="{prop}"]')
    content = node.attributes.get("content") if node is not None else None
    return content.strip() or None if content else None


def provider_for(url: str) -> str | None:
    host = (urlsplit(url).hostname or "").lower()
    for suffix, name in PROVIDERS.items():
        if host == suffix or host.endswith("." + suffix):
            return name
    return None


def _next_props(tree: LexborHTMLParser) -> object:
    """The `props` of a Next.js page's __NEXT_DATA__ script, or None."""
    script = tree.css_first("script#__NEXT_DATA__")
    if script is None:
        return None
    try:
        next_data = json.loads(script.text() or "")
    except ValueError:
        return None
    return next_data.get("props", {}) if isinstance(next_data, dict) else None


def course_metadata(html: str, url: str) -> tuple[Metadata, str | None]:
    """Metadata from a course page, and which source gave the duration."""
    tree = LexborHTMLParser(html)
    items = jsonld_items(tree)
    course = next((i for i in items if _types(i) & {"Course", "CourseInstance"}), {})
    video = next((i for i in items if "VideoObject" in _types(i)), {})
    next_props = _next_props(tree)

    sources: list[tuple[str, Any]] = []
    for key in ("timeRequired", "duration"):
        sources.append((f"JSON-LD Course.{key}", course.get(key)))
    for instance in _as_list(course.get("hasCourseInstance")):
        if isinstance(instance, dict):
            sources.append(("JSON-LD courseWorkload", instance.get("courseWorkload")))
            schedule = instance.get("courseSchedule")
            if isinstance(schedule, dict):
                sources.append(("JSON-LD courseSchedule", schedule.get("duration")))
    duration, source = None, None
    for name, value in sources:
        if isinstance(value, str) and (duration := parse_duration(value)):
            source = name
            break
    if duration is None and next_props is not None and (duration := next_data_duration(next_props)):
        source = "__NEXT_DATA__"
    if duration is None and (duration := text_duration(tree)):
        source = "page text"
    trailer = video.get("duration")
    if duration is None and isinstance(trailer, str) and (duration := parse_duration(trailer)):
        source = "JSON-LD VideoObject (may be a trailer)"

    extra = next_data_fields(next_props) if next_props is not None else {}
    instructors = tuple(
        n for v in _as_list(course.get("instructor") or course.get("creator")) if (n := _name(v))
    )
    title_node = tree.css_first("title")
    title = (
        _name(course.get("name"))
        or _meta(tree, "og:title")
        or (title_node.text(strip=True) or None if title_node is not None else None)
    )
    level = course.get("educationalLevel")
    meta = Metadata(
        title=title,
        description=_name(course.get("description")) or _meta(tree, "og:description"),
        canonical_url=_meta(tree, "og:url"),
        duration_s=duration,
        provider=_name(course.get("provider")) or _meta(tree, "og:site_name") or provider_for(url),
        instructors=instructors or extra.get("instructors"),
        level=level.strip() if isinstance(level, str) and level.strip() else extra.get("level"),
    )
    return meta, source


class CourseChecker:
    """Judged like any web page (`monitor.checkers.web.verdict_for`), then read as a course."""

    name = "course"

    def handles(self, resource: Resource) -> bool:
        return resource.kind is Kind.COURSE

    async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
        fetch = await ctx.http.fetch(resource.url)
        judgement = verdict_for(fetch, resource)
        result = result_for(resource, self.name, fetch, judgement)
        # A not-found page or a challenge says nothing about the course.
        if judgement.verdict not in (Verdict.OK, Verdict.MOVED) or not ctx.want_metadata:
            return result
        html, _ = decode_html(fetch.body, fetch.headers)
        meta, source = course_metadata(html, fetch.final_url)
        meta = meta.merged(metadata_for(fetch, judgement.page))
        found = f"duration from {source}" if source else "no duration found on the page"
        note = "; ".join(n for n in (judgement.note, found) if n)
        return replace(result, meta=meta, note=note)
