"""Every host owned by exactly one shard, so politeness needs no lock service.

A shard is a stable hash of a resource's *politeness domain* into N shard queues: the host
its checker talks to. All of GitHub (github.com pages and the API with its GraphQL batches,
which share one token's budget) is one domain, all of YouTube another; local files are
checked where the lists are, by the coordinator (shard `local`). One task per shard per run
carries every link of its hosts, and one worker process runs it with the single-process
engine, so per-host limits, 429 pacing and the second opinion are exactly those of
`monitor check`.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from monitor.config.catalog import GITHUB_HOSTS, YOUTUBE_HOSTS
from monitor.domain.models import Kind, Resource

LOCAL = "local"
GITHUB = "github"
YOUTUBE = "youtube"
QUEUE_PREFIX = "monitor.shard."
DEFAULT_SHARDS = 8


def domain(resource: Resource) -> str | None:
    """The politeness domain a resource's check talks to; None for a local file."""
    if resource.kind is Kind.FILE:
        return None
    host = (urlsplit(resource.url).hostname or "").lower()
    if resource.kind is Kind.GITHUB or host in GITHUB_HOSTS:
        return GITHUB
    if resource.kind is Kind.YOUTUBE or host in YOUTUBE_HOSTS:
        return YOUTUBE
    return host


def shard_of(key: str, shards: int) -> str:
    """Stable across processes, machines and Python versions (unlike `hash()`)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return str(int.from_bytes(digest, "big") % shards)


def shard_for(resource: Resource, shards: int) -> str:
    key = domain(resource)
    return LOCAL if key is None else shard_of(key, shards)


def queue(shard: str) -> str:
    return QUEUE_PREFIX + shard


def queues(shards: int) -> list[str]:
    return [queue(str(i)) for i in range(shards)]
