"""The fleet file: which lists one fleet checks, where each publishes, and the politeness
every worker applies (one set for the whole fleet: a host shared by two lists is one host).

    [engine]                      # optional: as a catalog's [engine], for every list
    per_host_concurrency = 4

    [[list]]
    name = "roadmap"
    catalog = "roadmap/resources.toml"        # a path, relative to this file
    publish = "site/roadmap"                  # where `monitor fleet publish` writes

    [[list]]
    name = "awesome-x"
    git = "https://github.com/org/awesome-x.git"
    ref = "main"                              # optional: branch or tag
    file = "resources.toml"                   # the catalog inside the repository
    publish = "site/awesome-x"

Every problem is a `FleetError` naming the file, the line and what is wrong.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from monitor.config.catalog import (
    CatalogError,
    EngineSettings,
    GithubSettings,
    HostLimits,
    YoutubeSettings,
    _describe,
    _LineIndex,
    first_error,
    read_config,
)


class FleetError(CatalogError):
    """A fleet file that cannot be used; `str()` is `file:line: problem`."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ListEntry(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    catalog: str | None = None
    git: str | None = None
    ref: str | None = None
    file: str | None = None
    publish: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ListEntry:
        if (self.catalog is None) == (self.git is None):
            raise ValueError("give either catalog = PATH or git = URL (with file = PATH)")
        if self.git is None and (self.ref is not None or self.file is not None):
            raise ValueError("ref and file go with git = URL; a local list uses catalog = PATH")
        return self


class FleetModel(_Strict):
    engine: EngineSettings = Field(default_factory=EngineSettings)
    hosts: dict[str, HostLimits] = Field(default_factory=dict)
    youtube: YoutubeSettings = Field(default_factory=YoutubeSettings)
    github: GithubSettings = Field(default_factory=GithubSettings)
    lists: list[ListEntry] = Field(alias="list", min_length=1)


@dataclass(frozen=True)
class FleetList:
    name: str
    line: int | None
    catalog: Path | None  # a local catalog (absolute)
    git: str | None  # or a repository to clone ...
    ref: str | None
    file: str  # ... and the catalog's path inside it
    publish: Path | None  # absolute


@dataclass(frozen=True)
class Fleet:
    path: Path
    engine: EngineSettings
    hosts: dict[str, HostLimits]
    youtube: YoutubeSettings
    github: GithubSettings
    lists: tuple[FleetList, ...]


def parse_fleet(text: str, path: Path) -> Fleet:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", message)
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise FleetError(
            path, int(m.group(1)) if m else None, f"not valid TOML: {problem}"
        ) from None
    except RecursionError:
        raise FleetError(path, None, "not valid TOML: values nested too deeply") from None
    index = _LineIndex(text)
    if "list" not in raw:
        raise FleetError(path, None, "no [[list]] entries: a fleet checks at least one list")
    try:
        model = FleetModel.model_validate(raw)
    except ValidationError as exc:
        err = first_error(exc)
        loc = err["loc"]
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown key {str(loc[-1])!r}"
        elif err["type"] == "missing":
            message = f"missing required key {str(loc[-1])!r}"
            loc = loc[:-1]
        raise FleetError(path, index.locate(loc), f"{_describe(loc)}: {message}") from None
    base = path.resolve().parent
    lists: list[FleetList] = []
    seen: dict[str, int | None] = {}
    for i, entry in enumerate(model.lists):
        line = index.locate(["list", i])
        if entry.name in seen:
            raise FleetError(
                path,
                index.locate(["list", i, "name"]),
                f"list[{i}].name: duplicate list {entry.name!r} (first at line {seen[entry.name]})",
            )
        seen[entry.name] = line
        lists.append(
            FleetList(
                name=entry.name,
                line=line,
                catalog=(base / entry.catalog) if entry.catalog is not None else None,
                git=entry.git,
                ref=entry.ref,
                file=entry.file or "resources.toml",
                publish=(base / entry.publish) if entry.publish is not None else None,
            )
        )
    return Fleet(
        path=path,
        engine=model.engine,
        hosts=dict(model.hosts),
        youtube=model.youtube,
        github=model.github,
        lists=tuple(lists),
    )


def load_fleet(path: Path | str) -> Fleet:
    path = Path(path)
    return parse_fleet(read_config(path, FleetError, "fleet"), path)
