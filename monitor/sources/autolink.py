"""GitHub's autolinks, as a markdown-it inline rule: what cmark-gfm's autolink extension
(extensions/autolink.c) turns into a link, and nothing else.

GitHub renders `https://x.org/a`, `www.x.org` and `ftp://x.org` written bare in text as links,
with its own rules for where they end (trailing `?!.,:*_~'"` dropped, a `)` kept only when
balanced, an entity-like `&gt;` tail dropped) and where they may start (`www.` only after a
space, the start of the text or `*_~(`; a scheme only as a whole word). markdown-it's linkify
follows other rules (linkify-it: fuzzy links, `_` kept at the end of `_https://x.org/y_`), so
this rule replaces it. `tests/sources/test_extract.py` compares the result with cmark-gfm
itself (the `cmarkgfm` binding) on every fixture and on generated documents.

Linear time: each position is looked at a bounded number of times; the balanced-parenthesis
count is kept as the end moves back instead of recounted (cmark-gfm recounts: quadratic on
`)))…`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

SCHEMES = ("http", "https", "ftp")
# cmark's `cmark_isspace`: the ASCII whitespace that ends an autolink.
_SPACE = frozenset(" \t\n\x0b\x0c\r")
_TRAILING = frozenset("?!.,:*_~'\"")


def _is_hostchar(char: str) -> bool:
    """cmark's `is_valid_hostchar`: neither Unicode whitespace nor punctuation."""
    category = unicodedata.category(char)
    return not (char.isspace() or category.startswith("P") or category == "Zs")


def check_domain(text: str, start: int, limit: int, allow_short: bool) -> int:
    """cmark's `check_domain` on `text[start:limit]`: the domain's length, or 0 when it is not
    one (an underscore in its last two labels; no dot when `allow_short` is false)."""
    size = limit - start
    dots = underscore_last = underscore_current = 0
    i = 1
    while i < size - 1:
        char = text[start + i]
        if char == "_":
            underscore_current += 1
        elif char == ".":
            underscore_last, underscore_current = underscore_current, 0
            dots += 1
        elif char != "-" and not _is_hostchar(char):
            break
        i += 1
    if underscore_last or underscore_current:
        return 0
    if allow_short:
        return i
    return i if dots else 0


def autolink_end(text: str, start: int, end: int) -> int:
    """cmark's `autolink_delim` on `text[start:end]`: where the link really ends."""
    lt = text.find("<", start, end)
    if lt != -1:
        end = lt
    opening = closing = -1  # counted once, on the first ")" at the end
    while end > start:
        char = text[end - 1]
        if char in _TRAILING:
            end -= 1
        elif char == ";":
            new_end = end - 2
            while new_end > start and text[new_end].isascii() and text[new_end].isalpha():
                new_end -= 1
            if new_end < end - 2 and text[new_end] == "&":
                end = new_end
            else:
                end -= 1
        elif char == ")":
            if opening < 0:
                opening = text.count("(", start, end)
                closing = text.count(")", start, end)
            if closing <= opening:
                break
            end -= 1
            closing -= 1
        else:
            break
    return end


def _run_end(text: str, pos: int, limit: int) -> int:
    while pos < limit and text[pos] not in _SPACE:
        pos += 1
    return pos


@dataclass
class _Brackets:
    """Where cmark's bracket stack is not empty: no autolink starts inside `[...` (a link's
    text, or a bracket never closed). Computed once per paragraph: linear."""

    src: str
    open_at: list[bool]


def _backtick_runs(src: str) -> dict[int, list[int]]:
    """Where each run of backticks starts, by run length, in order."""
    runs: dict[int, list[int]] = {}
    i, n = 0, len(src)
    while i < n:
        if src[i] == "`":
            j = i
            while j < n and src[j] == "`":
                j += 1
            runs.setdefault(j - i, []).append(i)
            i = j
        else:
            i += 1
    return runs


