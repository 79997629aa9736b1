from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.domain.models import CheckResult, Metadata, Run, Verdict
from monitor.domain.state import (
    BAD,
    State,
    changes,
    failure_streak,
    replay,
    resource_state,
    timeline,
)
from monitor.store.database import StoredCheck

T0 = datetime(2026, 11, 1, 3, tzinfo=UTC)
V = Verdict


def _check(
    i: int, verdict: Verdict, network_ok: bool = True, meta: Metadata | None = None, **kw: object
) -> StoredCheck:
    at = T0 + timedelta(days=i)
    run = Run(id=i + 1, started_at=at, network_ok=network_ok)
    result = CheckResult(
        resource_id="r",
        url="https://example.org/",
        verdict=verdict,
        checked_at=at,
        meta=meta or Metadata(),
        **kw,  # type: ignore[arg-type]
    )
    return StoredCheck(run=run, result=result)


def _history(*verdicts: Verdict | tuple[Verdict, bool]) -> list[StoredCheck]:
    out = []
    for i, item in enumerate(verdicts):
        verdict, ok = item if isinstance(item, tuple) else (item, True)
        out.append(_check(i, verdict, ok))
    return out


def _state(*verdicts: Verdict | tuple[Verdict, bool], down_after: int = 2) -> State:
    return resource_state("r", _history(*verdicts), T0 + timedelta(days=100), down_after).state


def test_never_checked_is_unknown() -> None:
    assert _state() is State.UNKNOWN
    assert _state((V.BROKEN, False), (V.ERROR, False)) is State.UNKNOWN


def test_debounce_one_failure_is_failing_two_are_down() -> None:
    assert _state(V.OK) is State.OK
    assert _state(V.OK, V.BROKEN) is State.FAILING
    assert _state(V.OK, V.BROKEN, V.ERROR) is State.DOWN
    assert _state(V.OK, V.BROKEN, down_after=1) is State.DOWN
    assert _state(V.OK, V.BROKEN, V.BROKEN, down_after=3) is State.FAILING


def test_recovered_lasts_one_run() -> None:
    assert _state(V.BROKEN, V.BROKEN, V.OK) is State.RECOVERED
    assert _state(V.BROKEN, V.BROKEN, V.OK, V.OK) is State.OK
    # failing once then ok is not a recovery: it was never down
    assert _state(V.OK, V.BROKEN, V.OK) is State.OK


def test_moved_blocked_skipped() -> None:
    assert _state(V.OK, V.MOVED) is State.MOVED
    assert _state(V.OK, V.BLOCKED) is State.BLOCKED
    assert _state(V.OK, V.SKIPPED) is State.SKIPPED


def test_blocked_never_counts_toward_down_nor_breaks_a_streak() -> None:
    assert _state(V.BLOCKED, V.BLOCKED, V.BLOCKED) is State.BLOCKED
    assert _state(V.OK, V.BROKEN, V.BLOCKED) is State.BLOCKED
    assert _state(V.OK, V.BROKEN, V.BLOCKED, V.BROKEN) is State.DOWN


def test_flaky_when_it_alternates() -> None:
    assert _state(V.OK, V.BROKEN, V.OK, V.BROKEN) is State.FLAKY
    assert _state(V.OK, V.BROKEN, V.OK, V.BROKEN, V.OK) is State.FLAKY
    # down wins over flaky
    assert _state(V.OK, V.BROKEN, V.OK, V.BROKEN, V.BROKEN) is State.DOWN


def test_network_down_runs_are_ignored() -> None:
    assert _state(V.OK, V.BROKEN, (V.BROKEN, False)) is State.FAILING
    assert _state(V.OK, V.BROKEN, (V.OK, False), V.BROKEN) is State.DOWN
    st_ = resource_state("r", _history(V.OK, (V.ERROR, False)), T0 + timedelta(days=5))
    assert st_.ignored == 1
    assert st_.latest is not None and st_.latest.verdict is V.OK


def test_since_is_when_the_current_state_began() -> None:
    h = _history(V.OK, V.OK, V.BROKEN, V.BROKEN, V.ERROR)
    st_ = resource_state("r", h, T0 + timedelta(days=10))
    assert st_.state is State.DOWN
    assert st_.since == T0 + timedelta(days=3)
    assert st_.failures == 3
    assert [t.state for t in st_.timeline] == [State.OK, State.FAILING, State.DOWN]


