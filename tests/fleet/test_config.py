"""The fleet file: what it accepts, and errors that name the file, the line and the problem."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from monitor.fleet.config import FleetError, load_fleet, parse_fleet
from monitor.fleet.lists import load_lists

CATALOG = """[[sections]]
id = "s"
title = "S"

[[resources]]
id = "{id}"
url = "{url}"
label = "L"
section = "s"
"""


def _error(text: str) -> str:
    with pytest.raises(FleetError) as caught:
        parse_fleet(text, Path("fleet.toml"))
    return str(caught.value)


def test_a_fleet_of_a_path_and_a_git_list(tmp_path: Path) -> None:
    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(
        "[engine]\nper_host_concurrency = 4\n\n"
        '[hosts."api.example.org"]\nconcurrency = 1\n\n'
        '[[list]]\nname = "roadmap"\ncatalog = "roadmap/resources.toml"\npublish = "site/r"\n\n'
        '[[list]]\nname = "awesome"\ngit = "https://example.org/a.git"\nref = "main"\n'
        'file = "lists/resources.toml"\n'
    )
    fleet = load_fleet(fleet_file)
    assert fleet.engine.per_host_concurrency == 4
    assert fleet.hosts["api.example.org"].concurrency == 1
    local, remote = fleet.lists
    assert (local.name, local.catalog, local.publish, local.line) == (
        "roadmap",
        tmp_path / "roadmap/resources.toml",
        tmp_path / "site/r",
        7,
    )
    assert (remote.git, remote.ref, remote.file, remote.publish) == (
        "https://example.org/a.git",
        "main",
        "lists/resources.toml",
        None,
    )


L = '[[list]]\nname = "a"\n'  # a list's first two lines
CASES = [
    (L + 'catalog = "x"\nbogus = 1\n', "fleet.toml:4: list[0].bogus: unknown key 'bogus'"),
    (L, "fleet.toml:1: list[0]: give either catalog = PATH or git = URL"),
    (L + 'catalog = "x"\ngit = "y"\n', "fleet.toml:1: list[0]: give either"),
    (L + 'catalog = "x"\nref = "main"\n', "fleet.toml:1: list[0]: ref and file go with git"),
    ('[[list]]\nname = "A b"\ncatalog = "x"\n', "fleet.toml:2: list[0].name: String should"),
    ('[[list]]\ncatalog = "x"\n', "fleet.toml:1: list[0]: missing required key 'name'"),
    ("[engine]\nconcurrency = 0\n" + L + 'catalog = "x"\n', "fleet.toml:2: engine.concurrency"),
    (L + 'catalog = "x"\n\n' + L + 'catalog = "y"\n', "fleet.toml:6: list[1].name: duplicate"),
    ("[engine]\n", "fleet.toml: no [[list]] entries"),
    (L + "catalog = \n", "fleet.toml:3: not valid TOML"),
]


@pytest.mark.parametrize(("text", "message"), CASES)
def test_errors_name_file_line_and_problem(text: str, message: str) -> None:
    assert _error(text).startswith(message)


def test_two_lists_may_not_give_one_id_to_two_urls(tmp_path: Path) -> None:
    for name, url in (("a", "https://a.example/1"), ("b", "https://b.example/1")):
        (tmp_path / f"{name}.toml").write_text(CATALOG.format(id="docs", url=url))
    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(
        '[[list]]\nname = "a"\ncatalog = "a.toml"\n\n[[list]]\nname = "b"\ncatalog = "b.toml"\n'
    )
    with pytest.raises(FleetError) as caught:
        load_lists(load_fleet(fleet_file), tmp_path / "cache")
    assert str(caught.value).startswith(
        f"{fleet_file}:5: list 'b': resource id 'docs' (https://b.example/1) is also list 'a'"
    )


def test_a_broken_catalog_is_named_with_its_list(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("[[resources]\n")
    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text('[[list]]\nname = "a"\ncatalog = "a.toml"\n')
    with pytest.raises(FleetError) as caught:
        load_lists(load_fleet(fleet_file), tmp_path / "cache")
    assert f"{fleet_file}:1: list 'a': {tmp_path / 'a.toml'}:1: not valid TOML" in str(caught.value)


def test_a_git_list_is_cloned_then_refreshed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "lists").mkdir(parents=True)
    catalog = repo / "lists" / "resources.toml"
    catalog.write_text(CATALOG.format(id="one", url="https://a.example/1"))

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                        *args], check=True, capture_output=True)  # fmt: skip

    git("init", "-q", "-b", "main")
    git("add", ".")
    git("commit", "-qm", "one")
    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(
        f'[[list]]\nname = "g"\ngit = "file://{repo}"\nref = "main"\n'
        'file = "lists/resources.toml"\n'
    )
    fleet = load_fleet(fleet_file)
    first = load_lists(fleet, tmp_path / "cache")
    catalog.write_text(CATALOG.format(id="two", url="https://a.example/2"))
    git("commit", "-qam", "two")
    second = load_lists(fleet, tmp_path / "cache")
    assert [r.id for r in first[0].catalog.resources] == ["one"]
    assert [r.id for r in second[0].catalog.resources] == ["two"]


def test_a_git_list_that_cannot_be_cloned_names_its_line(tmp_path: Path) -> None:
    fleet_file = tmp_path / "fleet.toml"
    fleet_file.write_text(f'\n[[list]]\nname = "g"\ngit = "file://{tmp_path}/nothing"\n')
    with pytest.raises(FleetError) as caught:
        load_lists(load_fleet(fleet_file), tmp_path / "cache")
    assert str(caught.value).startswith(f"{fleet_file}:2: list 'g': git clone file://")
