"""What an MCP client reads: tool descriptions and the text of every answer.

Kept apart from ``mcp_server.py`` so the wording can be read, reviewed and tested as plain functions, without a
server. Nothing here imports MCP: answers are strings built from the library's results.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..exporter import ExportResult

DEFAULT_MAX_INLINE_CHARS = 60_000
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
        report characters returned in an answer (default {DEFAULT_MAX_INLINE_CHARS}); the saved file holds all
  EXPORT_SENTRY_ISSUE_SOURCE
        "samples" serves the bundled sample issues instead of Sentry (demo mode)
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
The report is also saved as a file in the server's output directory (output_file chooses its name: a plain file \
name, no folders). format is text (default), markdown, json, or a format a plugin adds. debug=true also saves \
the redacted raw API payloads beside the report."""

EXPORT_ISSUES_TOOL = """\
Export several Sentry issues into one report file and return it. issue_ids holds issue URLs, numeric ids or \
short ids separated by spaces, commas or new lines. To read from a Sentry other than the configured one, pass \
base_url together with a token for that Sentry: the saved token is never sent to another host. output_file, \
debug and format work as in view_sentry_issue."""

INITIALIZE_CONFIG = """\
Save the Sentry URL and auth token this server uses. The token is checked against Sentry first and stored in a \
file only the user can read. base_url is the Sentry address, e.g. https://sentry.io/organizations/acme/ or a \
self-hosted https://sentry.example.com/organizations/acme/. The token needs the event:read, project:read and \
org:read scopes (create one in Sentry: Settings → Account → API → Auth Tokens)."""

LIST_CONFIG = """\
Show the configuration this server uses (saved file plus environment), with the token masked."""

REVOKE_CONFIG = """\
Delete the saved configuration, including the token. The token itself stays valid in Sentry until it is revoked \
there (Settings → Account → API → Auth Tokens)."""


def export_answer(
    result: ExportResult, *, max_inline_chars: int = DEFAULT_MAX_INLINE_CHARS, notes: Sequence[str] = ()
) -> str:
    """The answer to a successful export: counts, failures, where the file is, notes, then the (capped) report."""
    lines = ["✅ Export completed!", f"Success: {len(result.reports)}", f"Failed: {len(result.failures)}"]
    lines.extend(f"- {failure}" for failure in result.failures)
    if result.path is not None:
        lines.append(f"File saved: {result.path}")
    lines.extend(f"Debug payload saved: {path}" for path in result.debug_paths)
    lines.extend(notes)
    lines += ["", "=== Issue Content ===", cap_inline(result.content, max_inline_chars, result.path)]
    return "\n".join(lines)


def all_failed_message(result: ExportResult) -> str:
    """The tool error for an export where not a single issue could be exported."""
    lines = ["Export failed: no issue could be exported.", f"Failed: {len(result.failures)}"]
    lines.extend(f"- {failure}" for failure in result.failures)
    return "\n".join(lines)


def cap_inline(content: str, max_chars: int, path: Path | None) -> str:
    """``content`` cut to ``max_chars``, ending with a line that says how much is missing and where it is.

    The cut falls on a line break when one is near, so the shown part ends on a whole line.
    """
    if max_chars <= 0 or len(content) <= max_chars:
        return content
    cut = content.rfind("\n", max_chars * 3 // 4, max_chars)
    shown = content[: cut if cut > 0 else max_chars].rstrip("\n")
    where = f"the file {path}" if path is not None else "the saved report"
    return (
        f"{shown}\n\n[Report cut here: showing {len(shown):,} of {len(content):,} characters. "
        f"The complete report is in {where}.]"
    )


def offline_source_note(source: str) -> str:
    """Added to an answer when base_url or token were given but an offline source served the export."""
    return (
        f"Note: this server reads the offline {source} source (EXPORT_SENTRY_ISSUE_SOURCE={source}), so the "
        "export came from that source and base_url and token were not used."
    )


def config_saved_answer(base_url: str, org: str | None, path: Path) -> str:
    org_line = org or "not set (include it in the URL, e.g. https://sentry.io/organizations/ORG/)"
    return "\n".join(
        [
            "✅ Token checked and saved.",
            f"Sentry: {base_url}",
            f"Organization: {org_line}",
            f"Config file: {path} (readable only by its owner)",
        ]
    )


def config_listing(shown: Mapping[str, Any]) -> str:
    return "Current configuration (token masked):\n" + json.dumps(dict(shown), indent=2, default=str)


def revoke_answer(existed: bool, path: Path) -> str:
    first = f"Saved config deleted: {path}" if existed else f"There was no saved config at {path}."
    return f"{first}\n{TOKEN_REVOCATION_HINT}"
