"""The catalog, `resources.toml`: load, validate, infer kinds.

Every problem is reported as `CatalogError` naming the file, the line and what is wrong,
so a maintainer editing TOML by hand can fix it without reading a traceback.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.config.github_names import GITHUB_RESERVED
from monitor.config.locales import DEFAULT_LOCALE, check_locale
from monitor.config.urls import check_url
from monitor.domain.models import Kind, Resource, Section

# A catalog message quotes values from the file; a 200 KB value is cut to this (issue 16).
PROBLEM_LIMIT = 500
# Characters no catalog text may hold: C0/C1 controls (tab aside) and the direction overrides,
# embeddings and isolates that make a label or a link read as something else.
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class CatalogError(Exception):
    """A catalog that cannot be used; `str()` is the message shown to the user."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        if len(problem) > PROBLEM_LIMIT:
            problem = f"{problem[:PROBLEM_LIMIT]}… ({len(problem):,} characters)"
        self.problem = problem
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {problem}")


# Hosts whose links are courses, not plain pages: (host suffix, path prefix).
# deeplearning.ai short courses hide their duration in page data (issue 4).
COURSE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("deeplearning.ai", "/short-courses/"),
    ("deeplearning.ai", "/courses/"),
    ("coursera.org", "/learn/"),
    ("udemy.com", "/course/"),
    ("edx.org", "/course"),
    ("learn.deeplearning.ai", "/"),
)
YOUTUBE_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com", "youtu.be"}
)
GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})


def infer_kind(url: str) -> Kind:
    """Kind of a link from its URL alone; the catalog's explicit `kind` wins over this."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:  # "https://[": never checkable; the web checker reports it
        return Kind.WEB
    if not parts.scheme:
        return Kind.FILE
    if host in YOUTUBE_HOSTS:
        return Kind.YOUTUBE
    if host in GITHUB_HOSTS:
        segments = [s for s in parts.path.split("/") if s]
        if len(segments) >= 2 and segments[0].lower() not in GITHUB_RESERVED:
            return Kind.GITHUB
        return Kind.WEB
    for suffix, prefix in COURSE_PATTERNS:
        if (host == suffix or host.endswith("." + suffix)) and parts.path.startswith(prefix):
            return Kind.COURSE
    return Kind.WEB


def slugify(text: str, max_len: int = 60, *, drop_asides: bool = False) -> str:
    """ASCII slug: accents folded, emoji dropped; `drop_asides` drops "(6 horas)" too."""
    if drop_asides:
        text = re.sub(r"\([^)]*\)", " ", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "item"


def unique_slug(base: str, taken: set[str]) -> str:
    slug, n = base, 2
    while slug in taken:
        slug = f"{base}-{n}"
        n += 1
    taken.add(slug)
    return slug


def check_text(text: str) -> str:
    """Catalog text (labels, titles, notes) holds no control or direction-override characters."""
    if m := _UNSAFE_TEXT.search(text):
        raise ValueError(f"contains the invisible control character U+{ord(m.group(0)):04X}")
    return text


class _Strict(BaseModel):
    # allow_inf_nan: `deadline_s = inf` would be a check that never ends (issue 16).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class HostLimits(_Strict):
    """Per-host politeness override (the engine's defaults suit most sites)."""

    concurrency: int | None = Field(default=None, ge=1, le=64)
    min_interval_ms: int | None = Field(default=None, ge=0, le=600_000)


class EngineSettings(_Strict):
    user_agent: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    concurrency: int = Field(default=128, ge=1, le=1024)
    per_host_concurrency: int = Field(default=10, ge=1, le=64)
    min_interval_ms: int = Field(default=50, ge=0, le=600_000)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=20.0, gt=0)
    deadline_s: float = Field(default=60.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    retry_after_cap_s: float = Field(default=60.0, ge=0)
    max_body_bytes: int = Field(default=5_000_000, ge=1024)
    allow_private: bool = False
    # First retry waits about backoff_s (doubling, with jitter), never more than backoff_max_s.
    backoff_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=8.0, ge=0)
    # Second opinions of failures that asked us to slow down (429, 502-504, timeouts) start
    # this far apart on their host (and this long after the answer); they overlap.
    recheck_interval_ms: int = Field(default=1000, ge=0, le=600_000)
    # Known-good URLs asked when a run's own results cannot show that the network works
    # (monitor/run/evidence.py); history and unchecked catalog links are asked after them.
    network_probes: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("network_probes")
    @classmethod
    def _web_probes(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls


class YoutubeSettings(_Strict):
    cookies_file: str | None = None
    proxy: str | None = None
    concurrency: int = Field(default=2, ge=1, le=8)
    min_interval_ms: int = Field(default=2000, ge=0)


class GithubSettings(_Strict):
    api_url: str = "https://api.github.com"


class ScheduleSettings(_Strict):
    full_check: str = "0 3 * * *"
    failing_check: str = "0 */3 * * *"
    timezone: str = "UTC"


SuffixPart = Literal["status", "duration", "stars"]


def _default_suffix() -> list[SuffixPart]:
    return ["status", "duration", "stars"]


class Settings(_Strict):
    # The language of the README tables, status.md and the status page: any language with a
    # catalog in monitor/locale/ (en, pt-BR). English when unset (see monitor.config.locales).
    locale: str = DEFAULT_LOCALE
    readme: str = "README.md"
    # What an annotated list item's generated suffix shows (README blocks in list mode).
    list_suffix: list[SuffixPart] = Field(default_factory=_default_suffix)
    down_after: int = Field(default=2, ge=1, le=30)
    # `monitor prune`: every check younger than retention_days, one a day up to
    # retention_weekly_after_days, one a week beyond (monitor.store.retention).
    retention_days: int = Field(default=90, ge=1)
    retention_weekly_after_days: int = Field(default=365, ge=1)
    # Where the roadmap lives (https://github.com/OWNER/REPO): the status page links back to
    # it and points file links at it. Default: $GITHUB_REPOSITORY in the nightly job.
    repository_url: str | None = Field(default=None, pattern=r"^https?://[^\s\"'<>]+$")

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        return check_locale(value)

    @model_validator(mode="after")
    def _tiers(self) -> Settings:
        if self.retention_weekly_after_days < self.retention_days:
            raise ValueError(
                f"retention_weekly_after_days ({self.retention_weekly_after_days}) must be at "
                f"least retention_days ({self.retention_days}): checks are thinned to one a "
                "day before they are thinned to one a week"
            )
        return self


class SectionEntry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)

    @field_validator("title")
    @classmethod
    def _text(cls, value: str) -> str:
        return check_text(value)