def test_uptime_windows() -> None:
    # 10 daily checks: days 0-4 ok, 5-9 broken; blocked checks do not count
    h = [_check(i, V.OK if i < 5 else V.BROKEN) for i in range(10)]
    h.append(_check(10, V.BLOCKED))
    now = T0 + timedelta(days=10, hours=1)
    st_ = resource_state("r", h, now)
    assert st_.uptime[7] == 1 / 6  # days 4 (ok) to 9 (broken); day 10 blocked can't tell
    assert st_.uptime[30] == 0.5
    assert st_.uptime[90] == 0.5
    assert resource_state("r", [], now).uptime[7] is None


def test_changes_between_last_two_usable_checks() -> None:
    old = _check(
        0,
        V.OK,
        meta=Metadata(title="A", duration_s=600, stars=100, archived=False),
        final_url="https://a/",
    )
    new = _check(
        1,
        V.OK,
        meta=Metadata(title="B", duration_s=660, stars=90, archived=True),
        final_url="https://b/",
    )
    got = {c.field: c for c in changes(old.result, new.result)}
    assert set(got) == {"title", "duration", "stars", "archived", "final_url"}
    assert got["stars"].delta == -10 and got["duration"].delta == 60
    assert got["title"].old == "A" and got["title"].new == "B"
    private = _check(2, V.BROKEN, error="video is private")
    vc = changes(new.result, private.result)
    assert [(c.field, c.old, c.new, c.reason) for c in vc] == [
        ("verdict", "ok", "broken", "video is private")
    ]
    # unknown metadata (a partial check) is not a change
    assert changes(old.result, _check(3, V.OK).result) == []
    # a network-down run in between is skipped: compare with the last usable one
    h = [old, _check(1, V.ERROR, network_ok=False), _check(2, V.OK, meta=Metadata(title="C"))]
    st_ = resource_state("r", h, T0 + timedelta(days=3))
    assert [(c.field, c.new) for c in st_.changes] == [("title", "C")]
    assert st_.meta.stars == 100  # gaps filled from older checks


def test_state_names_are_one_enum_sorted_problems_first() -> None:
    assert State.DOWN.severity < State.MOVED.severity < State.OK.severity
    assert State.DOWN.is_problem and not State.OK.is_problem
    assert State.RECOVERED.is_healthy and not State.FAILING.is_healthy


# -- properties ---------------------------------------------------------------------------

verdicts = st.sampled_from(list(Verdict))
usable_flags = st.booleans()
histories = st.lists(st.tuples(verdicts, usable_flags), max_size=30)
bad = st.sampled_from(sorted(BAD))
down_afters = st.integers(min_value=2, max_value=5)


@settings(max_examples=300, deadline=None)
@given(histories, bad, down_afters)
def test_a_single_failure_never_makes_a_resource_down(
    prefix: list[tuple[Verdict, bool]], failure: Verdict, n: int
) -> None:
    # a history that was not failing (ends good), then exactly one usable failure
    h = [*prefix, (V.OK, True), (failure, True)]
    assert _state(*h, down_after=n) is not State.DOWN


@settings(max_examples=300, deadline=None)
@given(
    histories,
    st.lists(bad, min_size=5, max_size=5),
    down_afters,
    st.lists(st.sampled_from([V.BLOCKED, V.OK, V.BROKEN]), max_size=5),
)
def test_n_consecutive_usable_failures_always_make_it_down(
    prefix: list[tuple[Verdict, bool]],
    failures: list[Verdict],
    n: int,
    noise: list[Verdict],
) -> None:
    # network-down runs (with any verdict) interleaved do not interrupt the streak
    tail: list[Verdict | tuple[Verdict, bool]] = []
    for i, failure in enumerate(failures[:n]):
        tail.append(failure)
        if i < len(noise):
            tail.append((noise[i], False))
    assert _state(*prefix, *tail, down_after=n) is State.DOWN


@settings(max_examples=300, deadline=None)
@given(histories, verdicts, down_afters)
def test_a_network_down_run_never_changes_state(
    prefix: list[tuple[Verdict, bool]], verdict: Verdict, n: int
) -> None:
    now = T0 + timedelta(days=100)
    before = resource_state("r", _history(*prefix), now, n)
    after = resource_state("r", _history(*prefix, (verdict, False)), now, n)
    assert (after.state, after.since, after.failures) == (
        before.state,
        before.since,
        before.failures,
    )


@settings(max_examples=200, deadline=None)
@given(histories, down_afters)
def test_timeline_and_streak_agree_with_replay(h: list[tuple[Verdict, bool]], n: int) -> None:
    steps = replay(_history(*h), n)
    trans = timeline(steps)
    assert len(trans) <= len(steps)
    if steps:
        assert trans[-1].state is steps[-1].state
        assert (steps[-1].state is State.DOWN) == (
            failure_streak(steps) >= n and steps[-1].check.result.verdict in BAD
        )