class _CodeSpans:
    """Where a code span that starts at a backtick run ends: at the next run of the same
    length (one pointer per length moves forward only, so the whole scan stays linear)."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.runs = _backtick_runs(src)
        self.next_run = dict.fromkeys(self.runs, 0)

    def end(self, i: int) -> int:
        j = i
        while j < len(self.src) and self.src[j] == "`":
            j += 1
        length = j - i
        if length not in self.runs:  # the rest of a run whose first backtick was escaped
            return j
        starts, k = self.runs[length], self.next_run[length]
        while k < len(starts) and starts[k] <= i:
            k += 1
        if k == len(starts):  # no closing run: the backticks are text
            self.next_run[length] = k
            return j
        self.next_run[length] = k + 1
        return starts[k] + length


def _brackets(state: StateInline) -> list[bool]:
    cached = state.env.get("_gfm_brackets")
    if isinstance(cached, _Brackets) and cached.src is state.src:
        return cached.open_at
    src = state.src
    n = len(src)
    spans = _CodeSpans(src)
    open_at = [False] * (n + 1)
    depth = 0
    i = 0
    while i < n:
        char = src[i]
        if char == "\\" and i + 1 < n:
            stop = i + 2
        elif char == "`":  # a code span hides its brackets
            stop = spans.end(i)
        else:
            stop = i + 1
        open_at[i:stop] = [depth > 0] * (stop - i)  # what was open before this character
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        i = stop
    open_at[n] = depth > 0
    state.env["_gfm_brackets"] = _Brackets(src, open_at)
    return open_at


def _push_link(state: StateInline, url: str, text: str) -> None:
    token = state.push("link_open", "a", 1)
    token.attrs = {"href": url}
    token = state.push("text", "", 0)
    token.content = text
    token = state.push("link_close", "a", -1)


def gfm_autolink(state: StateInline, silent: bool) -> bool:
    """The inline rule: `scheme://…` at its ":" and `www.…` at its "w".

    Not `state.linkLevel`: markdown-it raises it inside an inline HTML `<a>` too, where
    cmark-gfm still autolinks; a Markdown link's text is inside brackets (`_brackets`)."""
    src, pos, limit = state.src, state.pos, state.posMax
    char = src[pos]
    if char == ":":
        return _url_match(state, silent, src, pos, limit)
    if char == "w":
        return _www_match(state, silent, src, pos, limit)
    return False


def _url_match(state: StateInline, silent: bool, src: str, pos: int, limit: int) -> bool:
    if limit - pos < 4 or src[pos + 1 : pos + 3] != "//":
        return False
    # cmark rewinds over the letters before ":": they must be exactly a scheme ("xhttp://" is
    # not a link). Six letters are enough to tell.
    tail = state.pending[-6:]
    k = len(tail)
    while k > 0 and tail[k - 1].isascii() and tail[k - 1].isalpha():
        k -= 1
    name = tail[k:]
    if name.lower() not in SCHEMES:
        return False
    if _brackets(state)[pos]:
        return False
    after = pos + 3
    if not _is_hostchar(src[after]):
        return False
    domain = check_domain(src, after, limit, allow_short=True)
    if domain == 0:
        return False
    end = autolink_end(src, pos, _run_end(src, after + domain, limit))
    if end <= pos:
        return False
    if not silent:
        state.pending = state.pending[: -len(name)]
        url = name + src[pos:end]
        _push_link(state, url, url)
    state.pos = end
    return True


def _www_match(state: StateInline, silent: bool, src: str, pos: int, limit: int) -> bool:
    if pos > 0 and src[pos - 1] not in "*_~(" and src[pos - 1] not in _SPACE:
        return False
    if limit - pos < 4 or src[pos : pos + 4] != "www.":
        return False
    if _brackets(state)[pos]:
        return False
    domain = check_domain(src, pos, limit, allow_short=False)
    if domain == 0:
        return False
    end = autolink_end(src, pos, _run_end(src, pos + domain, limit))
    if end <= pos:
        return False
    if not silent:
        text = src[pos:end]
        _push_link(state, "http://" + text, text)
    state.pos = end
    return True


def use_gfm_autolinks(md: MarkdownIt) -> None:
    """Replace markdown-it's linkify with GitHub's autolinks ("w" must end a text run)."""
    md.inline.ruler.before("text", "gfm_autolink", gfm_autolink)
    md.inline.terminator_re = re.compile(f"{md.inline.terminator_re.pattern}|w")
