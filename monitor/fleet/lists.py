"""A fleet's lists as catalogs: a local path, or a catalog inside a git repository cloned
(or refreshed) into a cache folder. The coordinator reads them; workers never need them.

Resource ids key the shared history, so two lists may not give one id to two different URLs
(the second list's reports would show the first's history). The same id for the same URL
is one resource, checked once.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from monitor.config.catalog import Catalog, CatalogError, load_catalog
from monitor.domain.models import Resource
from monitor.fleet.config import Fleet, FleetError, FleetList

GIT_TIMEOUT_S = 300


@dataclass(frozen=True)
class LoadedList:
    spec: FleetList
    catalog: Catalog

    @property
    def name(self) -> str:
        return self.spec.name


def _git(args: list[str], spec: FleetList, fleet: Fleet) -> None:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FleetError(fleet.path, spec.line, f"list {spec.name!r}: git failed: {exc}") from None
    if done.returncode:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise FleetError(
            fleet.path, spec.line, f"list {spec.name!r}: git {args[0]} {spec.git}: {detail}"
        )


def checkout(spec: FleetList, fleet: Fleet, cache: Path) -> Path:
    """Clone the list's repository into `cache/NAME` (shallow), or bring it up to date."""
    assert spec.git is not None
    where = cache / spec.name
    if (where / ".git").exists():
        _git(["-C", str(where), "fetch", "--quiet", "--depth", "1", "origin",
              spec.ref or "HEAD"], spec, fleet)  # fmt: skip
        _git(["-C", str(where), "reset", "--quiet", "--hard", "FETCH_HEAD"], spec, fleet)
    else:
        where.parent.mkdir(parents=True, exist_ok=True)
        branch = ["--branch", spec.ref] if spec.ref else []
        _git(["clone", "--quiet", "--depth", "1", *branch, spec.git, str(where)], spec, fleet)
    return where / spec.file


def load_lists(fleet: Fleet, cache: Path) -> list[LoadedList]:
    loaded: list[LoadedList] = []
    owner: dict[str, tuple[str, str]] = {}  # resource id -> (list, url)
    for spec in fleet.lists:
        path = spec.catalog if spec.catalog is not None else checkout(spec, fleet, cache)
        try:
            catalog = load_catalog(path)
        except CatalogError as exc:
            raise FleetError(fleet.path, spec.line, f"list {spec.name!r}: {exc}") from None
        for resource in catalog.resources:
            first = owner.setdefault(resource.id, (spec.name, resource.url))
            if first[1] != resource.url:
                raise FleetError(
                    fleet.path,
                    spec.line,
                    f"list {spec.name!r}: resource id {resource.id!r} ({resource.url}) is "
                    f"also list {first[0]!r}'s id for {first[1]}; the shared history keys "
                    "resources by id: give one of them an explicit id in its catalog",
                )
        loaded.append(LoadedList(spec, catalog))
    return loaded


def unique_resources(lists: list[LoadedList]) -> list[tuple[str, Resource, Path]]:
    """(list name, resource, the list's folder) once per resource id, first list first."""
    seen: set[str] = set()
    out: list[tuple[str, Resource, Path]] = []
    for item in lists:
        for resource in item.catalog.resources:
            if resource.id not in seen:
                seen.add(resource.id)
                out.append((item.name, resource, item.catalog.base_dir))
    return out
