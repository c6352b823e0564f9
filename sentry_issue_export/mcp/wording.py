"""What an MCP client reads: tool descriptions and the text of every answer.

Kept apart from ``server.py`` so the wording can be read, reviewed and tested as plain functions, without a
server. Nothing here imports MCP: answers are strings built from the library's results, and an export's answer
is fitted to its budget by the library's ``budget`` module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..budget import (
    CONTENT_HEADING,
    DEFAULT_BUDGET,
    MIN_BUDGET,
    WHERE_CHARS,
    fit_answer,
    shorten,
    shorten_middle,
    size,
)
from ..exporter import FAILURES_LISTED
from ..textsafe import collapse_whitespace

if TYPE_CHECKING:
    from ..exporter import ExportResult
    from ..hookspecs import Renderer
    from ..models import IssueReport
    from ..settings import Settings

DEFAULT_MAX_INLINE_CHARS = DEFAULT_BUDGET
MIN_INLINE_CHARS = MIN_BUDGET
TOKEN_REVOCATION_HINT = "Also revoke the token in Sentry: Settings → Account → API → Auth Tokens."

SERVER_EPILOG = f"""\
examples:
  export-sentry-issue-mcp                        stdio, for Claude Code, Claude Desktop and most clients
  export-sentry-issue-mcp --http --port 3001     streamable HTTP at http://127.0.0.1:3001/mcp
  export-sentry-issue-mcp --transport sse        legacy SSE clients, at http://127.0.0.1:3001/sse
  EXPORT_SENTRY_ISSUE_SOURCE=samples export-sentry-issue-mcp
                                                 demo: the bundled sample issues, no Sentry account needed

environment:
  SENTRY_AUTH_TOKEN (or SENTRY_TOKEN), SENTRY_URL, SENTRY_ORG, SENTRY_PROJECT
        override the saved config ($XDG_CONFIG_HOME/export-sentry-issue/config.json)
  EXPORT_SENTRY_ISSUE_OUTPUT_DIR
        directory for reports (default: the working directory)
  EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS
        characters an answer may hold (default {DEFAULT_MAX_INLINE_CHARS:,}, about 10,000 tokens; at least
        {MIN_INLINE_CHARS:,}, or 0 for no budget); every issue keeps every section, the bulk is shortened to fit,
        and the saved file holds everything
  EXPORT_SENTRY_ISSUE_SOURCE
        "samples" serves the bundled sample issues instead of Sentry (demo mode)
  EXPORT_SENTRY_ISSUE_SERVER
        sentry, glitchtip or bugsink: the server's kind, when it should not be found out
  EXPORT_SENTRY_ISSUE_MCP_TOKEN
        bearer token HTTP and SSE clients must send (see --auth-token-env)

