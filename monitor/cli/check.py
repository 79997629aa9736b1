"""`monitor check`: check the catalog (and store the run), or any file's links (`--input`)."""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from monitor.cli.common import (
    DEFAULT_CATALOG,
    EXIT_NETWORK,
    EXIT_OK,
    EXIT_PROBLEMS,
    CatalogOption,
    DbOption,
    console,
    err_console,
    fail,
    load_or_exit,
    open_store,
    shown,
)
from monitor.cli.progress import LinkReport
from monitor.config.catalog import (
    Catalog,
    CatalogError,
    EngineSettings,
    HostLimits,
    infer_kind,
    parse_catalog,
)
from monitor.config.trust import env_api_problem, ignored_settings, with_trusted_settings
from monitor.domain.models import CheckResult, Resource, Verdict
from monitor.reports.formats import (
    VERDICT_ORDER,
    Sources,
    sorted_results,
    summary_line,
    to_json,
    to_markdown,
    to_plain,
    to_text,
    where,
)
from monitor.run.session import Plan, Session, Setup, run_session
from monitor.sources.changes import ChangesError, changed_resources, text_at_ref

if TYPE_CHECKING:  # the store (sqlalchemy) loads only when a command opens one
    from monitor.store.database import Store

__all__ = ["VERDICT_ORDER", "check", "register"]


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


# --max-age: "6h", "30m", "1d12h", "90s", "2w".
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_AGE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_age(text: str) -> timedelta:
    compact = text.strip().lower().replace(" ", "")
    if not compact or _AGE.sub("", compact):
        raise ValueError(f"--max-age {text!r}: write a duration such as 30m, 6h or 2d")
    return timedelta(seconds=sum(float(n) * _AGE_UNITS[unit] for n, unit in _AGE.findall(compact)))


def parse_remap(text: str) -> tuple[re.Pattern[str], str]:
    parts = text.strip().split(None, 1)
    if len(parts) != 2:
        raise ValueError(f"--remap {text!r}: write 'REGEX REPLACEMENT'")
    try:
        return re.compile(parts[0]), parts[1]
    except re.error as exc:
        raise ValueError(f"--remap {text!r}: bad regular expression: {exc}") from None


def parse_host_limit(text: str) -> tuple[str, HostLimits]:
    m = re.fullmatch(r"\s*([^=\s]+)\s*=\s*(\d+)\s*(?:/\s*(\d+)\s*)?", text)
    if not m:
        raise ValueError(f"--host-limit {text!r}: write HOST=CONCURRENCY[/INTERVAL_MS]")
    try:
        interval = int(m.group(3)) if m.group(3) is not None else None
        limits = HostLimits(concurrency=int(m.group(2)), min_interval_ms=interval)
    except ValidationError as exc:
        raise ValueError(f"--host-limit {text!r}: {exc.errors()[0]['msg']}") from None
    return m.group(1).lower(), limits


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name.strip()):
        raise ValueError(f"--header {text!r}: write 'Name: value'")
    return name.strip(), value.strip()


def parse_fail_on(text: str) -> frozenset[Verdict]:
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    known = {v.value for v in Verdict}
    bad = [name for name in names if name not in known]
    if bad or not names:
        raise ValueError(
            f"--fail-on {text!r}: choose among {', '.join(v.value for v in VERDICT_ORDER)}"
        )
    return frozenset(Verdict(name) for name in names)


def _engine_settings(base: EngineSettings, updates: dict[str, Any]) -> EngineSettings:
    data = base.model_dump()
    data.update({k: v for k, v in updates.items() if v is not None})
    try:
        return EngineSettings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"engine setting {where}: {err['msg']}") from None


# -- ad-hoc mode ---------------------------------------------------------------------------


def adhoc_resources(
    names: Sequence[str], *, images: bool = True, allow_private: bool = False
) -> tuple[list[Resource], dict[str, tuple[str, str]], Path]:
    """The links of the inputs as resources (first place wins), their sources, and the
    folder relative file links resolve against.

    The resource id is the URL itself: stable across runs, so `--max-age` with `--db` works.
    """
    from monitor.sources.inputs import collect, fetch_text

    found, base = collect(
        names, images=images, fetch=lambda url: fetch_text(url, allow_private=allow_private)
    )
    resources = [
        Resource(
            id=f.url,
            url=f.url,
            kind=infer_kind(f.url),
            section=f.section,
            label=f.label,
            skip_reason=f.skip_reason,
        )
        for f in found
    ]
    return resources, {f.url: (f.source, f.label) for f in found}, base


