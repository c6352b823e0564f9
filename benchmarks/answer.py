"""How much of each report an MCP answer keeps: ``python -m benchmarks answer [--budget N] [--format F]``.

For each bundled sample, and for a batch of all of them, prints the answer's size (the whole text an MCP client
gets, summary included), the saved report's size, and the share of the report's distinct facts the answer still
holds: what the issue says across all its events (each tag key and its most common value, the total of each
trend period, the first and last release, the notes and the recent events' ids), exception types and values,
the crash frame (its location, function and variable names), the event's tags, user fields, context fields,
and the five newest breadcrumbs. A fact counts as kept when its text appears in the answer (long values by
their first 40 characters). Exits 1 when an answer is over its budget.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

PREFIX = 40


def facts(report: Any) -> list[str]:
    """The distinct facts of one (file-capped) report that an assistant needs, as text to look for."""
    from sentry_issue_export.renderers.formatting import format_inline

    event = report.event
    found: list[str] = []

    def add(value: Any) -> None:
        text = value if isinstance(value, str) else format_inline(value) if value is not None else ""
        text = " ".join(text.split())[:PREFIX]
        if text and text not in found:
            found.append(text)

    overview = report.overview
    for tag in overview.tags:
        add(tag.key)
        if tag.values:
            add(tag.values[0].label)
    for trend in overview.trends:
        add(f"{trend.total:,} event")
    for release in (overview.first_release, overview.last_release):
        if release is not None:
            add(release.version)
    for entry in overview.activity:
        if entry.text:
            add(entry.text)
    for recent in overview.recent_events:
        add(recent.id)
    if event is None:
        return found
    for exc in event.exceptions:
        add(exc.type)
        add(exc.value)
    raised = event.exceptions[-1] if event.exceptions else None
    crashed = next((thread for thread in event.threads if thread.crashed), None)
    stacktrace = (raised.stacktrace if raised else None) or (crashed.stacktrace if crashed else None)
    if stacktrace is not None and stacktrace.frames:
        frame = stacktrace.frames[-1]
        add(f"{frame.location}:{frame.lineno}" if frame.lineno is not None else frame.location)
        add(frame.function)
        for variable in frame.vars:
            add(variable.name)
    for tag in event.tags:
        add(tag.key)
        add(tag.value)
    if event.user is not None:
        for name in ("id", "email", "username", "ip_address", "name"):
            add(getattr(event.user, name))
    for context in event.contexts:
        add(context.name)
        for name, value in context.fields:
            add(name)
            add(value)
    for crumb in event.breadcrumbs[-5:]:
        add(crumb.message or crumb.category)
    return found


def measure(refs: str, fmt: str, budget: int) -> dict[str, Any]:
    from sentry_issue_export import Settings, export_issues_sync
    from sentry_issue_export.mcp import wording
    from sentry_issue_export.models import apply_limits
    from sentry_issue_export.plugins import get_registry

    registry = get_registry()
    settings = Settings(source="samples", format=fmt)
    result = export_issues_sync(refs, settings, write=False, registry=registry)
    started = time.perf_counter()
    answer = wording.export_answer(result, registry.renderer(fmt), settings, max_inline_chars=budget)
    elapsed = time.perf_counter() - started
    folded = " ".join(answer.replace("\\", "").split())  # Markdown escapes punctuation with backslashes
    wanted = [fact for report in result.reports for fact in facts(apply_limits(report, settings.limits))]
    kept = sum(1 for fact in wanted if fact in folded)
    return {
        "answer": len(answer),
        "report": len(result.content),
        "facts": len(wanted),
        "kept": kept,
        "seconds": elapsed,
    }


def main(argv: list[str]) -> int:
    from sentry_issue_export.budget import DEFAULT_BUDGET
    from sentry_issue_export.samples import SAMPLE_NAMES

    parser = argparse.ArgumentParser(prog="python -m benchmarks answer", description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help="characters per answer")
    parser.add_argument("--format", default="text", help="text, markdown or json")
    args = parser.parse_args(argv)

    rows = [(name, measure(name, args.format, args.budget)) for name in SAMPLE_NAMES]
    rows.append((f"batch of all {len(SAMPLE_NAMES)}", measure(" ".join(SAMPLE_NAMES), args.format, args.budget)))
    print(f"format {args.format}, budget {args.budget:,} characters per answer\n")
    print(f"| {'sample':<26} | {'answer':>8} | {'report':>9} | {'facts kept':>14} | {'fit time':>8} |")
    print(f"|{'-' * 28}|{'-' * 10}|{'-' * 11}|{'-' * 16}|{'-' * 10}|")
    over = False
    for name, row in rows:
        share = f"{row['kept']}/{row['facts']} {row['kept'] / row['facts']:.0%}" if row["facts"] else "-"
        over |= row["answer"] > args.budget
        print(f"| {name:<26} | {row['answer']:>8,} | {row['report']:>9,} | {share:>14} | {row['seconds']:>7.2f}s |")
    return 1 if over else 0
