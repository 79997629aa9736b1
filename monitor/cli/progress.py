"""What the terminal says about each link while `monitor check` runs: one place decides it.

A link's verdict is final only when the run ends: a failed first pass gets a second opinion,
and when the network turns out unusable the evidence stage makes every network failure an
`error`. So, on stderr (stdout stays free for `--format json`):

- a log line (not a terminal: CI logs) is printed live only when it cannot change: `ok`,
  `moved` and `skipped`; a failed first pass is printed as `first pass: broken 404, not
  final`; every other verdict is printed by `finish` from the session's final results. The last line
  printed for a link is therefore the verdict the summary, the JSON and the stored run hold.
- the second opinion is announced once, when the first pass ends, with the number of links
  queued for it;
- a progress bar (a terminal) counts links, not requests: its total is the number of links
  checked, a link advances it once, when its check is final, and the second opinion shows as
  a phase of the same bar.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from monitor.domain.models import CheckResult, Verdict
from monitor.domain.text import counted

# Verdicts no later stage changes: printed as soon as they are known.
SETTLED = frozenset({Verdict.OK, Verdict.MOVED, Verdict.SKIPPED})


def log_line(result: CheckResult) -> str:
    """`verdict status url  detail`: one line per link, the form CI logs get."""
    status = str(result.status) if result.status is not None else "-"
    line = f"{result.verdict.value:<8} {status:>3} {result.url}"
    extra = result.describe() if result.verdict is not Verdict.OK else ""
    return f"{line}  {extra}" if extra else line


def provisional_line(result: CheckResult) -> str:
    """A failed first pass, clearly not the verdict: `first pass: broken 404, not final`.

    Not "rechecking": when the network looks down, failures get no second opinion. A failure
    below HTTP (DNS, connect, TLS, timeout) is "no answer", never a verdict word: on a dead
    network it ends as `error`, and "broken" would be said of a link nobody judged."""
    if result.network_failure:
        return f"first pass: no answer, not final  {result.url}"
    status = f" {result.status}" if result.status is not None else ""
    return f"first pass: {result.verdict.value}{status}, not final  {result.url}"


class LinkReport:
    """Progress of one session (the `monitor.run.session.Progress` protocol) and its end.

    `mode` is "bar" (a Rich bar on `console`), "log" (plain lines on `stream`) or "quiet".
    """

    def __init__(self, mode: str, console: Console | None = None, stream: TextIO | None = None):
        self.mode = mode
        self.stream = stream or sys.stderr
        self.total = 0
        self.first_seen: set[str] = set()  # links whose first pass finished
        self.final: dict[str, Verdict] = {}  # links whose final line was printed live
        self.queued = 0  # links queued for a second opinion
        self.announced = False
        self.problems = 0
        self.bar: Progress | None = None
        if mode == "bar":
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[problems]}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.task = self.bar.add_task("checking", total=None, problems=counted(0, "problem"))

    # -- the Progress protocol --------------------------------------------------------------

    def start(self, total: int) -> None:
        self.total = total
        if self.bar is not None:
            self.bar.update(self.task, total=total)
            self.bar.start()

    def checked(self, result: CheckResult, provisional: bool) -> None:
        first = result.resource_id not in self.first_seen
        self.first_seen.add(result.resource_id)
        if provisional:
            self._say(provisional_line(result))
        else:
            self.problems += result.verdict.is_failure
            if self.bar is not None:
                self.bar.update(self.task, advance=1, problems=counted(self.problems, "problem"))
            if result.verdict in SETTLED:
                self.final[result.resource_id] = result.verdict
                self._say(log_line(result))
        if first and len(self.first_seen) == self.total:
            self._first_pass_done()

    def rechecking(self, count: int) -> None:
        self.queued += count
        if self.announced:  # queued after the announcement (the pipeline's own timing)
            self._say(f"second opinion: {counted(count, 'more failed link')}")

    # -- the end ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the bar (also when the session raised); idempotent."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None

    def finish(self, results: Sequence[CheckResult]) -> None:
        """Print each link's final verdict that was not printed yet (log mode)."""
        self.close()
        for result in results:
            if self.final.get(result.resource_id) is result.verdict:
                continue
            if result.resource_id in self.first_seen:  # checked in this run, not reused
                self._say(log_line(result))

    def _first_pass_done(self) -> None:
        self.announced = True
        if self.queued:
            self._say(f"second opinion: rechecking {counted(self.queued, 'failed link')}")
        if self.bar is not None and self.queued:
            self.bar.update(self.task, description=f"second opinion ({self.queued})")

    def _say(self, line: str) -> None:
        if self.mode == "log":
            self.stream.write(line + "\n")
            self.stream.flush()
