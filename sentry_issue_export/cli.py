"""The ``export-sentry-issue`` command: argument handling and wording over the library, nothing more.

Exit codes: 0 every issue exported, 1 some or all failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import attrs

from .errors import TOKEN_HELP, ConfigError, ExportError
from .refs import DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT, SORTS, IssueSearch
from .settings import DEFAULT_TIMEOUT, TIMEOUT_VARIABLE, RenderLimits, Settings, parse_timeout

if TYPE_CHECKING:
    from .models import IssueSummary
    from .plugins import Registry
    from .selection import SearchOutcome

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

EPILOG = """\
examples:
  export-sentry-issue --demo                         render the bundled samples, no account needed
  export-sentry-issue 12345 https://acme.sentry.io/issues/678/ PROJ-1A
  export-sentry-issue PROJ-1A --format markdown --output -
  export-sentry-issue --from-file debug_issue_123.json   (a debug dump, an API event or a raw SDK event)
  export-sentry-issue config init --base-url https://sentry.io/organizations/acme/
  export-sentry-issue config show | revoke

configuration: SENTRY_AUTH_TOKEN (or SENTRY_TOKEN), SENTRY_URL, SENTRY_ORG, SENTRY_PROJECT,
EXPORT_SENTRY_ISSUE_OUTPUT_DIR, EXPORT_SENTRY_ISSUE_SOURCE and EXPORT_SENTRY_ISSUE_SERVER override the saved config file
($XDG_CONFIG_HOME/export-sentry-issue/config.json); command-line options override both.
exit codes: 0 all exported, 1 some failed, 2 usage or configuration error.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="export-sentry-issue",
        description="Export Sentry issues as complete, readable, secret-free reports.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("refs", nargs="*", metavar="REF", help="issue URL, numeric id (12345, #12345) or short id")
    parser.add_argument("-f", "--format", help="output format: text (default), markdown, json, or a plugin's")
    parser.add_argument("-o", "--output", metavar="FILE", help="report file, or - for standard output")
    parser.add_argument("--output-dir", metavar="DIR", help="directory for reports (default: the working directory)")
    parser.add_argument("--templates", metavar="DIR", help="directory of templates that override the built-in ones")
    sources = parser.add_mutually_exclusive_group()
    sources.add_argument("--source", metavar="NAME", help="where issues come from: sentry (default) or a plugin's")
    sources.add_argument("--demo", action="store_true", help="the bundled sample issues, no network (--source samples)")
    sources.add_argument("--from-file", metavar="FILE", help="re-render a saved payload, no network (--source file)")
    parser.add_argument("--debug", action="store_true", help="also save the redacted raw payloads as JSON")
    parser.add_argument("--remove-pii", action="store_true", help="also remove emails, IP addresses and usernames")
    parser.add_argument("--base-url", help="Sentry URL for this run (needs its own token, see SENTRY_AUTH_TOKEN)")
    parser.add_argument("--org", help="organisation slug for this run")
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        metavar="N",
        help="requests in flight at once (default 8, or what the server advertises, up to 32)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"how long one request may take, connect to last byte (default {DEFAULT_TIMEOUT:g}; "
        f"also {TIMEOUT_VARIABLE})",
    )
    whole = parser.add_argument_group("the issue across all its events (0 turns a part off and asks nothing)")
    whole.add_argument(
        "--events",
        type=_part_size,
        metavar="N",
        help=f"recent events listed per issue, newest first (default {Settings().recent_events}, at most 100)",
    )
    whole.add_argument(
        "--tag-values",
        type=_part_size,
        metavar="N",
        help=f"top values shown per tag across all events (default {Settings().tag_values}, at most 100)",
    )
    search = parser.add_argument_group("search (export the issues a query finds, in the server's order)")
    search.add_argument("--query", metavar="QUERY", help="Sentry's search syntax, e.g. 'is:unresolved level:error'")
    search.add_argument("--project", action="append", default=[], metavar="SLUG", help="only this project (repeatable)")
    search.add_argument("--period", metavar="PERIOD", help="only issues seen in this period: 24h, 14d, ...")
    search.add_argument("--sort", choices=SORTS, help="date (last seen, default), new, freq or user")
    search.add_argument(
        "--limit",
        type=_search_limit,
        default=DEFAULT_SEARCH_LIMIT,
        metavar="N",
        help=f"export the first N matches (default {DEFAULT_SEARCH_LIMIT}, at most {MAX_SEARCH_LIMIT:,})",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="print a table of the issues named or found (one line each: id, level, events, users, last seen, the "
        "last day's trend, title) from the issue list alone, with no event fetched; --format json prints JSON lines",
    )
    parser.add_argument("--list-formats", action="store_true", help="list output formats and plugins, then exit")
    parser.add_argument("--list-sources", action="store_true", help="list sources and plugins, then exit")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    caps = parser.add_argument_group("caps (every cut is announced in the report)")
    defaults = RenderLimits()
    for field in _CAP_FIELDS:
        caps.add_argument(
            f"--{field.name.replace('_', '-')}",
            type=_positive_int,
            metavar="N",
            help=f"{_CAP_HELP[field.name]} (default {getattr(defaults, field.name)})",
        )
    return parser


_CAP_HELP = {
    "max_frames": "stack frames shown per trace, newest and oldest kept",
    "collapse_runs_of": "identical frames in a row (recursion) shown as their first, last and a count",
    "max_detail_frames": "frames per trace with code and variables, the one closest to the error first",
    "max_context_lines": "lines of code shown on each side of a frame's executing line",
    "max_fields": "items per list of tags, extra data, context fields, headers or packages",
    "max_tag_keys": "tag keys shown across all events",
    "max_tag_values": "values shown per tag across all events, the most frequent first",
    "max_activity": "entries of the issue's activity shown, newest kept",
    "max_recent_events": "recent events shown, newest kept",
    "max_breadcrumbs": "breadcrumbs shown, newest kept",
    "max_spans": "spans shown, earliest kept",
    "max_threads": "threads shown, crashed one first",
    "max_images": "debug images shown that the stack traces point into, the crashing frame's first",
    "max_other_images": "debug images shown that no stack frame points into (the rest are counted)",
    "max_value_chars": "characters of one value before it is cut",
    "max_vars": "local variables shown per frame",
    "max_depth": "nesting levels shown inside a value",
}


_CAP_FIELDS = [field for field in attrs.fields(RenderLimits) if field.name in _CAP_HELP]
"""The whole-number caps, each an option; the others are for the Python API."""


def _search_limit(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_SEARCH_LIMIT:
        raise argparse.ArgumentTypeError(f"{value} is too large: a search exports at most {MAX_SEARCH_LIMIT:,} issues")
    return value


def _part_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{value} is out of range: use 0 (none) to 100")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: use 1 or more")
    return value


def _seconds(text: str) -> float:
    try:
        return parse_timeout(text, "--timeout")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--timeout ").rstrip(".")) from None


def _version() -> str:
    from .version import __version__

    return __version__


def build_config_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="export-sentry-issue config", description="Manage the saved config.")
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="check a token against the server and save it (file mode 600)")
    init.add_argument("--base-url", required=True, help="e.g. https://sentry.io/organizations/acme/")
    init.add_argument("--org", help="organisation slug, when the URL does not name one")
    init.add_argument(
        "--source", help="the server's kind: sentry, bugsink or a plugin's (default: found out by asking the server)"
    )
    init.add_argument(
        "--token-stdin", action="store_true", help="read the token from standard input instead of a prompt"
    )
    commands.add_parser("show", help="show the effective configuration, token masked")
    commands.add_parser("revoke", help="delete the saved config")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["config"]:
            return _config_command(build_config_parser().parse_args(args[1:]))
        return _export_command(build_parser().parse_args(args))
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of standard output went away (``| head``): nothing more can reach it, and Python must not
        # complain when it flushes at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 120


