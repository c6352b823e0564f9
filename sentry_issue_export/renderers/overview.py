"""Plain-text building blocks for what an issue says across all its events, and for an issue's headline line.

Shared by the text and Markdown templates (each escapes the result for its format) and by the answer an
assistant reads, which opens with one headline line per issue. Nothing here is format-specific.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from ..models import ActivityEntry, IssueOverview, IssueSummary, RecentEvent, TagDistribution, Trend
from ..textsafe import collapse_whitespace
from .formatting import format_number, format_when, plural

BARS = "▁▂▃▄▅▆▇█"
EMPTY_BAR = "·"
"""A bucket with no events: apart from the lowest bar, which means "a few"."""
HEADLINE_TITLE_CHARS = 120
"""A headline line cuts the title here; the report has it whole."""
HEADLINE_NAME_CHARS = 60
"""A headline line cuts the issue's name (its short id, as the server sent it) here, and its level at
:data:`HEADLINE_LEVEL_CHARS`, so the counts after them stay in view."""
HEADLINE_LEVEL_CHARS = 20
HEADLINE_TREND_BUCKETS = 60
"""A headline's trend shows at most the newest this many buckets (a day has 24, a month 30)."""


def sparkline(trend: Trend | None) -> str:
    """One character per bucket, oldest first: ``·`` for none, else a bar scaled to the period's peak."""
    if trend is None or not trend.buckets:
        return ""
    peak = trend.peak[1]
    if peak <= 0:
        return EMPTY_BAR * len(trend.buckets)
    top = len(BARS) - 1
    return "".join(
        EMPTY_BAR if count <= 0 else BARS[min(top, max(0, -(-count * top // peak)))] for _, count in trend.buckets
    )


def bucket_name(trend: Trend) -> str:
    return "hourly" if trend.interval == "hour" else "daily"


def peak_text(trend: Trend) -> str:
    """``peak 97 in the hour from 2025-03-14 09:00 UTC`` or ``peak 312 on 2025-03-12``."""
    when, count = trend.peak
    if count <= 0:
        return "no events"
    if not isinstance(when, datetime):
        return f"peak {format_number(count)}"
    if trend.interval == "day":
        return f"peak {format_number(count)} on {when.strftime('%Y-%m-%d')}"
    return f"peak {format_number(count)} in the hour from {when.strftime('%Y-%m-%d %H:%M')} UTC"


def trend_summary(trend: Trend) -> str:
    """``147 events; peak 97 in the hour from 2025-03-14 09:00 UTC``."""
    total = trend.total
    if total == 0:
        return "no events"
    return f"{plural(total, 'event')}; {peak_text(trend)}"


def trend_label(trend: Trend) -> str:
    """``24 h, hourly``: the period and the width of one bar."""
    return f"{trend.period.replace('h', ' h').replace('d', ' d').replace('w', ' w')}, {bucket_name(trend)}"


def share_text(tag: TagDistribution, count: int | None) -> str:
    if count is None:
        return "?"
    if not tag.total:
        return format_number(count)
    percent = 100 * count / tag.total
    if 0 < percent < 1:
        shown = "<1"
    elif 99 < percent < 100:
        shown = ">99"  # not "100%" while other values exist
    else:
        shown = f"{percent:.0f}"
    return f"{format_number(count)} ({shown}%)"


def tag_values_text(tag: TagDistribution) -> str:
    """``Chrome 131.0 412 (69%) · Safari 18.1 160 (27%) · other values 24 (4%)``; one value alone reads as
    ``eu-west-3, all 600 events``."""
    values = tag.values
    if len(values) == 1 and tag.total and values[0].count == tag.total:
        return f"{_one_line(values[0].label)}, all {plural(tag.total, 'event')}"
    parts = [f"{_one_line(value.label)} {share_text(tag, value.count)}" for value in values]
    others = tag.other_count
    if others:
        distinct = f"{tag.unique - len(values):,} other values" if tag.unique and tag.unique > len(values) else "others"
        parts.append(f"{distinct} {share_text(tag, others)}")
    return " · ".join(parts) if parts else "(no values)"


def release_lines(overview: IssueOverview) -> list[tuple[str, str]]:
    """``(label, text)`` lines: the first and last release, then where the activity says it regressed or was
    resolved."""
    lines: list[tuple[str, str]] = []
    for label, release in (("First seen in", overview.first_release), ("Last seen in", overview.last_release)):
        if release is None:
            continue
        dates = [
            f"{word} {format_when(when)}"
            for word, when in (("created", release.date_created), ("released", release.date_released))
            if when
        ]
        if release.first_seen and release.last_seen:
            dates.append(
                f"the issue's events in it from {format_when(release.first_seen)} to {format_when(release.last_seen)}"
            )
        lines.append((label, release.version + (f" ({', '.join(dates)})" if dates else "")))
    if overview.releases_from_tags and not overview.releases_complete:
        lines.append(("Read from", f"the {plural(overview.releases_from_tags, 'most common release')} only"))
    elif overview.releases_from_tags:
        lines.append(("Read from", f"the release tag's {plural(overview.releases_from_tags, 'value')}"))
    for entry in reversed(overview.activity):  # oldest first, as a history reads
        milestone = _MILESTONES.get(entry.type)
        if milestone is None:
            continue
        when = f"on {format_when(entry.date)}" if entry.date else ""
        if entry.version:
            lines.append((f"{milestone} in", f"{entry.version} {when}".rstrip()))
        elif when:
            lines.append((milestone, when))
    return lines


_MILESTONES = {
    "set_regression": "Regressed",
    "set_resolved_in_release": "Resolved",
    "set_resolved_in_next_release": "Resolved",
    "set_resolved": "Resolved",
}


_ACTIVITY_WORDS = {
    "note": "note",
    "set_regression": "regressed",
    "set_resolved": "resolved",
    "set_resolved_in_release": "resolved in a release",
    "set_resolved_in_next_release": "resolved in the next release",
    "set_resolved_in_commit": "resolved in a commit",
    "set_resolved_in_pull_request": "resolved in a pull request",
    "set_resolved_by_age": "resolved by age",
    "set_unresolved": "marked unresolved",
    "set_ignored": "ignored",
    "set_escalating": "escalating",
    "set_priority": "priority changed",
    "set_public": "made public",
    "set_private": "made private",
    "assigned": "assigned",
    "unassigned": "unassigned",
    "merge": "merged",
    "unmerge_source": "unmerged from",
    "unmerge_destination": "unmerged into",
    "first_seen": "first seen",
    "mark_reviewed": "marked reviewed",
    "auto_set_ongoing": "marked ongoing",
    "reprocess": "reprocessed",
    "create_issue": "linked an external issue",
}


def activity_text(entry: ActivityEntry) -> str:
    """What happened, in words: ``regressed in shop@3.1.0``, ``assigned to Priya Raman``, ``note``; a note's
    text is shown apart (:func:`activity_note`)."""
    words = _ACTIVITY_WORDS.get(entry.type, entry.type.replace("_", " "))
    data = dict(entry.data)
    if entry.type == "assigned":
        who = data.get("assigneeName") or data.get("assigneeEmail") or data.get("assignee")
        words = f"assigned to {who}" if who else words
    elif entry.type == "set_priority" and data.get("priority"):
        words = f"priority set to {data['priority']}"
    elif entry.type == "merge" and data.get("issues"):
        words = f"merged with {plural(len(data['issues']) if isinstance(data['issues'], list) else None, 'issue')}"
    if entry.version:
        words = words.replace(" in a release", "") + f" in {entry.version}"
    if entry.user and entry.type != "note":
        words += f", by {entry.user}"
    elif entry.type == "note":
        words = f"note by {entry.user}" if entry.user else "note"
    return words


def activity_note(entry: ActivityEntry) -> str | None:
    return entry.text if entry.text else None


def recent_event_fields(event: RecentEvent) -> list[str]:
    """Date, release, environment, user and title of a recent event (``""`` where unknown), each followed by
    `` *`` when it differs from the event shown in detail."""

    def marked(name: str, value: str | None) -> str:
        if not value:
            return ""
        return f"{value} *" if name in event.differs else value

    title = marked("title", _one_line(event.title) if event.title else None)
    if event.is_shown:
        title = f"{title} (the event shown in detail)".lstrip()
    return [
        format_when(event.date) or "(no date)",
        marked("release", event.release),
        marked("environment", event.environment),
        f"user {event.user}" if event.user else "",
        title,
    ]


def recent_event_text(event: RecentEvent) -> str:
    """``2025-03-14 09:26:53 UTC  shop@3.1.0  production  user a@b.example  ValueError: SKU-31 *``."""
    return "  ".join(field for field in recent_event_fields(event) if field)


def notes_elsewhere(overview: IssueOverview) -> int:
    """Notes the issue has (``numComments``) that its activity list here does not show."""
    shown = sum(1 for entry in overview.activity if entry.type == "note")
    return max((overview.comments or 0) - shown, 0)


def has_differences(overview: IssueOverview) -> bool:
    return any(event.differs for event in overview.recent_events)


def headline(summary: IssueSummary, number: int | None = None) -> str:
    """One line that says what an issue is and how bad: ``3. SHOP-3K  error  1,287 events  342 users  last seen
    2025-03-14 09:26 UTC  24 h ▁▂█▃  RuntimeError: Refund for order …``."""
    trend = summary.trend
    parts = [
        f"{number}." if number is not None else None,
        _cut(_one_line(summary.name), HEADLINE_NAME_CHARS),
        _cut(_one_line(summary.level), HEADLINE_LEVEL_CHARS) if summary.level else None,
        plural(summary.count, "event") if summary.count is not None else None,
        plural(summary.user_count, "user") if summary.user_count is not None else None,
        f"last seen {format_when(summary.last_seen)}" if summary.last_seen else None,
        _trend_part(trend) if trend is not None else None,
        _cut(_one_line(summary.title or "(no title)"), HEADLINE_TITLE_CHARS),
    ]
    return "  ".join(part for part in parts if part)


def _trend_part(trend: Trend) -> str:
    newest = attrs.evolve(trend, buckets=trend.buckets[-HEADLINE_TREND_BUCKETS:])
    return f"{_cut(_one_line(trend.period), HEADLINE_LEVEL_CHARS)} {sparkline(newest)}"


def headlines(summaries: Sequence[IssueSummary]) -> list[str]:
    return [headline(summary, number) for number, summary in enumerate(summaries, 1)]


def _one_line(text: Any) -> str:
    return collapse_whitespace(str(text))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
