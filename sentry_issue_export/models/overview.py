"""What an issue says across all its events: tag shares, the trend, releases, activity and the recent events.

A report shows one event in full; these models hold what the rest of the issue's events say, which is often
what solves the bug (it started in one release, it spikes hourly, it only hits Safari, the team rolled back at
14:05). They are built from the issue JSON (``stats``, ``firstRelease``, ``lastRelease``, ``activity``) and from
the answers of the tags and events endpoints, which a source hands over beside the issue (``RawIssue``). A part
the server does not give, or would not give this time, is named in ``IssueOverview.unavailable`` with a
sentence saying why, so a report never invents a number it did not get.

Like every model, ``IssueOverview.build`` accepts any JSON and never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

import attrs

from .coerce import (
    Field,
    Timestamp,
    as_fields,
    as_int,
    as_list,
    as_mapping,
    as_pairs,
    as_text,
    parse_timestamp,
    pick,
    release_version,
)

if TYPE_CHECKING:
    from .event import Event

PARTS = ("trend", "releases", "tags", "activity", "events")
"""The parts of an overview, each its own section; ``unavailable`` names them by these words."""

TAG_ORDER = ("release", "environment", "browser", "browser.name", "os", "os.name", "device", "url", "user")
"""Tag keys shown first, in this order; the others follow by how many events carry them."""

PERIODS: Mapping[str, tuple[str, str]] = {
    "24h": ("the last 24 hours", "hour"),
    "14d": ("the last 14 days", "day"),
    "30d": ("the last 30 days", "day"),
}
"""Sentry's stats periods: what each covers and how long one bucket is."""


@attrs.frozen
class TagValue:
    """One value of a tag across the issue's events, and how many events carry it."""

    value: str | None = None
    name: str | None = None
    """How Sentry names the value for people (``user`` values are ``id:12`` with the name ``12``)."""
    count: int | None = None
    first_seen: Timestamp = None
    last_seen: Timestamp = None

    @property
    def label(self) -> str:
        return self.name or self.value or "(empty)"


@attrs.frozen
class TagDistribution:
    """One tag key across the issue's events: its most common values, each a share of ``total``."""

    key: str
    name: str | None = None
    total: int | None = None
    """Events that carry this tag (Sentry's ``totalValues``)."""
    unique: int | None = None
    """Distinct values, when the server says (GlitchTip and Bugsink do, Sentry's list does not)."""
    values: tuple[TagValue, ...] = ()
    """The top values, most frequent first."""
    values_truncated: int = 0
    """Top values left out by ``RenderLimits.max_tag_values``."""

    @property
    def other_count(self) -> int:
        """Events carrying a value that is not listed (the values cut, and those past the server's top)."""
        listed = sum(value.count or 0 for value in self.values)
        return max((self.total or 0) - listed, 0)

    def share(self, value: TagValue) -> float | None:
        return value.count / self.total if value.count is not None and self.total else None

    @classmethod
    def from_api(cls, data: Any) -> Self | None:
        data = as_mapping(data)
        key = as_text(data.get("key"))
        if not key:
            return None
        values = [_tag_value(item) for item in as_list(pick(data, "topValues", "top_values"))]
        values.sort(key=lambda value: -(value.count or 0))  # stable: the server's order among equals
        total = as_int(pick(data, "totalValues", "total_values"))
        if total is None and values:
            total = sum(value.count or 0 for value in values)
        return cls(
            key=key,
            name=as_text(data.get("name")),
            total=total,
            unique=as_int(pick(data, "uniqueValues", "unique_values")),
            values=tuple(values),
        )


def _tag_value(data: Any) -> TagValue:
    data = as_mapping(data)
    value = as_text(data.get("value"))
    name = as_text(data.get("name"))
    return TagValue(
        value=value,
        name=name if name != value else None,
        count=as_int(data.get("count")),
        first_seen=parse_timestamp(pick(data, "firstSeen", "first_seen")),
        last_seen=parse_timestamp(pick(data, "lastSeen", "last_seen")),
    )


def _tag_rank(item: tuple[int, TagDistribution]) -> tuple[int, int, int]:
    index, tag = item
    known = TAG_ORDER.index(tag.key) if tag.key in TAG_ORDER else len(TAG_ORDER)
    return (known, -(tag.total or 0), index)


@attrs.frozen
class Trend:
    """Event counts over one period, oldest bucket first (Sentry's ``stats["24h"]`` or ``stats["30d"]``)."""

    period: str
    """``24h``, ``14d``, ``30d`` or another period the server named."""
    interval: str
    """How long one bucket is: ``hour`` or ``day``."""
    buckets: tuple[tuple[Timestamp, int], ...]

    @property
    def total(self) -> int:
        return sum(count for _, count in self.buckets)

    @property
    def peak(self) -> tuple[Timestamp, int]:
        """The first bucket with the highest count."""
        return max(self.buckets, key=lambda bucket: bucket[1]) if self.buckets else (None, 0)

    @property
    def covers(self) -> str:
        return PERIODS.get(self.period, (f"the last {self.period}", self.interval))[0]