In stdio mode only protocol messages go to standard output; logs go to standard error.
HTTP and SSE bind 127.0.0.1 by default and check the Host and Origin headers against DNS rebinding; binding
another address needs a bearer token or --allow-unauthenticated-remote.
"""

VIEW_SENTRY_ISSUE = """\
Fetch one or more Sentry issues and return a complete, readable, secret-free report: the error and its \
exception chain, stack traces with source context and local variables, breadcrumbs, the HTTP request, tags, \
contexts, user, release and SDK. Call this whenever the user mentions a Sentry issue in any form: a pasted issue \
URL, an issue number or a short id. Examples:
- "Check Sentry issue #123" -> issue_url_or_id="123"
- "What is going on in https://acme.sentry.io/issues/4567890/?" -> pass the URL as it is
- "Look at PROJ-1A" -> issue_url_or_id="PROJ-1A"
- "Compare issues 123 456 789" -> issue_url_or_id="123 456 789" (several references in one string export together)
The report opens with what the issue says across all its events: the trend over the last day and month, first \
and last release, tag shares (browsers, releases, users ...), the team's notes and activity, and the recent \
events and how they differ; events (default 5) and tag_values (default 5) set how many of those to show, 0 for \
none. The report is also saved as a file in the server's output directory (output_file chooses its name: a \
plain file name, no folders). format is text (default), markdown, json, or a format a plugin adds. debug=true \
also saves the redacted raw API payloads beside the report."""

EXPORT_ISSUES_TOOL = """\
Export several Sentry issues into one report file and return it. issue_ids holds issue URLs, numeric ids or \
short ids separated by spaces, commas or new lines (or a list); a pasted issue-list URL (…/issues/?query=…) \
exports the issues it lists. query searches with Sentry's own syntax (e.g. "is:unresolved level:error") and \
exports the first limit matches (default 50, at most 1000), in Sentry's order; issue_ids may then be empty. The \
answer opens with one line per issue (id, level, events, users, last seen, trend, title), then the issues in \
detail as far as they fit. To read from a Sentry other than the configured one, pass base_url together with a \
token for that Sentry: the saved token is never sent to another host. output_file, debug, format, events and \
tag_values work as in view_sentry_issue."""

INITIALIZE_CONFIG = """\
Save the Sentry URL and auth token this server uses. The token is checked against Sentry first and stored in a \
file only the user can read. base_url is the Sentry address, e.g. https://sentry.io/organizations/acme/ or a \
self-hosted https://sentry.example.com/organizations/acme/. The check reads one issue the way exports do: the \
token needs the event:read scope, and org:read for short ids (create one in Sentry: Settings → Account → API → \
Auth Tokens). A token without event:read is refused and nothing is saved."""

LIST_CONFIG = """\
Show the configuration this server uses (saved file plus environment), with the token masked."""

REVOKE_CONFIG = """\
Delete the saved configuration, including the token. The token itself stays valid in Sentry until it is revoked \
there (Settings → Account → API → Auth Tokens)."""


REPORT_URI_PREFIX = "export-sentry-issue://reports/"
"""Reports this server wrote are MCP resources under this prefix: ``export-sentry-issue://reports/{name}``."""

FAILURES_SHARE = 4
"""The failure list takes at most a quarter of the budget; the rest is counted."""
HEAD_SHARE = 2
"""An answer's head (what was exported, searches, failures, where the file is, notes) takes at most half the
budget, so the issues always have the other half."""
LIST_SHARE = 8
"""The search lines, and the debug files, each take at most an eighth of the budget; one head line too."""
HEAD_LINE_CHARS = 500
"""A line of an answer's head (a search, a failure, a note) is cut here, or at an eighth of a smaller budget, so
no input can blow the budget."""
DEBUG_LISTED = 20
"""An answer names this many debug files at most, and counts the rest."""
ECHO_SHARE = 3
"""In a failure line, the reference as typed takes at most a third of the line; the reason has the rest."""


def report_uri(path: Path) -> str:
    return REPORT_URI_PREFIX + quote(path.name, safe="")


def export_answer(
    result: ExportResult,
    renderer: Renderer,
    settings: Settings,
    *,
    reports: Sequence[IssueReport] | None = None,
    max_inline_chars: int = DEFAULT_MAX_INLINE_CHARS,
    notes: Sequence[str] = (),
) -> str:
    """The answer to a successful export within ``max_inline_chars`` UTF-16 units (0: no budget): counts,
    failures, where the file is, a headline per issue, then the issues in detail, shrunk by the ladder of
    ``budget`` rather than cut. ``reports`` are the leading reports an ``AnswerKeeper`` kept (default:
    ``result.reports``).

    Every line that repeats what the user or the server wrote (a search, a reference, a reason, a path) is cut
    to its share of the budget, and every list counts what it leaves out, so the head never takes more than
    half the budget; a budget too small even for that gets one line saying where the file is."""
    head = "\n".join(answer_head(result, notes, max_inline_chars))
    if max_inline_chars <= 0:
        return "\n".join([head, "", CONTENT_HEADING, result.content])
    where = f"the file {result.path}" if result.path is not None else "the saved report"
    shown = result.reports if reports is None else reports
    return fit_answer(head, result.issues, shown, renderer, settings, max_inline_chars, where=where).text