def _adhoc_or_exit(
    names: Sequence[str], images: bool, allow_private: bool
) -> tuple[list[Resource], dict[str, tuple[str, str]], Path]:
    from monitor.sources.inputs import InputError

    try:
        return adhoc_resources(names, images=images, allow_private=allow_private)
    except InputError as exc:
        raise fail(str(exc)) from None


# -- progress ------------------------------------------------------------------------------


def _report(quiet: bool) -> LinkReport:
    """A Rich bar on a terminal, plain lines otherwise (CI logs); both on stderr, so
    `--format json` on stdout stays parseable."""
    if quiet:
        return LinkReport("quiet")
    return LinkReport("bar" if err_console.is_terminal else "log", console=err_console)


# -- the command ---------------------------------------------------------------------------


def check(
    catalog: CatalogOption = DEFAULT_CATALOG,
    db: DbOption = None,
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="INPUT",
            help="Check the links of these Markdown, HTML or plain URL-list files instead of "
            "the catalog: paths, '-' for standard input, or http(s) URLs (nothing is stored "
            "unless --db is given).",
            show_default=False,
        ),
    ] = None,
    input_files: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            help="An input as above (repeatable; added to the positional ones).",
            show_default=False,
        ),
    ] = None,
    dump: Annotated[
        bool,
        typer.Option(
            "--dump/--no-dump",
            help="List the links that would be checked (url, file:line, label) and check nothing.",
        ),
    ] = False,
    images: Annotated[
        bool,
        typer.Option(
            "--images/--no-images",
            help="Check image sources (`![alt](src)`, `<img src>`) of the inputs too.",
        ),
    ] = True,
    output_format: Annotated[
        Format, typer.Option("--format", "-f", help="Output format.")
    ] = Format.TEXT,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to this file instead of stdout."),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(help="Skip URLs matching this regular expression (repeatable)."),
    ] = None,
    remap: Annotated[
        list[str] | None,
        typer.Option(
            help="'REGEX REPLACEMENT': rewrite matching URLs before fetching, e.g. to a "
            "mirror or a test server (repeatable; the first match wins)."
        ),
    ] = None,
    max_age: Annotated[
        str | None,
        typer.Option(
            help="Reuse a stored result younger than this (30m, 6h, 2d) instead of checking "
            "again; errors are always rechecked. Needs the database."
        ),
    ] = None,
    fail_on: Annotated[
        str, typer.Option(help="Verdicts that make the exit code 1, comma-separated.")
    ] = "broken",
    allow_private: Annotated[
        bool,
        typer.Option(
            "--allow-private/--no-allow-private",
            help="Allow loopback, private and link-local addresses.",
        ),
    ] = False,
    host_limit: Annotated[
        list[str] | None,
        typer.Option(help="HOST=CONCURRENCY\\[/INTERVAL_MS]: per-host politeness (repeatable)."),
    ] = None,
    user_agent: Annotated[
        str | None,
        typer.Option(
            help="User-Agent header to send \\[default: \\[engine] user_agent, monitor's]."
        ),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option(help="'Name: value' extra request header (repeatable).")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Requests in flight at once, all hosts together "
            "\\[default: \\[engine] concurrency, 128]."
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds one link may take, retries included "
            "\\[default: \\[engine] deadline_s, 60]."
        ),
    ] = None,
    recheck_interval: Annotated[
        int | None,
        typer.Option(
            help="Milliseconds between requests to one host in the second opinion on "
            "failures (default 1000)."
        ),
    ] = None,
    trust_dns: Annotated[
        bool,
        typer.Option(
            "--trust-dns/--no-trust-dns",
            help="Call a link whose host name does not resolve broken even when no other "
            "name resolved in this run (by default that proves nothing: the resolver may be "
            "down or lying).",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet/--no-quiet", "-q", help="No progress bar or per-link log lines."),
    ] = False,
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since",
            metavar="REF",
            help="Check only the links that the diff from git REF adds or changes in the "
            "README or the catalog, for pull requests (stored only with --db).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check every resource of the catalog and store the results as one run, or check the
    links of any file with --input.

    Examples:

        monitor check

        monitor check --catalog my-list.toml --db sqlite:///tmp/history.sqlite

        monitor check --input README.md --format markdown --output report.md

        monitor check -i links.txt --format json --exclude 'linkedin\\.com' --fail-on broken,moved

        monitor check -i docs/index.html --remap 'https://example\\.org http://127.0.0.1:8000'

        monitor check --changed-since origin/main

    Exit codes: 0 healthy, 1 failing verdicts found (--fail-on), 2 usage or configuration
    error, 3 the network itself was unusable (no link is called broken because of it; a
    missing local file still is, and then the code is 1).
    """
    try:
        fail_verdicts = parse_fail_on(fail_on)
        age = parse_age(max_age) if max_age is not None else None
        remaps = [parse_remap(r) for r in remap or []]
        excludes = [re.compile(x) for x in exclude or []]
        host_limits = dict(parse_host_limit(h) for h in host_limit or [])
        headers = dict(parse_header(h) for h in header or [])
    except re.error as exc:
        raise fail(f"--exclude: bad regular expression: {exc}") from None
    except ValueError as exc:
        raise fail(str(exc)) from None
    if (problem := env_api_problem()) is not None:
        raise fail(problem)

    names = [*(inputs or []), *(input_files or [])]
    target = _target(catalog, db, names, images, allow_private, changed_since, age)
    resources, sources, setup = target.resources, target.sources, target.setup
    if dump:
        _dump(resources, sources, excludes)
        raise typer.Exit(EXIT_OK)
    try:
        engine = _engine_settings(
            setup.engine,
            {
                "allow_private": True if allow_private else None,
                "user_agent": user_agent,
                "headers": {**setup.engine.headers, **headers} if headers else None,
                "concurrency": concurrency,
                "recheck_interval_ms": recheck_interval,
                **(_timeouts(setup.engine, timeout) if timeout is not None else {}),
            },
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    setup = replace(setup, engine=engine, hosts={**setup.hosts, **host_limits}, remap=remaps)
    plan = Plan(
        resources,
        exclude=excludes,
        max_age=age,
        trigger=target.trigger,
        trust_dns=trust_dns,
        known_good=[r for r in target.unchanged if not any(x.search(r.url) for x in excludes)],
    )

    use_store = (not names and changed_since is None) or db is not None
    # Start-up is over: what was imported and loaded lives until exit. Frozen, the collector
    # stops walking those ~10^5 objects on every full collection of the run (a one-shot
    # command; the scheduler's long-lived process does not freeze).
    gc.freeze()
    report = _report(quiet)
    with _maybe_store(db, use_store, None if names else catalog) as store:
        try:
            done = run_session(plan, setup, store, progress=report)
        finally:
            report.close()
    report.finish(done.results)
    _emit(done.results, done.run.network_ok, output_format, output, sources)
    raise typer.Exit(_exit_code(done, fail_verdicts, recorded=store is not None))


@dataclass(frozen=True)
class _Target:
    """What one `monitor check` checks, and where each link was written."""

    resources: list[Resource]
    sources: dict[str, tuple[str, str]]  # resource id -> (file:line, label)
    setup: Setup
    trigger: str
    unchanged: list[Resource]  # the catalog's other links: known-good hosts for the evidence


def _target(
    catalog: Path,
    db: str | None,
    names: list[str],
    images: bool,
    allow_private: bool,
    changed_since: str | None,
    age: timedelta | None,
) -> _Target:
    """Input files' links, or the catalog's (all, or those a diff changed, with the base
    ref's trusted settings)."""
    if names:
        if changed_since is not None:
            raise fail("--changed-since reads the catalog and README; drop the inputs")
        if age is not None and db is None:
            raise fail("--max-age with inputs needs --db (ad-hoc checks are stored only there)")
        resources, sources, base_dir = _adhoc_or_exit(names, images, allow_private)
        setup = Setup(base_dir=base_dir, want_metadata=False)
        return _Target(resources, sources, setup, "adhoc", [])
    from monitor.sources.locate import locate

    cat = load_or_exit(catalog)
    resources = list(cat.resources)
    if changed_since is not None:
        resources = _changed_or_exit(cat, changed_since)
        cat = _trusted_settings(cat, changed_since)
    places = locate(cat)
    sources = {r.id: (places.get(r.id, ""), r.label) for r in resources}
    changed = {r.id for r in resources}
    unchanged = [r for r in cat.resources if r.id not in changed]
    return _Target(resources, sources, Setup.of_catalog(cat), "cli", unchanged)


def _exit_code(done: Session, fail_verdicts: frozenset[Verdict], *, recorded: bool) -> int:
    """1 when a failing verdict stands on evidence the network cannot explain (a missing
    local file, an HTTP answer), even in a run whose network was unusable; else 3 for such
    a run; else 0."""
    failing = any(r.verdict in fail_verdicts and not r.network_failure for r in done.results)
    if not done.run.network_ok:
        err_console.print(
            "[bold yellow]network unusable:[/] nearly every host failed at DNS or connect "
            "level and no known-good host answered; their links are recorded as error, never "
            "broken" + ("; the run is recorded." if recorded else "."),
            soft_wrap=True,
        )
        return EXIT_PROBLEMS if failing else EXIT_NETWORK
    return EXIT_PROBLEMS if any(r.verdict in fail_verdicts for r in done.results) else EXIT_OK


def _trusted_settings(cat: Catalog, ref: str) -> Catalog:
    """The catalog under review with the privileged settings of the one at `ref` (the base
    branch): a pull request cannot widen what its own check reaches or sends (issue 16)."""
    try:
        text = text_at_ref(ref, cat.path)
        trusted = parse_catalog(text, cat.path) if text.strip() else None
    except (ChangesError, CatalogError):
        trusted = None  # no usable base catalog: the defaults, never the PR's
    ignored = ignored_settings(cat, trusted)
    if ignored:
        err_console.print(
            f"ignored from the catalog under review (taken from {escape(ref)} instead): "
            + ", ".join(ignored),
            soft_wrap=True,
            markup=False,
        )
    return with_trusted_settings(cat, trusted)


def _changed_or_exit(cat: Catalog, ref: str) -> list[Resource]:
    try:
        resources = changed_resources(cat, ref)
    except ChangesError as exc:
        raise fail(str(exc)) from None
    if not resources:
        console.print(f"no link added or changed since {ref}")
        raise typer.Exit(EXIT_OK)
    err_console.print(f"{len(resources)} link(s) added or changed since {ref}")
    return resources


def _timeouts(base: EngineSettings, seconds: float) -> dict[str, float]:
    return {
        "deadline_s": seconds,
        "connect_timeout_s": min(base.connect_timeout_s, seconds),
        "read_timeout_s": min(base.read_timeout_s, seconds),
    }


@contextmanager
def _maybe_store(db: str | None, wanted: bool, catalog: Path | None) -> Iterator[Store | None]:
    if not wanted:
        yield None
        return
    with open_store(db, catalog=catalog) as store:
        yield store


def _emit(
    results: Sequence[CheckResult],
    network_ok: bool,
    fmt: Format,
    output: Path | None,
    sources: Sources,
) -> None:
    if fmt is Format.JSON:
        text = to_json(results, network_ok=network_ok, sources=sources)
    elif fmt is Format.MARKDOWN:
        text = to_markdown(results, network_ok=network_ok, sources=sources)
    elif output is not None:
        text = to_text(results, network_ok=network_ok, sources=sources)
    elif not console.is_terminal:
        # A pipe: one grep-able line per link, the counts on stderr.
        text = to_plain(results, sources=sources)
        err_console.print(summary_line(results), markup=False, highlight=False)
    else:
        _print_summary(results, sources)
        return
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror or exc}") from None


def _print_summary(results: Sequence[CheckResult], sources: Sources) -> None:
    """The terminal summary: a table of every link that is not ok, problems first."""
    problems = [r for r in sorted_results(results) if r.verdict is not Verdict.OK]
    if problems:
        table = Table(title="monitor check", show_lines=False)
        table.add_column("verdict")
        table.add_column("link", overflow="fold")
        table.add_column("source", overflow="fold")
        table.add_column("detail", overflow="fold")
        for result in problems:
            table.add_row(
                result.verdict.value,
                shown(result.url),
                shown(where(result, sources)),
                shown(result.describe()),
            )
        console.print(table)
    console.print(summary_line(results))


def _dump(
    resources: Sequence[Resource], sources: Sources, excludes: Sequence[re.Pattern[str]]
) -> None:
    """`--dump`: what would be checked, one line each: url<TAB>file:line<TAB>label."""
    for resource in resources:
        if any(x.search(resource.url) for x in excludes):
            continue
        source, label = sources.get(resource.id, ("", resource.label))
        fields = (resource.url, source, label)
        sys.stdout.write("\t".join(" ".join(f.split()) for f in fields) + "\n")
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command(name="check")(check)