def _trends(stats: Any) -> tuple[Trend, ...]:
    trends = []
    for period, series in as_mapping(stats).items():
        buckets = []
        for point in as_list(series):
            pair = as_list(point)
            if len(pair) >= 2 and (count := as_int(pair[1])) is not None:
                buckets.append((parse_timestamp(pair[0]), max(count, 0)))
        if buckets:
            interval = PERIODS.get(str(period), ("", _interval_of(buckets)))[1]
            trends.append(Trend(str(period), interval, tuple(buckets)))
    return tuple(sorted(trends, key=lambda trend: _period_hours(trend.period)))


def _interval_of(buckets: list[tuple[Timestamp, int]]) -> str:
    times = [ts for ts, _ in buckets[:2] if isinstance(ts, datetime)]
    if len(times) == 2 and (times[1] - times[0]).total_seconds() >= 86_400:
        return "day"
    return "hour"


def _period_hours(period: str) -> float:
    number, unit = period[:-1], period[-1:]
    scale = {"h": 1, "d": 24, "w": 168}.get(unit)
    try:
        return float(number) * scale if scale else float("inf")
    except ValueError:
        return float("inf")


@attrs.frozen
class Release:
    """A release the issue was seen in: its version and, when Sentry sends the release object, its dates; or,
    read from the release tag's values, when the issue's events in it were first and last seen."""

    version: str
    date_created: Timestamp = None
    date_released: Timestamp = None
    first_seen: Timestamp = None
    last_seen: Timestamp = None

    @classmethod
    def from_api(cls, data: Any) -> Self | None:
        version = release_version(data)
        if not version:
            return None
        data = as_mapping(data)
        return cls(
            version=version,
            date_created=parse_timestamp(pick(data, "dateCreated", "date_created")),
            date_released=parse_timestamp(pick(data, "dateReleased", "date_released")),
        )


@attrs.frozen
class ActivityEntry:
    """One thing that happened to the issue: a note, a regression, a resolution, an assignment, a merge ...

    ``type`` is Sentry's activity type (``note``, ``set_regression``, ``set_resolved_in_release`` ...), kept as
    sent for types this version does not know; ``text`` is a note's text; ``version`` the release a
    regression or resolution names; ``data`` everything else the entry carries.
    """

    type: str
    date: Timestamp = None
    user: str | None = None
    text: str | None = None
    version: str | None = None
    data: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self | None:
        data = as_mapping(data)
        kind = as_text(data.get("type"))
        if not kind:
            return None
        details = as_mapping(data.get("data"))
        text = as_text(pick(details, "text", "comment"))
        version = release_version(pick(details, "version", "release"))
        user = as_mapping(data.get("user"))
        # Sentry names the assignee by id only; when people assign themselves, the actor names them.
        self_assigned = as_text(details.get("assignee")) == as_text(user.get("id")) and _person(user)
        if kind == "assigned" and details.get("assignee") is not None and not details.get("assigneeName"):
            details = {**details, "assigneeName": _person(user)} if self_assigned else details
        return cls(
            type=kind,
            date=parse_timestamp(pick(data, "dateCreated", "date_created", "timestamp")),
            user=_person(data.get("user")),
            text=text,
            version=version,
            data=tuple(
                (name, value)
                for name, value in as_fields(details)
                if name not in {"text", "comment", "version", "release"} and value not in (None, "", {}, [])
            ),
        )


def _person(value: Any) -> str | None:
    if isinstance(value, dict):
        return as_text(pick(value, "name", "username", "email", "id"))
    return as_text(value) or None


@attrs.frozen
class RecentEvent:
    """One of the issue's recent events, as the events list gives it, and how it differs from the event the
    report shows in detail (``differs``: ``title``, ``release``, ``environment``)."""

    id: str | None = None
    date: Timestamp = None
    title: str | None = None
    """Its title (``ValueError: unknown SKU 'SKU-31'``), else its message."""
    release: str | None = None
    environment: str | None = None
    user: str | None = None
    is_shown: bool = False
    """This is the event the report shows in detail."""
    differs: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        tags = {key: value for key, value in as_pairs(data.get("tags")) if key}
        return cls(
            id=as_text(pick(data, "eventID", "event_id", "id")),
            date=parse_timestamp(pick(data, "dateCreated", "date_created", "datetime", "timestamp")),
            title=as_text(data.get("title")) or as_text(data.get("message")) or None,
            release=release_version(data.get("release")) or tags.get("release"),
            environment=as_text(data.get("environment")) or tags.get("environment"),
            user=_event_user(data.get("user")) or tags.get("user"),
        )

    def compared_with(self, shown: Event | None) -> Self:
        """This event marked as the shown one, or with what differs from it."""
        if shown is None:
            return self
        if self.id and shown.id and _same_id(self.id, shown.id):
            return attrs.evolve(self, is_shown=True)
        differs = []
        if self.title and shown.title and self.title != shown.title:
            differs.append("title")
        for name in ("release", "environment"):
            own, other = getattr(self, name), getattr(shown, name)
            if own and other and own != other:
                differs.append(name)
        return attrs.evolve(self, differs=tuple(differs))