def _export_command(args: argparse.Namespace) -> int:
    from .plugins import get_registry

    registry = get_registry()
    for problem in registry.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.list_formats:
        for name, renderer in sorted(registry.renderers.items()):
            owner = registry.owners.get(("renderer", name), "?")
            print(f"{name:<12} .{renderer.extension:<6} {renderer.description}  [{owner}]")
        return EXIT_OK
    if args.list_sources:
        for name, source in sorted(registry.sources.items()):
            owner = registry.owners.get(("source", name), "?")
            offline = "" if source.needs_credentials else " (offline)"
            print(f"{name:<12} {source.description}{offline}  [{owner}]")
        return EXIT_OK

    settings = _settings_from_args(args, registry)
    output_file, to_stdout = None, False
    if args.output == "-":
        to_stdout = True
    elif args.output:
        target = Path(args.output).expanduser()
        settings = attrs.evolve(settings, output_dir=target.parent if str(target.parent) else Path.cwd())
        output_file = target.name

    search = None
    if args.query is not None or args.project or args.period or args.sort:
        search = IssueSearch(
            query=" ".join((args.query or "").split()),
            project_slugs=tuple(args.project),
            period=args.period,
            sort=args.sort,
            org=args.org,
        )
    wanted = any(ref.strip() for ref in args.refs) or search is not None
    if wanted and registry.source(settings.source).needs_credentials and not settings.token:
        # A configuration error (exit 2), said once, rather than the same failure for every issue (exit 1).
        where = settings.base_url or "Sentry"
        raise ConfigError(
            f"No token is configured, so nothing can be fetched from {where}: create one with the event:read "
            f"scope (Sentry: Settings > Auth Tokens) and save it with {TOKEN_HELP}; or try the bundled sample "
            "issues with --demo."
        )
    if args.list:
        return asyncio.run(_list(args, settings, registry, search))
    # The whole export runs inside one coroutine that returns the exit code: nothing large crosses asyncio.run.
    return asyncio.run(_export(args, settings, registry, search, output_file, to_stdout))