def answer_head(result: ExportResult, notes: Sequence[str] = (), budget: int = DEFAULT_MAX_INLINE_CHARS) -> list[str]:
    """The head of an export's answer, in reading order: what was exported, each search, the failures, where the
    file is, the debug files and ``notes``; within half of ``budget`` (0: no budget, each line still cut).

    What says most comes first when room is short: the counts and the file, then the searches, the failures,
    the notes and the debug files; a list that is cut counts the rest."""
    cap = line_cap(budget)
    room = Room(budget // HEAD_SHARE if budget > 0 else None)
    opening = room.take(["✅ Export completed!"])
    counts = room.take([f"Success: {len(result.issues)}", f"Failed: {len(result.failures)}"])
    saved = room.take(file_lines(result.path, cap)) if result.path is not None else []
    searches = room.take(search_lines(result, room.share(budget, LIST_SHARE), cap))
    failures = room.take(failure_lines(result, room.share(budget, FAILURES_SHARE), cap))
    added = room.take(_notes(notes, room.share(budget, 1), cap))
    debug = room.take(debug_lines(result, room.share(budget, LIST_SHARE), cap))
    return [*opening, *searches, *counts, *failures, *saved, *debug, *added]


def line_cap(budget: int) -> int:
    """How long one line of a head may be under ``budget`` (0: no budget)."""
    return HEAD_LINE_CHARS if budget <= 0 else min(HEAD_LINE_CHARS, budget // LIST_SHARE)


class Room:
    """What is left of the head's share of the budget (``None``: no budget), taken line by line."""

    def __init__(self, left: int | None) -> None:
        self.left = left

    def share(self, budget: int, parts: int) -> int | None:
        """The room for one part: a ``parts``-th of ``budget``, and no more than is left (``None``: no limit)."""
        if self.left is None:
            return None
        return min(budget // parts, self.left)

    def take(self, lines: Sequence[str]) -> list[str]:
        """``lines``, counted against what is left. They are not checked here: the fixed lines are short, and
        every list was fitted to its share of what was left."""
        if self.left is not None:
            self.left -= sum(size(line) + 1 for line in lines)
        return list(lines)


def file_lines(path: Path, cap: int = HEAD_LINE_CHARS) -> list[str]:
    """Where the report is saved, and the resource that serves it; a long path is cut in its middle."""
    saved = "File saved: "
    return [
        saved + shorten_middle(str(path), cap - size(saved)),
        shorten(f"Resource: {report_uri(path)} (the complete report)", cap),
    ]


def listed(lines: Sequence[str], room: int | None, rest_line: Callable[[int, int], str], total: int = -1) -> list[str]:
    """As many of ``lines`` as fit in ``room`` units (``None``: all of them), then, when some of the ``total``
    (default: all ``lines``) are left out, ``rest_line(left out, shown)`` counting them; all within ``room``."""
    total = len(lines) if total < 0 else total
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        after = total - index - 1
        reserve = size(rest_line(after, index + 1)) + 1 if after else 0
        if room is not None and used + size(line) + 1 + reserve > room:
            break
        kept.append(line)
        used += size(line) + 1
    left_out = total - len(kept)
    if left_out:
        last = rest_line(left_out, len(kept))
        if room is None or used + size(last) + 1 <= room:
            kept.append(last)
    return kept


def failure_lines(result: ExportResult, max_chars: int | None = None, cap: int = HEAD_LINE_CHARS) -> list[str]:
    """One line per failure, at most ``FAILURES_LISTED`` of them and (when given) ``max_chars`` units in all,
    then a count of the rest and where the whole list is."""
    lines = [failure_line(failure.ref_text, failure.message, cap) for failure in result.failures[:FAILURES_LISTED]]

    def rest(left_out: int, shown: int) -> str:
        where = (
            f"all are listed in {shorten_middle(str(result.path), WHERE_CHARS)}"
            if result.path is not None
            else "run fewer at once to see each"
        )
        failed = f"failed reference{'' if left_out == 1 else 's'}"
        return f"- … and {left_out:,} more {failed}; {where}." if shown else f"- {left_out:,} {failed}; {where}."

    return listed(lines, max_chars, rest, len(result.failures))


def failure_line(ref_text: str, message: str, cap: int = HEAD_LINE_CHARS) -> str:
    """``- <reference>: <why>`` within ``cap`` units, the reference cut at a third of it."""
    ref = shorten(collapse_whitespace(ref_text), cap // ECHO_SHARE)
    return shorten(f"- {ref}: {message}", cap)


def search_lines(result: ExportResult, max_chars: int | None = None, cap: int = HEAD_LINE_CHARS) -> list[str]:
    """How many issues each search matched (the server's count) and how many were exported, each line within
    ``cap`` units (the search cut to fit), all within ``max_chars`` (``None``: no limit)."""
    lines = []
    for outcome in result.searches:
        matched = f"{outcome.hits:,} issues" if outcome.hits is not None else "issues (the server gives no count)"
        taken = f"all {outcome.taken:,}" if outcome.hits == outcome.taken else f"the first {outcome.taken:,}"
        before, after = f"Matched: {matched} for ", f"; exported {taken}"
        searched = shorten(collapse_whitespace(str(outcome.search)), cap - size(before) - size(after))
        lines.append(before + searched + after)
    return listed(lines, max_chars, _rest_searches)


def _rest_searches(left_out: int, shown: int) -> str:
    searches = f"search{'' if left_out == 1 else 'es'}"
    return f"… and {left_out:,} more {searches}, not shown here." if shown else f"{left_out:,} {searches} ran."


def debug_lines(result: ExportResult, max_chars: int | None = None, cap: int = HEAD_LINE_CHARS) -> list[str]:
    """Where each debug payload was saved, within ``max_chars`` units; the rest are counted."""
    saved = "Debug payload saved: "
    lines = [saved + shorten_middle(str(path), cap - size(saved)) for path in result.debug_paths[:DEBUG_LISTED]]
    folder = result.debug_paths[0].parent if result.debug_paths else None

    def rest(left_out: int, shown: int) -> str:
        payloads = f"{'' if shown else f'{left_out:,} '}debug payload{'' if left_out == 1 else 's'}"
        where = shorten_middle(str(folder), WHERE_CHARS)
        return f"… and {left_out:,} more {payloads} saved in {where}." if shown else f"{payloads} saved in {where}."

    return listed(lines, max_chars, rest, len(result.debug_paths))


def _notes(notes: Sequence[str], room: int | None, cap: int) -> list[str]:
    """The notes that fit in ``room`` units, each cut at ``cap``."""
    kept: list[str] = []
    for note in notes:
        line = shorten(note, cap)
        if room is not None and size(line) + 1 > room:
            break
        kept.append(line)
        room = None if room is None else room - size(line) - 1
    return kept


def all_failed_message(result: ExportResult, budget: int = DEFAULT_MAX_INLINE_CHARS) -> str:
    """The tool error for an export where not a single issue could be exported, within ``budget`` units (0: the
    default budget's shares)."""
    shares = budget if budget > 0 else DEFAULT_MAX_INLINE_CHARS
    cap = line_cap(budget)
    room = Room(shares)
    opening = room.take(["Export failed: no issue could be exported."])
    counts = room.take([f"Failed: {len(result.failures)}"])
    searches = room.take(search_lines(result, room.share(shares, LIST_SHARE), cap))
    failures = room.take(failure_lines(result, room.share(shares, FAILURES_SHARE), cap))
    return "\n".join([*opening, *searches, *counts, *failures])


def error_answer(message: str, budget: int) -> str:
    """A tool error's sentence within ``budget`` units (0: as it is)."""
    return shorten(message, budget) if budget > 0 else message


def budget_problem(budget: int) -> str | None:
    """What is wrong with an answer budget, completing "<setting> ...", or ``None`` when it is usable."""
    if budget == 0 or budget >= MIN_INLINE_CHARS:
        return None
    return (
        f"must be 0 (no budget) or at least {MIN_INLINE_CHARS:,} characters, not {budget:,}: a smaller answer "
        "could not even say where the report was saved."
    )


def offline_source_note(source: str) -> str:
    """Added to an answer when base_url or token were given but an offline source served the export."""
    return (
        f"Note: this server reads the offline {source} source (EXPORT_SENTRY_ISSUE_SOURCE={source}), so the "
        "export came from that source and base_url and token were not used."
    )


def config_saved_answer(base_url: str, org: str | None, path: Path, access: str = "") -> str:
    org_line = org or "not set (include it in the URL, e.g. https://sentry.io/organizations/ORG/)"
    lines = [
        "✅ Token checked and saved.",
        f"Sentry: {base_url}",
        f"Organization: {org_line}",
        f"Config file: {path} (readable only by its owner)",
    ]
    return "\n".join([*lines, access] if access else lines)


SERVER_INSTRUCTIONS = """\
Exports Sentry issues (sentry.io, self-hosted Sentry, GlitchTip, Bugsink) as complete, secret-free debugging \
reports: exception chain, stack frames with code and local variables, request, breadcrumbs, spans, user, tags, \
contexts. Use view_sentry_issue whenever the user mentions a Sentry, GlitchTip or Bugsink issue in any form: an \
issue URL, an issue number (#12345), or a short id such as PROJ-1A. Use export_issues_tool for several issues, \
or for another server with its own base_url and token. Answers fit about 10,000 tokens and keep every section; \
the complete report is saved as a file and offered as a resource (export-sentry-issue://reports/NAME). If no \
token is configured, initialize_config saves one; list_config shows the configuration."""

REPORT_LINK_DESCRIPTION = "The complete report as saved: every frame, breadcrumb and span, without the answer's cuts."

_ARGUMENT_HELP = {
    "issue_url_or_id": "an issue URL, an issue number (12345) or a short id (PROJ-1A), as text or a number, or a "
    "list of them",
    "issue_ids": "issue URLs, issue numbers or short ids, as one text, a number, or a list of them",
    "output_file": "a plain file name such as report.txt",
    "debug": "true or false",
    "format": "the name of a format: text, markdown or json",
    "base_url": "the server's address, e.g. https://sentry.io/organizations/acme/",
    "token": "the auth token, as text",
    "query": "a search in Sentry's syntax, e.g. is:unresolved level:error",
    "limit": "a whole number from 1 to 1000",
    "events": "a whole number from 0 (none) to 100",
    "tag_values": "a whole number from 0 (none) to 100",
}


_RANGE_ERRORS = frozenset({"less_than_equal", "greater_than_equal", "less_than", "greater_than"})


def argument_problem(name: str, kind: str) -> str:
    """One sentence for an argument that is missing (``kind`` ``missing``) or of the wrong type."""
    wanted = _ARGUMENT_HELP.get(name, "a value of the type the tool's schema gives")
    if kind == "missing":
        return f"The argument {name} is required: give {wanted}."
    if kind == "out_of_range":
        return f"The argument {name} is out of range: give {wanted}."
    return f"The argument {name} has the wrong type: give {wanted}."


def validation_message(error: Any) -> str:
    """The plain sentences for a tool call whose arguments did not validate (a pydantic ``ValidationError``)."""
    problems: dict[str, str] = {}
    details = error.errors(include_url=False, include_input=False) if hasattr(error, "errors") else []
    for detail in details:
        location = detail.get("loc") or ("arguments",)
        name = str(location[0])
        if name not in problems:
            error_type = str(detail.get("type", ""))
            kind = (
                "missing"
                if error_type.startswith("missing")
                else "out_of_range"
                if error_type in _RANGE_ERRORS
                else "wrong_type"
            )
            problems[name] = argument_problem(name, kind)
    if not problems:
        return "The tool's arguments are not what it takes; check them against its schema."
    return " ".join(problems.values())


def unknown_report(name: str) -> str:
    return (
        f"{name!r} is not a report this server saved in this session; only those can be read here. "
        "Export the issue again to get a new report."
    )


def report_gone(path: Path) -> str:
    return f"The report {path.name} is no longer a file in {path.parent}; export the issue again."


def report_too_large(path: Path, size: int, limit: int) -> str:
    return (
        f"The report {path.name} holds {size:,} bytes, more than the {limit:,} a resource may carry; read it from "
        f"the file {path} itself, or export fewer issues at a time."
    )


def config_listing(shown: Mapping[str, Any]) -> str:
    return "Current configuration (token masked):\n" + json.dumps(dict(shown), indent=2, default=str)


def revoke_answer(existed: bool, path: Path) -> str:
    first = f"Saved config deleted: {path}" if existed else f"There was no saved config at {path}."
    return f"{first}\n{TOKEN_REVOCATION_HINT}"