def _same_id(left: str, right: str) -> bool:
    return left.replace("-", "").lower() == right.replace("-", "").lower()


def _event_user(value: Any) -> str | None:
    if not isinstance(value, dict):
        return as_text(value) or None
    for key in ("email", "username", "id", "ip_address", "name"):
        text = as_text(value.get(key))
        if text:
            return text if key != "id" else f"id {text}"
    return None


@attrs.frozen
class IssueOverview:
    """Everything a report says about the issue as a whole, before its one event.

    ``unavailable`` holds ``(part, sentence)`` for each part (see :data:`PARTS`) the server does not give or
    did not give this time; a part that was not asked for (``--events 0``) is neither here nor there.
    """

    trends: tuple[Trend, ...] = ()
    first_release: Release | None = None
    last_release: Release | None = None
    tags: tuple[TagDistribution, ...] = ()
    tags_truncated: int = 0
    """Tag keys left out by ``RenderLimits.max_tag_keys``."""
    activity: tuple[ActivityEntry, ...] = ()
    """Newest first."""
    activity_truncated: int = 0
    recent_events: tuple[RecentEvent, ...] = ()
    """Newest first."""
    recent_events_truncated: int = 0
    releases_from_tags: int = 0
    """When the issue JSON names no first and last release, they are read from the release tag's values: this
    many of them, all there are or (when fewer than all the events carry one of them) the most common only."""
    releases_complete: bool = True
    """Whether the release tag's values read account for every event that carries a release."""
    comments: int | None = None
    """How many notes the issue has in all (Sentry's ``numComments``)."""
    unavailable: tuple[Field, ...] = ()

    def missing(self, part: str) -> str | None:
        """Why ``part`` is not shown, or ``None``."""
        return next((str(reason) for name, reason in self.unavailable if name == part), None)

    @property
    def is_empty(self) -> bool:
        return self == IssueOverview(comments=self.comments)

    @classmethod
    def build(
        cls,
        issue: Any,
        tags: Any = None,
        events: Any = None,
        unavailable: Mapping[str, str] | None = None,
        shown: Event | None = None,
    ) -> Self:
        issue = as_mapping(issue)
        entries = [entry for item in as_list(issue.get("activity")) if (entry := ActivityEntry.from_api(item))]
        entries.sort(key=_newest_first)
        distributions = [tag for item in as_list(tags) if (tag := TagDistribution.from_api(item))]
        ordered = [tag for _, tag in sorted(enumerate(distributions), key=_tag_rank)]
        recent = [RecentEvent.from_api(item).compared_with(shown) for item in as_list(events)]
        first = Release.from_api(pick(issue, "firstRelease", "first_release"))
        last = Release.from_api(pick(issue, "lastRelease", "last_release"))
        from_tags, complete = 0, True
        release_tag = next((tag for tag in ordered if tag.key == "release"), None)
        if first is None and last is None and release_tag is not None:
            first, last, from_tags = _releases_from(release_tag)
            complete = release_tag.other_count == 0
        return cls(
            trends=_trends(issue.get("stats")),
            first_release=first,
            last_release=last,
            releases_from_tags=from_tags,
            releases_complete=complete,
            tags=tuple(ordered),
            activity=tuple(entries),
            recent_events=tuple(recent),
            comments=as_int(pick(issue, "numComments", "num_comments")),
            unavailable=tuple(
                (part, reason) for part, reason in (unavailable or {}).items() if part in PARTS and reason
            ),
        )


def _releases_from(tag: TagDistribution) -> tuple[Release | None, Release | None, int]:
    """The first and last release among the release tag's dated values, and how many values were read."""
    dated = [
        value
        for value in tag.values
        if value.value and isinstance(value.first_seen, datetime) and isinstance(value.last_seen, datetime)
    ]
    if not dated:
        return None, None, 0
    first = min(dated, key=lambda value: value.first_seen)  # type: ignore[arg-type, return-value]
    last = max(dated, key=lambda value: value.last_seen)  # type: ignore[arg-type, return-value]

    def release(value: TagValue) -> Release:
        return Release(value.value or "", first_seen=value.first_seen, last_seen=value.last_seen)

    return release(first), release(last), len(dated)


def _newest_first(entry: ActivityEntry) -> tuple[int, float]:
    """Dated entries newest first; an undated one keeps its place after them (Python's sort is stable)."""
    when = entry.date
    return (0, -when.timestamp()) if isinstance(when, datetime) else (1, 0.0)