async def _list(args: argparse.Namespace, settings: Settings, registry: Registry, search: IssueSearch | None) -> int:
    """The triage table on standard output; what failed, and what each search matched, on standard error."""
    from .listing import list_issues, row_json

    listed = await list_issues(args.refs, settings, search=search, limit=args.limit, registry=registry)
    if settings.format == "json":
        for summary in listed.issues:
            print(json.dumps(row_json(summary), ensure_ascii=False))
    else:
        print("\n".join(issue_table(listed.issues, markdown=settings.format == "markdown")))
    for outcome in listed.searches:
        print(_search_line(outcome, "listing"), file=sys.stderr)
    for failure in listed.failures:
        print(f"failed: {failure}", file=sys.stderr)
    return EXIT_OK if listed.ok else EXIT_FAILED


def _search_line(outcome: SearchOutcome, doing: str) -> str:
    """``Search 'is:unresolved': 40 issues match; listing the first 30.``"""
    matched = f"{outcome.hits:,} issues match" if outcome.hits is not None else "the server does not count"
    described = str(outcome.search)
    if not outcome.search.text:  # "search 'is:unresolved'", not a pasted address, which keeps its "http"
        described = described[:1].upper() + described[1:]
    taken = f"all {outcome.taken:,}" if outcome.hits == outcome.taken else f"the first {outcome.taken:,}"
    return f"{described}: {matched}; {doing} {taken}."


TITLE_CHARS = 100
"""A row of the triage table cuts the title here."""