class ResourceEntry(_Strict):
    url: str
    label: str = Field(min_length=1)
    section: str
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Kind | None = None
    line: int | None = Field(default=None, ge=1)
    accept: list[int] = Field(default_factory=list)
    skip: bool = False
    notes: str = ""
    # The item's words after its link in the roadmap; a README table shows them.
    description: str = ""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("label", "notes", "description")
    @classmethod
    def _text(cls, value: str) -> str:
        return check_text(value)

    @field_validator("accept")
    @classmethod
    def _accept(cls, value: list[int]) -> list[int]:
        bad = [code for code in value if not 100 <= code <= 599]
        if bad:
            raise ValueError(f"accept has codes outside 100-599: {bad}")
        return value


class CatalogModel(_Strict):
    settings: Settings = Field(default_factory=Settings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    hosts: dict[str, HostLimits] = Field(default_factory=dict)
    youtube: YoutubeSettings = Field(default_factory=YoutubeSettings)
    github: GithubSettings = Field(default_factory=GithubSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    sections: list[SectionEntry] = Field(default_factory=list)
    resources: list[ResourceEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class Catalog:
    """A validated catalog. `base_dir` is where relative file links and the README live."""

    path: Path
    settings: Settings
    engine: EngineSettings
    hosts: dict[str, HostLimits]
    youtube: YoutubeSettings
    github: GithubSettings
    schedule: ScheduleSettings
    sections: tuple[Section, ...]
    resources: tuple[Resource, ...]

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def readme_path(self) -> Path:
        return self.base_dir / self.settings.readme

    @property
    def links_dir(self) -> Path:
        """Where the roadmap's relative links (`spacy_cheatsheet.pdf`) resolve: its folder."""
        return self.readme_path.parent

    def find(self, key: str) -> Resource | None:
        """A resource by id or URL."""
        for resource in self.resources:
            if key in (resource.id, resource.url):
                return resource
        return None


class _LineIndex:
    """Maps positions in the parsed TOML back to source lines (tomllib keeps none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.arrays: dict[str, list[int]] = {}
        self.tables: dict[str, int] = {}
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            if m := re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", line):
                self.arrays.setdefault(m.group(1), []).append(number)
            elif m := re.match(r"^\[\s*([^\]]+?)\s*\]", line):
                self.tables[m.group(1).replace('"', "").replace("'", "")] = number

    def _key_line(self, start: int, key: str) -> int:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            text = self.lines[number - 1].strip()
            if text.startswith("["):
                break
            if pattern.match(text):
                return number
        return start

    def _top_key_line(self, key: str) -> int | None:
        """Line of a key written before the first table header (`resources = [...]`)."""
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number, raw in enumerate(self.lines, start=1):
            if raw.strip().startswith("["):
                return None
            if pattern.match(raw):
                return number
        return None

    def locate(self, loc: Iterable[Any]) -> int | None:
        loc = list(loc)
        if not loc:
            return None
        head = str(loc[0])
        if len(loc) >= 2 and isinstance(loc[1], int) and head in self.arrays:
            starts = self.arrays[head]
            if loc[1] < len(starts):
                start = starts[loc[1]]
                return self._key_line(start, str(loc[2])) if len(loc) > 2 else start
            return None
        host_start = (
            self.tables.get(f"hosts.{loc[1]}") if head == "hosts" and len(loc) > 1 else None
        )
        if host_start is not None:
            return self._key_line(host_start, str(loc[2])) if len(loc) > 2 else host_start
        if len(loc) == 1 and head in self.arrays:  # a misspelt [[table]] of its own
            return self.arrays[head][0]
        if head in self.tables:
            return (
                self._key_line(self.tables[head], str(loc[1]))
                if len(loc) > 1
                else (self.tables[head])
            )
        # a top-level key, or a table or array written inline: the key's own line
        return self._top_key_line(head)


def _model_at(loc: Sequence[Any]) -> type[BaseModel] | None:
    """The settings model that holds the last key of `loc` (list items and dict values
    walked through), or None when the path leaves the models."""
    model: type[BaseModel] = CatalogModel
    parts = list(loc[:-1])
    while parts:
        part = parts.pop(0)
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        inner = field.annotation
        while get_origin(inner) in (list, dict):
            args = get_args(inner)
            inner = args[-1]
            if get_origin(field.annotation) is dict and parts:
                parts.pop(0)  # the dict's own key (a host name)
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return None
        model = inner
    return model


def closest_key(loc: Sequence[Any]) -> str | None:
    """The known key closest to an unknown one (`resource` -> `resources`)."""
    model = _model_at(loc)
    if model is None or not loc:
        return None
    known = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return close[0] if close else None


def first_error(exc: ValidationError) -> Any:
    """The validation error to report: pydantic's first, except that a misspelt key is
    named rather than the required key it left missing (`urll = ...` is reported as an
    unknown key `urll` with its suggestion, not as a missing `url`)."""
    errors = exc.errors()
    first = errors[0]
    if first["type"] == "missing":
        parent = tuple(first["loc"][:-1])
        for err in errors:
            if err["type"] == "extra_forbidden" and tuple(err["loc"][:-1]) == parent:
                return err
    return first


def _describe(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_catalog(text: str, path: Path) -> Catalog:
    """Validate catalog text; raises `CatalogError` for the first problem found."""
    try:
        raw = tomllib.loads(text)
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise CatalogError(path, None, "not valid TOML: values nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(m.group(1)) if m else None
        if line is None and "end of document" in message:  # the last line that has text
            line = max(1, len(text.rstrip().splitlines()))
        problem = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", message)
        raise CatalogError(path, line, f"not valid TOML: {problem}") from None
    index = _LineIndex(text)
    try:
        model = CatalogModel.model_validate(raw)
    except ValidationError as exc:
        err = first_error(exc)
        loc = err["loc"]
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown key {str(loc[-1])!r}"
            if suggestion := closest_key(loc):
                message += f"; did you mean {suggestion!r}?"
        elif err["type"] == "missing":
            message = f"missing required key {str(loc[-1])!r}"
            loc = loc[:-1]
        raise CatalogError(path, index.locate(loc), f"{_describe(loc)}: {message}") from None
    return _build(model, path, index)


def _build(model: CatalogModel, path: Path, index: _LineIndex) -> Catalog:
    from monitor.config.trust import api_url_problem  # trust builds on this module

    if "api_url" in model.github.model_fields_set:
        problem = api_url_problem(model.github.api_url)
        if problem is not None:
            raise CatalogError(path, index.locate(["github", "api_url"]), f"github.{problem}")
    sections: list[Section] = []
    section_ids: set[str] = set()
    for i, sec in enumerate(model.sections):
        if sec.id in section_ids:
            line = index.locate(["sections", i, "id"])
            raise CatalogError(path, line, f"sections[{i}].id: duplicate section {sec.id!r}")
        section_ids.add(sec.id)
        sections.append(Section(id=sec.id, title=sec.title))

    seen_urls: dict[tuple[str, str], int] = {}
    taken_ids = {e.id for e in model.resources if e.id}
    seen_ids: set[str] = set()
    resources: list[Resource] = []
    for i, entry in enumerate(model.resources):
        if entry.section not in section_ids:
            known = ", ".join(sorted(section_ids)) or "none declared"
            raise CatalogError(
                path,
                index.locate(["resources", i, "section"]),
                f"resources[{i}].section: unknown section {entry.section!r} (known: {known})",
            )
        # A URL may be listed in several sections (each place keeps its row), once in each.
        if (entry.url, entry.section) in seen_urls:
            first = index.locate(["resources", seen_urls[entry.url, entry.section], "url"])
            raise CatalogError(
                path,
                index.locate(["resources", i, "url"]),
                f"resources[{i}].url: duplicate URL {entry.url!r} in section "
                f"{entry.section!r} (first at line {first})",
            )
        seen_urls[entry.url, entry.section] = i
        if entry.id is not None:
            if entry.id in seen_ids:
                raise CatalogError(
                    path,
                    index.locate(["resources", i, "id"]),
                    f"resources[{i}].id: duplicate id {entry.id!r}",
                )
            seen_ids.add(entry.id)
            resource_id = entry.id
        else:
            resource_id = unique_slug(slugify(entry.label), taken_ids | seen_ids)
            seen_ids.add(resource_id)
        kind = entry.kind or infer_kind(entry.url)
        if kind is Kind.FILE and urlsplit(entry.url).scheme:
            raise CatalogError(
                path,
                index.locate(["resources", i, "kind"]),
                f"resources[{i}].kind: 'file' needs a relative path, not {entry.url!r}",
            )
        if kind is not Kind.FILE and not urlsplit(entry.url).scheme:
            raise CatalogError(
                path,
                index.locate(["resources", i, "kind"]),
                f"resources[{i}].kind: {kind.value!r} needs an http(s) URL, "
                f"not the file path {entry.url!r}",
            )
        resources.append(
            Resource(
                id=resource_id,
                url=entry.url,
                kind=kind,
                section=entry.section,
                label=entry.label,
                line=entry.line,
                accept=tuple(entry.accept),
                skip=entry.skip,
                notes=entry.notes,
                description=entry.description,
            )
        )
    return Catalog(
        path=path,
        settings=model.settings,
        engine=model.engine,
        hosts=dict(model.hosts),
        youtube=model.youtube,
        github=model.github,
        schedule=model.schedule,
        sections=tuple(sections),
        resources=tuple(resources),
    )


def read_config(path: Path, error: type[CatalogError], what: str) -> str:
    """The UTF-8 text of a configuration file; `error(path, None, problem)` when it is
    missing, not UTF-8 or unreadable (`what` names the file: "catalog", "fleet")."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(path, None, f"{what} file not found") from None
    except UnicodeDecodeError as exc:
        raise error(path, None, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise error(path, None, f"cannot read: {exc.strerror}") from None


def load_catalog(path: Path | str) -> Catalog:
    path = Path(path)
    return parse_catalog(read_config(path, CatalogError, "catalog"), path)
