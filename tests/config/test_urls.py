"""The one checkable-URL predicate: the catalog's validation, extraction and reports agree."""

from __future__ import annotations

import pytest

from monitor.config.urls import check_url, followable_url, is_checkable


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://a.com/x", True),
        ("HTTP://A.COM", True),
        ("docs/a.pdf", True),
        ("#section", False),
        ("mailto:a@b.com", False),
        ("ftp://a.com/f", False),
        ("/etc/passwd", False),
        ("//cdn.com/x.js", False),
        ("https://", False),
        ("a b.pdf", False),
        ("", False),
    ],
)
def test_is_checkable(url: str, ok: bool) -> None:
    assert is_checkable(url) is ok


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://e.org/x?a=1#b", True),
        ("http://e.org", True),
        ("docs/a.pdf", True),
        ("spacy_cheatsheet.pdf", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("data:text/html,x", False),
        ("//e.org/x", False),
        ("/etc/passwd", False),
        ("https://e.org/a b", False),
        ("https://", False),
        ("vbscript:x", False),
        ("", False),
        (None, False),
        ("a\nb", False),
    ],
)
def test_followable_url(url: str | None, safe: bool) -> None:
    assert (followable_url(url) is not None) is safe


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mailto:a@b.com", "scheme 'mailto'"),
        ("https://", "no host"),
        ("//cdn.com/x.js", "protocol-relative"),
        ("/etc/passwd", "absolute"),
        ("\\\\server\\share", "absolute"),
        ("c:x.pdf", "scheme 'c'"),
        ("1a:b.pdf", "drive or a scheme"),
        ("a\x00b.pdf", "control characters"),
        ("?q=1", "names no file"),
        ("a b", "whitespace"),
        ("", "empty"),
    ],
)
def test_check_url_names_the_problem(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_url(url)
    assert not is_checkable(url)
    assert followable_url(url) is None


def test_check_url_strips_and_keeps_the_rest() -> None:
    assert check_url("  https://e.org/a?b=1#c \n") == "https://e.org/a?b=1#c"
