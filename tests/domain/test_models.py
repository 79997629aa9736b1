"""Core values: the one-line description of a result."""

from __future__ import annotations

from monitor.domain.models import CheckResult, Hop, Verdict


def test_describe_and_reason_one_line_per_result() -> None:
    gone = CheckResult("r", "https://e.org/", Verdict.BROKEN, status=404, note="confirmed")
    assert gone.reason() == "HTTP 404"
    assert gone.describe() == "HTTP 404; confirmed"
    moved = CheckResult("r", "https://e.org/", Verdict.MOVED, status=301, moved_to="https://n/")
    assert moved.describe() == "HTTP 301; moved to https://n/"
    timeout = CheckResult("r", "https://e.org/", Verdict.ERROR, error="timed out")
    assert timeout.reason() == timeout.describe() == "timed out"
    # the status that moved the link, not the one of the page it led to
    chain = (Hop("https://e.org/", 301), Hop("https://n/", 200))
    followed = CheckResult(
        "r", "https://e.org/", Verdict.MOVED, status=200, redirects=chain, moved_to="https://n/"
    )
    assert followed.describe() == "HTTP 301; moved to https://n/"
    # an error that already names the status is not preceded by it again
    limited = CheckResult(
        "r", "https://e.org/", Verdict.BLOCKED, status=429, error="HTTP 429 (rate limited)"
    )
    assert limited.describe() == "HTTP 429 (rate limited)"
    ok = CheckResult("r", "https://e.org/", Verdict.OK, status=200)
    assert ok.describe() == "" and ok.reason() == "HTTP 200"
