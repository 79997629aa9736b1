"""Every host in exactly one shard, the same one everywhere, GitHub and YouTube whole."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

from monitor.domain.models import Kind, Resource
from monitor.fleet.shards import GITHUB, LOCAL, YOUTUBE, domain, shard_for


def _r(url: str, kind: Kind = Kind.WEB) -> Resource:
    return Resource(id=url, url=url, kind=kind, section="s", label="l")


def test_a_host_lands_in_one_shard_whatever_the_path_or_case() -> None:
    shards = {
        shard_for(_r(url), 16)
        for url in ("https://docs.example.org/a", "https://DOCS.example.org/b?x=1",
                    "http://docs.example.org:8080/c#d")
    }  # fmt: skip
    assert len(shards) == 1


def test_all_of_github_is_one_shard_and_youtube_another() -> None:
    github = [
        _r("https://github.com/org/repo", Kind.GITHUB),
        _r("https://github.com/topics/python"),
        _r("https://www.github.com/org/other/blob/main/README.md", Kind.GITHUB),
    ]
    youtube = [
        _r("https://www.youtube.com/watch?v=abc", Kind.YOUTUBE),
        _r("https://youtu.be/abc", Kind.YOUTUBE),
        _r("https://m.youtube.com/watch?v=def"),
    ]
    assert {domain(r) for r in github} == {GITHUB}
    assert {domain(r) for r in youtube} == {YOUTUBE}
    assert len({shard_for(r, 16) for r in github}) == 1
    assert len({shard_for(r, 16) for r in youtube}) == 1


def test_local_files_stay_with_the_coordinator() -> None:
    assert shard_for(_r("docs/guide.pdf", Kind.FILE), 16) == LOCAL


def test_the_hash_is_the_same_in_another_process() -> None:
    """Python's hash() is salted per process; a coordinator and its workers must agree."""
    hosts = [f"host{i}.example" for i in range(50)]
    here = [shard_for(_r(f"https://{h}/"), 7) for h in hosts]
    code = (
        "from monitor.fleet.shards import shard_for; from monitor.domain.models import "
        "Resource, Kind; import sys; print(' '.join(shard_for(Resource(u, u, Kind.WEB, 's', "
        "'l'), 7) for u in sys.argv[1:]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    urls = [f"https://{h}/" for h in hosts]
    there = subprocess.run(
        [sys.executable, "-c", code, *urls], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    assert there == here


def test_hosts_spread_over_every_shard() -> None:
    counts = Counter(shard_for(_r(f"https://site{i}.example/"), 8) for i in range(4000))
    assert set(counts) == {str(i) for i in range(8)}
    assert min(counts.values()) > 0.8 * 500 and max(counts.values()) < 1.2 * 500
