"""The registry: an explicit list, most specific first, the web checker last as the fallback.

Adding a checker is one module plus one line here.
"""

from __future__ import annotations

from monitor.checkers.base import CheckContext, Checker
from monitor.checkers.course import CourseChecker
from monitor.checkers.file import FileChecker
from monitor.checkers.github import GithubChecker
from monitor.checkers.web import WebChecker
from monitor.checkers.youtube import YoutubeChecker
from monitor.domain.models import Resource

CHECKERS: tuple[Checker, ...] = (
    YoutubeChecker(),
    GithubChecker(),
    CourseChecker(),
    FileChecker(),
    WebChecker(),  # last: the fallback for every kind without its own checker
)


def checker_for(resource: Resource) -> Checker | None:
    for checker in CHECKERS:
        if checker.handles(resource):
            return checker
    return None


__all__ = ["CHECKERS", "CheckContext", "Checker", "checker_for"]
