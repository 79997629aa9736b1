"""List annotation mode: the author's bullet list stays byte for byte, each item gets only a
generated suffix between invisible delimiters, and regenerating is idempotent."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.reports.context import ReportContext
from monitor.reports.readme import SUFFIX, ReadmeError, rewrite
from tests.report_fixture import build_context

VIDEO_OK = "https://www.youtube.com/watch?v=aaaaaaaaaaa"
VIDEO_PRIVATE = "https://www.youtube.com/watch?v=bbbbbbbbbbb"

SECONDARY = "([Moved](https://github.com/old-owner/repo), [fine](https://title.example.com/))"
TRAILING = "   "  # the author's trailing spaces
README = f"""# My list

Prose outside stays.

## Videos

<!-- monitor:begin section=videos mode=list -->
- [How LLMs Work]({VIDEO_OK}) - a talk, *worth it*.{TRAILING}
- [What are LLMs?]({VIDEO_PRIVATE}) - long description that
  wraps onto a second line.
  - a nested note without a link
- Not a link at all
* [Unknown](https://not-in-the-catalog.example.com/) - kept as is
<!-- monitor:end -->

## Resources

<!-- monitor:begin section=resources mode=list -->
1. [LLM Course](https://github.com/mlabonne/llm-course) {SECONDARY} `Python`
2. [Not checked yet](https://new.example.com/)
<!-- monitor:end -->

```markdown
<!-- monitor:begin section=videos mode=list -->
- [How LLMs Work]({VIDEO_OK}) - inside a code block: never touched
<!-- monitor:end -->
```
"""


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> ReportContext:
    return build_context(tmp_path_factory.mktemp("readme-list"), locale="en")


def _line(text: str, start: str) -> str:
    return next(line for line in text.split("\n") if line.startswith(start))


def test_each_item_gets_its_suffix(ctx: ReportContext) -> None:
    out = rewrite(README, ctx)
    # ok, 754 s of video (13 minutes); the author's trailing spaces stay after the suffix
    assert _line(out, "- [How LLMs Work]") == (
        f"- [How LLMs Work]({VIDEO_OK}) - a talk, *worth it*. "
        "<!--monitor-->✅ · ⏱ 13 min<!--/monitor-->   "
    )
    # down after two broken runs: the suffix ends the item's paragraph, on its last line
    assert f"- [What are LLMs?]({VIDEO_PRIVATE}) - long description that\n" in out
    assert "  wraps onto a second line. <!--monitor-->❌ · ⏱ 13 min<!--/monitor-->\n" in out
    # stars of the repo; its secondary link that moved is named, the healthy one is not
    assert _line(out, "1. [LLM Course]") == (
        "1. [LLM Course](https://github.com/mlabonne/llm-course) "
        "([Moved](https://github.com/old-owner/repo), [fine](https://title.example.com/)) "
        "`Python` <!--monitor-->✅ · ⭐ 41.2K · Moved ↪️<!--/monitor-->"
    )


def test_items_without_a_known_link_or_state_are_untouched(ctx: ReportContext) -> None:
    out = rewrite(README, ctx)
    for line in (
        "  - a nested note without a link\n",
        "- Not a link at all\n",
        "* [Unknown](https://not-in-the-catalog.example.com/) - kept as is\n",
        "2. [Not checked yet](https://new.example.com/)\n",  # never checked: nothing to say
    ):
        assert line in out


def test_every_original_byte_stays_and_the_code_block_is_untouched(ctx: ReportContext) -> None:
    out = rewrite(README, ctx)
    assert SUFFIX.sub("", out) == README
    fence = README[README.index("```markdown") :]
    assert out.endswith(fence)


def test_regenerating_is_idempotent(ctx: ReportContext) -> None:
    once = rewrite(README, ctx)
    assert rewrite(once, ctx) == once


def test_an_edit_to_the_item_survives_and_the_suffix_is_rewritten(ctx: ReportContext) -> None:
    once = rewrite(README, ctx)
    edited = once.replace("a talk, *worth it*.", "a talk, *really* worth it.").replace(
        "✅ · ⏱ 13 min<!--/monitor-->   ", "❌ stale by hand<!--/monitor-->   "
    )
    again = rewrite(edited, ctx)
    assert _line(again, "- [How LLMs Work]") == (
        f"- [How LLMs Work]({VIDEO_OK}) - a talk, *really* worth it. "
        "<!--monitor-->✅ · ⏱ 13 min<!--/monitor-->   "
    )


def test_an_item_without_stars_shows_its_repository_s(ctx: ReportContext) -> None:
    readme = (
        "<!-- monitor:begin section=resources mode=list -->\n"
        "- [Moved](https://github.com/old-owner/repo) "
        "([Source Code](https://github.com/mlabonne/llm-course)) ([Again](https://github.com/old-owner/repo))\n"
        "<!-- monitor:end -->\n"
    )
    out = rewrite(readme, ctx)
    # the repository's stars; the main URL linked again is not a secondary link
    assert out.endswith("<!--monitor-->↪️ · ⭐ 41.2K<!--/monitor-->\n<!-- monitor:end -->\n")


def test_suffix_parts_follow_the_catalog(ctx: ReportContext) -> None:
    out = rewrite(README, ctx, parts=("status",))
    assert "<!--monitor-->✅<!--/monitor-->" in out
    assert "⏱" not in out and "⭐" not in out


def test_crlf_lines_keep_their_endings(ctx: ReportContext) -> None:
    crlf = README.replace("\n", "\r\n")
    out = rewrite(crlf, ctx)
    assert "<!--/monitor-->\r\n" in out and "\n" not in out.replace("\r\n", "")
    assert SUFFIX.sub("", out) == crlf


def test_a_hostile_secondary_link_text_stays_inert(ctx: ReportContext) -> None:
    readme = (
        "<!-- monitor:begin section=resources mode=list -->\n"
        "- [LLM Course](https://github.com/mlabonne/llm-course) "
        "[<!--/monitor--> *x* [y](javascript:z)](https://github.com/old-owner/repo)\n"
        "<!-- monitor:end -->\n"
    )
    out = rewrite(readme, ctx)
    suffix = out.split("<!--monitor-->", 1)[1].split("\n")[0]
    assert suffix.count("<!--/monitor-->") == 1
    assert "javascript" not in suffix or "\\[" in suffix
    assert rewrite(out, ctx) == out


def test_unknown_mode_names_the_line(ctx: ReportContext) -> None:
    with pytest.raises(ReadmeError) as info:
        rewrite("x\n<!-- monitor:begin section=videos mode=grid -->\n<!-- monitor:end -->\n", ctx)
    assert info.value.line == 2 and "unknown mode 'grid'" in str(info.value)


_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    ),
    max_size=40,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(descriptions=st.lists(_TEXT, min_size=1, max_size=4))
def test_any_item_text_survives(ctx: ReportContext, descriptions: list[str]) -> None:
    items = "".join(f"- [How LLMs Work]({VIDEO_OK}) - {d}\n" for d in descriptions)
    readme = f"<!-- monitor:begin section=videos mode=list -->\n{items}<!-- monitor:end -->\n"
    out = rewrite(readme, ctx)
    assert SUFFIX.sub("", out) == readme
    assert rewrite(out, ctx) == out
    assert re.search(r"<!--monitor-->✅", out)