def issue_table(issues: Sequence[IssueSummary], *, markdown: bool = False) -> list[str]:
    """The triage table: a header and one row per issue, columns aligned (or a Markdown table)."""
    from .renderers.formatting import format_number
    from .renderers.overview import sparkline
    from .textsafe import collapse_whitespace, escape_line

    header = ["#", "ISSUE", "LEVEL", "STATUS", "EVENTS", "USERS", "LAST SEEN (UTC)", "LAST 24 H", "TITLE"]
    rows = []
    for number, issue in enumerate(issues, 1):
        title = escape_line(collapse_whitespace(issue.title or ""))
        when = issue.last_seen.strftime("%Y-%m-%d %H:%M") if isinstance(issue.last_seen, datetime) else ""
        rows.append(
            [
                str(number),
                escape_line(issue.name),
                issue.level or "",
                issue.status or "",
                format_number(issue.count) if issue.count is not None else "",
                format_number(issue.user_count) if issue.user_count is not None else "",
                when or escape_line(str(issue.last_seen or "")),
                sparkline(issue.trend) if issue.trend is not None and issue.trend.period == "24h" else "",
                title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…",
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return lines + ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    right = {0, 4, 5}
    return [
        "  ".join(cell.rjust(widths[n]) if n in right else cell.ljust(widths[n]) for n, cell in enumerate(row)).rstrip()
        for row in [header, *rows]
    ]


async def _export(
    args: argparse.Namespace,
    settings: Settings,
    registry: Registry,
    search: IssueSearch | None,
    output_file: str | None,
    to_stdout: bool,
) -> int:
    from .exporter import FAILURES_LISTED, export_issues

    progress = _ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    result = await export_issues(
        args.refs,
        settings,
        output_file=output_file,
        write=not to_stdout,
        registry=registry,
        on_progress=progress.update if progress else None,
        search=search,
        limit=args.limit,
        keep_reports=False,
    )
    if progress:
        progress.finish()
    if to_stdout and result.text:
        sys.stdout.write(result.text)
        sys.stdout.flush()
    for outcome in result.searches:
        print(_search_line(outcome, "exporting"), file=sys.stderr)
    for failure in result.failures[:FAILURES_LISTED]:
        print(f"failed: {failure}", file=sys.stderr)
    if (rest := len(result.failures) - FAILURES_LISTED) > 0:
        where = result.path if result.path is not None else "the report on standard output"
        print(f"failed: … and {rest:,} more; all are listed in {where}", file=sys.stderr)
    if result.path is not None and result.issues:
        print(f"Exported {len(result.issues)} issue(s) to {result.path}", file=sys.stderr)
    elif result.path is not None:
        print(f"No issue could be exported; the failures are listed in {result.path}", file=sys.stderr)
    for path in result.debug_paths:
        print(f"Debug payload saved: {path}", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FAILED


def _settings_from_args(args: argparse.Namespace, registry: Registry) -> Settings:
    overrides: dict[str, Any] = {"debug": args.debug, "remove_pii": args.remove_pii}
    caps = {f.name: getattr(args, f.name) for f in _CAP_FIELDS if getattr(args, f.name) is not None}
    if caps:
        overrides["limits"] = attrs.evolve(RenderLimits(), **caps)
    if args.concurrency is not None:
        overrides["max_concurrency"] = args.concurrency
    if args.timeout is not None:
        overrides["timeout"] = args.timeout
    if args.events is not None:
        overrides["recent_events"] = args.events
    if args.tag_values is not None:
        overrides["tag_values"] = args.tag_values
    source = args.source
    if args.demo:
        source = "samples"
    elif args.from_file:
        source, overrides["from_file"] = "file", Path(args.from_file)

    from .config import resolve_settings

    return resolve_settings(
        source=source,
        base_url=args.base_url,
        org=args.org,
        format=args.format,
        output_dir=args.output_dir,
        templates_dir=args.templates,
        registry=registry,
        **overrides,
    )


def _config_command(args: argparse.Namespace) -> int:
    from . import config

    if args.command == "show":
        print(json.dumps(config.show_config(), indent=2, default=str))
        return EXIT_OK
    if args.command == "revoke":
        existed = config.revoke_config()
        print("Saved config deleted." if existed else "There was no saved config.")
        print("Also revoke the token in Sentry: Settings → Account → API → Auth Tokens.")
        return EXIT_OK
    token = _read_token(args.token_stdin)
    saved = asyncio.run(config.init_config(args.base_url, token, org=args.org, source=args.source))
    kind = f"a {saved.source} server" if saved.source else f"organisation {saved.org or 'not set'}"
    print(f"Token checked and saved for {saved.base_url} ({kind}).")
    if saved.access:
        print(saved.access)
    print(f"Config file: {config.config_path()} (mode 600)")
    return EXIT_OK


def _read_token(from_stdin: bool) -> str:
    token = os.environ.get("SENTRY_AUTH_TOKEN") or os.environ.get("SENTRY_TOKEN")
    if from_stdin:
        token = sys.stdin.readline()
    elif not token:
        try:
            token = getpass.getpass("Sentry auth token (input hidden): ")
        except EOFError:  # standard input closed (CI, `docker run -i` without -t): nobody can type it
            token = ""
    token = (token or "").strip()
    if not token:
        raise ExportError("No token given: set SENTRY_AUTH_TOKEN, pipe it with --token-stdin, or type it.")
    return token


class _ProgressBar:
    """A one-line progress bar on a terminal's stderr."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width, self.shown = stream, width, False

    def update(self, done: int, total: int, message: str) -> None:
        if total < 2:
            return
        filled = self.width * done // total
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total} {message[:40]:<40}")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def run() -> NoReturn:
    """The console command: :func:`main`, then the interpreter's usual exit without its teardown.

    A normal exit ends by tearing down every imported module one by one, about 0.15 s on a slow machine, which
    a finished command does not need: its files are closed and renamed by then. So the first thing ``run`` does
    is register an exit handler that ends the process; exit handlers run newest first, so it runs after every
    other one (a plugin's, logging's), and after Python has joined every thread that is still working. Only the
    teardown is skipped. ``main`` itself returns, for tests and callers that embed the command.
    """
    outcome = {"code": 0}

    def end_without_teardown() -> None:
        if "logging" in sys.modules:  # logging's own handler was registered before this one: it would not run
            sys.modules["logging"].shutdown()
        code = outcome["code"]
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach the reader
                code = code or 120  # what Python itself exits with when it cannot flush
        os._exit(code)

    atexit.register(end_without_teardown)
    outcome["code"] = main()
    sys.exit(outcome["code"])


if __name__ == "__main__":
    run()
