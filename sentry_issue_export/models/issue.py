"""The issue (a Sentry "group") and the report that pairs it with one of its events.

The top of the model tree: ``build_report`` is what the exporter calls with the API responses: the issue, its
event, and what the issue says across all its events (``overview``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

import attrs

from .coerce import Field, Timestamp, as_fields, as_int, as_mapping, as_text, parse_timestamp, pick, release_version
from .event import Event
from .overview import IssueOverview, Trend

if TYPE_CHECKING:
    from ..settings import RenderLimits


@attrs.frozen
class Project:
    id: str | None = None
    slug: str | None = None
    name: str | None = None


@attrs.frozen
class Issue:
    """A Sentry issue (a "group"): the summary shared by all its events."""

    id: str | None = None
    short_id: str | None = None
    title: str | None = None
    culprit: str | None = None
    permalink: str | None = None
    level: str | None = None
    status: str | None = None
    substatus: str | None = None
    priority: str | None = None
    platform: str | None = None
    project: Project | None = None
    type: str | None = None
    issue_category: str | None = None
    metadata: tuple[Field, ...] = ()
    count: int | None = None
    user_count: int | None = None
    first_seen: Timestamp = None
    last_seen: Timestamp = None
    assigned_to: str | None = None
    first_release: str | None = None
    last_release: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        project = data.get("project")
        return cls(
            id=as_text(data.get("id")),
            short_id=as_text(pick(data, "shortId", "short_id")),
            title=as_text(data.get("title")),
            culprit=as_text(data.get("culprit")) or None,
            permalink=as_text(data.get("permalink")),
            level=as_text(data.get("level")),
            status=as_text(data.get("status")),
            substatus=as_text(data.get("substatus")),
            priority=as_text(data.get("priority")),
            platform=as_text(data.get("platform")),
            project=_project(project),
            type=as_text(pick(data, "issueType", "type")),
            issue_category=as_text(pick(data, "issueCategory", "issue_category")),
            metadata=as_fields(data.get("metadata")),
            count=as_int(data.get("count")),
            user_count=as_int(pick(data, "userCount", "user_count")),
            first_seen=parse_timestamp(pick(data, "firstSeen", "first_seen")),
            last_seen=parse_timestamp(pick(data, "lastSeen", "last_seen")),
            assigned_to=_assignee(pick(data, "assignedTo", "assigned_to")),
            first_release=release_version(pick(data, "firstRelease", "first_release")),
            last_release=release_version(pick(data, "lastRelease", "last_release")),
        )


def _project(value: Any) -> Project | None:
    if isinstance(value, dict):
        project = Project(as_text(value.get("id")), as_text(value.get("slug")), as_text(value.get("name")))
        return project if project != Project() else None
    text = as_text(value)
    return Project(slug=text) if text else None


def _assignee(value: Any) -> str | None:
    if isinstance(value, dict):
        name = as_text(pick(value, "name", "username", "slug", "id"))
        email = as_text(value.get("email"))
        kind = as_text(value.get("type"))
        label = f"{name} <{email}>" if name and email and name != email else name or email
        return f"team {label}" if label and kind == "team" else label
    return as_text(value) or None


@attrs.frozen
class IssueReport:
    """Everything one report shows about one issue."""

    issue: Issue
    event: Event | None
    """``None`` when the issue has no event left in retention; the report says so."""
    ref_text: str = ""
    """The reference as the user typed it."""
    limits: RenderLimits | None = None
    """The limits the report was capped with (``apply_limits``); ``None`` for an uncapped report."""
    overview: IssueOverview = attrs.field(factory=IssueOverview)
    """What the issue says across all its events: tag shares, trend, releases, activity, recent events."""

    @property
    def name(self) -> str:
        """How messages and notes name the issue (:func:`issue_name`)."""
        return issue_name(self.issue.short_id, self.issue.id, self.ref_text)


def issue_name(short_id: str | None, issue_id: str | None, ref_text: str) -> str:
    """An issue's name for people: its short id when it has one (``BACKEND-1A``), else its numeric id, else the
    reference as typed, else ``?``. The one rule every message, list and note uses."""
    return short_id or issue_id or ref_text or "?"


@attrs.frozen
class IssueSummary:
    """What an export keeps of each issue once its report is rendered: enough to name it and to give it one
    headline line (level, counts, last seen, the last day's trend).

    A streaming export holds one of these per issue instead of the report, so its memory does not grow with
    the size of the events; the file template lists issues by them, and an answer opens with their headlines.
    """

    ref_text: str = ""
    id: str | None = None
    short_id: str | None = None
    title: str | None = None
    level: str | None = None
    permalink: str | None = None
    event_id: str | None = None
    status: str | None = None
    count: int | None = None
    user_count: int | None = None
    last_seen: Timestamp = None
    compact_trend: CompactTrend | None = attrs.field(default=None, repr=False)

    @property
    def trend(self) -> Trend | None:
        """The shortest period of the issue's stats (hourly over the last 24 hours on Sentry), if it has any."""
        return self.compact_trend.trend if self.compact_trend is not None else None

    @classmethod
    def of(cls, report: IssueReport) -> Self:
        issue = report.issue
        event = report.event
        trends = report.overview.trends
        return cls(
            report.ref_text,
            issue.id,
            issue.short_id,
            issue.title or (event.title if event is not None else None),
            issue.level or (event.level if event is not None else None),
            issue.permalink,
            event.id if event is not None else None,
            issue.status,
            issue.count,
            issue.user_count,
            issue.last_seen,
            CompactTrend.of(trends[0]) if trends else None,
        )

    @classmethod
    def from_api(cls, issue_json: Any, ref_text: str = "") -> Self:
        """A summary straight from an issue's JSON (an issue list's row), with no event."""
        return cls.of(IssueReport(Issue.from_api(issue_json), None, ref_text, overview=IssueOverview.build(issue_json)))

    @property
    def name(self) -> str:
        """How messages and lists name the issue (:func:`issue_name`)."""
        return issue_name(self.short_id, self.id, self.ref_text)


@attrs.frozen
class CompactTrend:
    """A ``Trend`` kept in a tenth of the memory: its counts, and the time of the first bucket when the buckets are
    evenly spaced (as Sentry's are); an export holds one per issue for the headlines."""

    period: str
    interval: str
    counts: tuple[int, ...]
    start: datetime | None = None
    step: float = 0.0
    times: tuple[Timestamp, ...] | None = None
    """Every bucket's time, kept only when they are not evenly spaced."""

    @classmethod
    def of(cls, trend: Trend) -> CompactTrend:
        times = [when for when, _ in trend.buckets]
        counts = tuple(count for _, count in trend.buckets)
        dated = [when for when in times if isinstance(when, datetime)]
        if len(dated) == len(times) >= 2:
            steps = {(later - earlier).total_seconds() for earlier, later in itertools.pairwise(dated)}
            if len(steps) == 1:
                return cls(trend.period, trend.interval, counts, dated[0], steps.pop())
        return cls(trend.period, trend.interval, counts, times=tuple(times))

    @property
    def trend(self) -> Trend:
        if self.times is not None:
            times: list[Timestamp] = list(self.times)
        else:
            start = self.start
            times = [start + timedelta(seconds=self.step * n) if start else None for n in range(len(self.counts))]
        return Trend(self.period, self.interval, tuple(zip(times, self.counts, strict=True)))


def build_report(
    issue_json: Any,
    event_json: Any,
    ref_text: str = "",
    *,
    tags: Any = None,
    events: Any = None,
    unavailable: Mapping[str, str] | None = None,
) -> IssueReport:
    """Models for one issue from its API JSON; ``event_json`` is ``None`` when no event is available.

    ``tags`` and ``events`` are the answers of the issue's tags and events endpoints (or ``None`` when they
    were not asked for), ``unavailable`` the parts of the overview the server did not give, each with why.
    """
    event = None if event_json is None else Event.from_api(event_json)
    return IssueReport(
        issue=Issue.from_api(issue_json),
        event=event,
        ref_text=ref_text if isinstance(ref_text, str) else str(ref_text),
        overview=IssueOverview.build(issue_json, tags, events, unavailable, shown=event),
    )
