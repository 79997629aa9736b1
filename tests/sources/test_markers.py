"""The marker grammar and import on awesome-list shapes: code blocks, repeated headings,
a URL in several places, secondary links, document order."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config.catalog import CatalogError, parse_catalog
from monitor.sources.extract import extract_markdown
from monitor.sources.importer import import_roadmap
from monitor.sources.markers import MarkerError, Mode, find_blocks

CATALOG = Path("resources.toml")

DOC = """# Awesome Things

<!-- monitor:begin section=one mode=list -->
- [A](https://a.example.com/)
<!-- monitor:end -->

How to annotate your list:

```markdown
<!-- monitor:begin section=example mode=list -->
- [Example](https://example.com/)
```

~~~
<!-- monitor:end -->
~~~

    <!-- monitor:begin section=indented -->

<!-- monitor:begin section=two -->
| x |
<!-- monitor:end -->
"""


def test_markers_in_code_blocks_are_not_markers() -> None:
    blocks = find_blocks(DOC)
    assert [(b.section, b.mode, b.start, b.end) for b in blocks] == [
        ("one", Mode.LIST, 3, 4),
        ("two", Mode.TABLE, 20, 21),
    ]


def test_marker_errors_name_the_line() -> None:
    with pytest.raises(MarkerError) as info:
        find_blocks("a\n\n<!-- monitor:begin section=x mode=cards -->\n<!-- monitor:end -->\n")
    assert info.value.line == 3 and "unknown mode 'cards'" in str(info.value)
    with pytest.raises(MarkerError) as info:
        find_blocks("```\n<!-- monitor:end -->\n```\n<!-- monitor:end -->\n", "R.md")
    assert str(info.value) == "R.md:4: <!-- monitor:end --> without a begin marker"


def test_import_ignores_a_marker_example_in_a_code_block() -> None:
    """awesome-python documented a marker in a code block: 0 links were imported."""
    readme = (
        "# Awesome\n\n## Web\n\n- [Django](https://www.djangoproject.com/) - framework.\n"
        "- [Flask](https://flask.palletsprojects.com/) - micro.\n\n## Contributing\n\n"
        "```\n<!-- monitor:begin section=web -->\n<!-- monitor:end -->\n```\n"
    )
    result = import_roadmap(readme, "README.md", None, CATALOG)
    assert [a.url for a in result.added] == [
        "https://www.djangoproject.com/",
        "https://flask.palletsprojects.com/",
    ]


def test_an_unbalanced_marker_is_an_import_error_with_its_line() -> None:
    with pytest.raises(CatalogError) as info:
        import_roadmap("x\n<!-- monitor:begin section=a -->\n", "README.md", None, CATALOG)
    assert str(info.value) == "README.md:2: section 'a' is never closed by <!-- monitor:end -->"


AWESOME = """# Awesome Python

A curated list of the Python things that are worth your time.

## Web

### Frameworks

- [Django](https://www.djangoproject.com/) - The framework for perfectionists.
- [Flask](https://flask.palletsprojects.com/) - A microframework.

### Other

- [Bottle](https://bottlepy.org/) - Small.

## CLI

### Other

- [Click](https://click.palletsprojects.com/) - Composable.
- [Django](https://www.djangoproject.com/) - Has management commands too.

## Self-hosted

- [Nextcloud](https://nextcloud.com/) - Files. ([Demo](https://demo.nextcloud.com/), \
[Source Code](https://github.com/nextcloud/server)) `PHP`
  - [Nextcloud Talk](https://nextcloud.com/talk/) - Chat ([Source Code](https://github.com/nextcloud/spreed))
"""


@pytest.fixture(scope="module")
def awesome() -> str:
    return import_roadmap(AWESOME, "README.md", None, CATALOG).text


def test_headings_are_known_by_their_path() -> None:
    links = extract_markdown(AWESOME)
    assert links[2].headings == ("Awesome Python", "Web", "Other")
    assert links[3].headings == ("Awesome Python", "CLI", "Other")


def test_same_titled_headings_stay_apart(awesome: str) -> None:
    catalog = parse_catalog(awesome, CATALOG)
    assert [(s.id, s.title) for s in catalog.sections] == [
        ("frameworks", "Frameworks"),
        ("web-other", "Web › Other"),
        ("cli-other", "CLI › Other"),
        ("self-hosted", "Self-hosted"),
    ]
    assert catalog.find("https://bottlepy.org/").section == "web-other"  # type: ignore[union-attr]
    assert catalog.find("https://click.palletsprojects.com/").section == "cli-other"  # type: ignore[union-attr]


def test_a_url_in_two_places_keeps_both_rows(awesome: str) -> None:
    catalog = parse_catalog(awesome, CATALOG)
    django = [r for r in catalog.resources if r.url == "https://www.djangoproject.com/"]
    assert [(r.id, r.section) for r in django] == [
        ("django", "frameworks"),
        ("django-2", "cli-other"),
    ]


def test_rows_follow_document_order_and_no_lines_are_stored(awesome: str) -> None:
    catalog = parse_catalog(awesome, CATALOG)
    assert [r.label for r in catalog.resources][:5] == [
        "Django",
        "Flask",
        "Bottle",
        "Click",
        "Django",
    ]
    assert "line" not in awesome


def test_secondary_links_are_labelled_by_the_item(awesome: str) -> None:
    catalog = parse_catalog(awesome, CATALOG)
    labels = {r.url: (r.id, r.label) for r in catalog.resources}
    assert labels["https://nextcloud.com/"] == ("nextcloud", "Nextcloud")
    assert labels["https://demo.nextcloud.com/"] == ("nextcloud-demo", "Nextcloud — Demo")
    assert labels["https://github.com/nextcloud/server"] == (
        "nextcloud-source-code",
        "Nextcloud — Source Code",
    )
    # a nested item is an item of its own
    assert labels["https://github.com/nextcloud/spreed"] == (
        "nextcloud-talk-source-code",
        "Nextcloud Talk — Source Code",
    )


def test_reimport_changes_nothing_and_a_new_row_lands_beside_its_neighbour(awesome: str) -> None:
    assert not import_roadmap(AWESOME, "README.md", awesome, CATALOG).changed
    grown = AWESOME.replace(
        "- [Bottle](https://bottlepy.org/) - Small.\n",
        "- [Bottle](https://bottlepy.org/) - Small.\n- [Falcon](https://falconframework.org/)\n",
    )
    result = import_roadmap(grown, "README.md", awesome, CATALOG)
    catalog = parse_catalog(result.text, CATALOG)
    urls = [r.url for r in catalog.resources]
    assert urls.index("https://falconframework.org/") == urls.index("https://bottlepy.org/") + 1
    assert catalog.find("https://falconframework.org/").section == "web-other"  # type: ignore[union-attr]
