"""The checker interface: a name, which resources it handles, and an async `check`.

Checkers know nothing of the database: what they need from history (the last ETag, the last
known duration) arrives in `CheckContext.previous`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from monitor.config.catalog import EngineSettings, GithubSettings, YoutubeSettings
from monitor.domain.models import CheckResult, Resource
from monitor.net.engine import FetchResult
from monitor.net.guard import AddressPolicy


class Http(Protocol):
    """What a checker may ask of the network: `monitor.net.engine.HttpEngine`, or the
    evidence stage's wrapper of it (`monitor.run.evidence.RecordingHttp`)."""

    @property
    def settings(self) -> EngineSettings: ...

    async def fetch(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        want_body: bool = True,
        max_bytes: int | None = None,
        follow_redirects: bool = True,
        content: bytes | None = None,
    ) -> FetchResult: ...

    @property
    def address_policy(self) -> AddressPolicy | None:
        """The address guard's policy (None when private addresses are allowed)."""
        ...

    async def vet(self, url: str) -> str | None:
        """Why a connection to `url`'s host would be refused, or None (for yt-dlp)."""
        ...


@dataclass(frozen=True)
class CheckContext:
    """Everything a checker may use besides the resource itself."""

    http: Http
    base_dir: Path = field(default_factory=Path.cwd)
    youtube: YoutubeSettings = field(default_factory=YoutubeSettings)
    github: GithubSettings = field(default_factory=GithubSettings)
    # resource id -> newest stored check (from a run whose network worked)
    previous: Mapping[str, CheckResult] = field(default_factory=dict)
    # False in ad-hoc mode (`monitor check --input`): existence only, no scraped metadata.
    want_metadata: bool = True


class Checker(Protocol):
    name: str

    def handles(self, resource: Resource) -> bool:
        """Whether this checker knows how to check `resource`."""
        ...

    async def check(self, resource: Resource, ctx: CheckContext) -> CheckResult:
        """Check one resource. Expected failures are results; only bugs raise."""
        ...


# Optional, not part of the protocol: a checker may define
#     async def prepare(self, resources: Sequence[Resource], ctx: CheckContext) -> None
# which `monitor.run.pipeline.run_checks` awaits once with all the resources it will check,
# before any `check` (the GitHub checker batches them into one GraphQL query).
