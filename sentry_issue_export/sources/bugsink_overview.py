"""What a Bugsink (2.x) says about an issue across all its events, read from its API and mapped into the payload
contract (``RawIssue``): tag counts, hourly event counts, the issue's history, and its recent events.

Bugsink 2.6 answers all four (``issues/{id}/tags/``, ``issues/{id}/event-counts/``, ``issue-history/?issue=``,
``events/?issue=``); a Bugsink that answers 404 for one of them has no such endpoint, and the report says so in
one line. Where Bugsink's shapes differ from Sentry's, they are mapped here:

- tags come as one row per (key, value) with its count, in the order they were first stored; they are summed
  per key (``totalValues``) and the most frequent values kept. Only the first :data:`TAG_PAGES` pages are read:
  an issue with more values than that (a tag unique to every event) gets its counts without shares, and says so;
- event counts come hourly: the last 24 are the day's trend, and the last 30 days are summed per UTC day;
- the history's kinds (``first_seen``, ``regressed``, ``manual_annotation`` ...) become Sentry's activity types;
- the events list gives ids and dates only, so the recent events' release, environment, user and title are read
  from each event's data (the newest few, at once; the event shown in detail is not read twice).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from ..errors import FetchError, NotFoundError
from ..models.coerce import epoch_seconds, parse_timestamp
from ..web.paging import cursor_pages, with_cursor
from .bugsink_api import NO_EVENTS_READ, NO_ISSUES_READ, meaning, page_of
from .file import issue_from_event

if TYPE_CHECKING:
    from ..web.transport import ApiTransport

TAG_PAGES = 4
"""Pages of 250 tag rows read at most per issue."""
HOURS_READ = 30 * 24
"""Hourly counts asked for: the last 30 days, the current hour included."""

HISTORY_TYPES = {
    "first_seen": "first_seen",
    "resolved": "set_resolved",
    "muted": "set_ignored",
    "regressed": "set_regression",
    "reopened": "set_unresolved",
    "manual_annotation": "note",
    "next_materialized": "set_resolved_in_release",
}
"""Bugsink's turning-point kinds, as Sentry's activity types; other kinds keep their own name."""

WHAT = {
    "tags": "tag counts",
    "trend": "event counts over time",
    "activity": "history (notes, resolutions, regressions)",
    "events": "list of events",
}


IssueWide = tuple[dict[str, Any], list[Any] | None, list[Any] | None, dict[str, str]]


async def issue_wide(
    transport: ApiTransport,
    uuid: str,
    shown: Awaitable[dict[str, Any] | None],
    *,
    tag_values: int,
    recent_events: int,
    trend_only: bool = False,
) -> IssueWide:
    """What the issue's own JSON gains (Sentry's ``stats`` from the hourly counts, ``activity`` from the
    history), its tags and its recent events (as many as asked for; none for 0), and each part that cannot be
    had, with why. ``shown`` is the event the report shows in detail, being read meanwhile: its data is not
    read again for the list. With both sizes 0 nothing is asked (Sentry's issue answer holds its trend and
    activity; Bugsink's does not); ``trend_only`` asks for the trend alone, as a headline shows it."""
    jobs: dict[str, Awaitable[Any]] = {}
    if tag_values or recent_events or trend_only:
        jobs["trend"] = _stats(transport, uuid)
    if tag_values or recent_events:
        jobs["activity"] = _history(transport, uuid)
    if tag_values:
        jobs["tags"] = _tags(transport, uuid, tag_values)
    if recent_events:
        jobs["events"] = _recent_events(transport, uuid, recent_events, shown)
    outcomes = dict(zip(jobs, await asyncio.gather(*jobs.values(), return_exceptions=True), strict=True))
    unavailable: dict[str, str] = {}
    for part, outcome in outcomes.items():
        if isinstance(outcome, NotFoundError) and outcome.status == 404 and part != "events":
            unavailable[part] = (
                f"This Bugsink has no {WHAT[part]} for an issue in its API (it answered 404; Bugsink 2.6 has them)."
            )
        elif isinstance(outcome, FetchError):
            unavailable[part] = f"Not read: {outcome}"
        elif isinstance(outcome, Exception):  # a bug must cost this part only, not the issue
            unavailable[part] = transport.scrub(f"Not read: reading it failed unexpectedly ({type(outcome).__name__}).")
    issue: dict[str, Any] = {}
    if isinstance(stats := outcomes.get("trend"), dict):
        issue["stats"] = stats
    if isinstance(activity := outcomes.get("activity"), list):
        issue["activity"] = activity
    tags, events = outcomes.get("tags"), outcomes.get("events")
    if isinstance(tags, tuple):
        tags, partial = tags
        if partial:
            unavailable["tags"] = (
                f"Bugsink stores more than {TAG_PAGES * 250:,} tag values for this issue; the counts are of the first "
                "it stored, so no shares are given."
            )
    return (issue, tags if isinstance(tags, list) else None, events if isinstance(events, list) else None, unavailable)


async def _tags(transport: ApiTransport, uuid: str, values: int) -> tuple[list[dict[str, Any]], bool]:
    """Sentry's tags answer from Bugsink's rows, and whether there were more rows than were read."""
    counts: dict[str, dict[str, int]] = {}
    more: str | None = None

    async def read(cursor: str | None) -> tuple[list[Any], str | None]:
        nonlocal more
        rows, more = await page_of(
            transport,
            ("issues", uuid, "tags"),
            with_cursor((), cursor),
            f"the tags of issue {uuid}",
            NO_EVENTS_READ,
            kind="tags",
        )
        return rows, more

    async for rows in cursor_pages(read, max_pages=TAG_PAGES):
        for row in rows:
            if isinstance(row, dict) and isinstance(row.get("key"), str) and isinstance(row.get("count"), int):
                values_of = counts.setdefault(row["key"], {})
                values_of[str(row.get("value"))] = values_of.get(str(row.get("value")), 0) + row["count"]
    partial = more is not None  # rows were left unread
    tags = []
    for key, by_value in counts.items():
        ordered = sorted(by_value.items(), key=lambda item: -item[1])
        tags.append(
            {
                "key": key,
                "name": key,
                "totalValues": None if partial else sum(by_value.values()),
                "uniqueValues": None if partial else len(by_value),
                "topValues": [{"key": key, "value": value, "count": count} for value, count in ordered[:values]],
            }
        )
    return tags, partial


async def _stats(transport: ApiTransport, uuid: str) -> dict[str, list[list[int]]]:
    """Sentry's ``stats``: the last 24 hourly counts, and the last 30 days' counts summed per UTC day."""
    now = int(time.time())
    start = now - now % 3600 - (HOURS_READ - 1) * 3600
    stamp = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(start))
    data, _ = await transport.get_json(
        ("issues", uuid, "event-counts"),
        kind="other",
        what=f"the event counts of issue {uuid}",
        params=[("start", stamp)],
        meaning=meaning(),
    )
    buckets = data.get("buckets") if isinstance(data, dict) else None
    if not isinstance(buckets, list):
        raise transport.responses.wrong_shape(f"the event counts of issue {uuid}", data, "hourly buckets")
    hourly: list[list[int]] = []
    for bucket in buckets:
        when = epoch_seconds(parse_timestamp(bucket.get("timestamp"))) if isinstance(bucket, dict) else None
        count = bucket.get("count") if isinstance(bucket, dict) else None
        if when is not None and isinstance(count, int):
            hourly.append([int(when), count])
    daily: dict[int, int] = {}
    for when, count in hourly:
        day = when - when % 86_400
        daily[day] = daily.get(day, 0) + count
    return {"24h": hourly[-24:], "30d": [[day, count] for day, count in sorted(daily.items())][-30:]}


async def _history(transport: ApiTransport, uuid: str) -> list[dict[str, Any]]:
    """The issue's turning points, newest first (one page: 250), as Sentry's activity entries."""
    params = [("issue", uuid), ("order", "desc")]
    what = f"the history of issue {uuid}"
    rows, _ = await page_of(transport, ("issue-history",), params, what, NO_ISSUES_READ, kind="activity")
    return [activity for row in rows if isinstance(row, dict) and (activity := _activity(row))]


def _activity(row: dict[str, Any]) -> dict[str, Any] | None:
    kind = row.get("kind")
    if not isinstance(kind, str):
        return None
    found = row.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    data: dict[str, Any] = {key: value for key, value in metadata.items() if value not in (None, "", {}, [])}
    release = metadata.get("resolved_release") or metadata.get("actual_release")
    kind_type = HISTORY_TYPES.get(kind, kind)
    if kind == "resolved" and release:
        kind_type = "set_resolved_in_release"
    elif kind == "resolved" and metadata.get("resolve_by_next"):
        kind_type = "set_resolved_in_next_release"
    if release:
        data["version"] = release
    if row.get("comment"):
        data["text"] = row["comment"]
    name = row.get("user_display_name")
    return {
        "id": str(row.get("id")),
        "type": kind_type,
        "data": data,
        "dateCreated": row.get("timestamp"),
        "user": {"name": name} if name else None,
    }


async def _recent_events(
    transport: ApiTransport, uuid: str, limit: int, shown_event: Awaitable[dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """The newest ``limit`` events, each summarised from its data in the events list's light shape."""
    params = [("issue", uuid), ("order", "desc")]
    what = f"the events of issue {uuid}"
    listed, _ = await page_of(transport, ("events",), params, what, NO_EVENTS_READ, kind="events")
    rows = [row for row in listed if isinstance(row, dict)][:limit]
    try:
        shown = await shown_event
    except Exception:  # the event's own failure is reported with the issue; here it is only not reused
        shown = None
    shown_id = _plain_id((shown or {}).get("event_id"))

    async def summary(row: dict[str, Any]) -> dict[str, Any]:
        if shown is not None and _plain_id(row.get("event_id")) == shown_id:
            return light_event(shown, row)
        try:
            detail, _ = await transport.get_json(
                ("events", str(row.get("id"))),
                kind="event",
                what=f"event {row.get('id')} of issue {uuid}",
                meaning=meaning(forbidden=NO_EVENTS_READ),
            )
        except FetchError:
            return light_event({}, row)  # gone since it was listed, or unreadable: its id and date stay
        event_data = detail.get("data") if isinstance(detail, dict) else None
        return light_event(event_data if isinstance(event_data, dict) else {}, row)

    return list(await asyncio.gather(*(summary(row) for row in rows)))


def light_event(data: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """One recent event in the shape of Sentry's events list, from its SDK data and its row in Bugsink's list."""
    tags = [{"key": key, "value": data[key]} for key in ("release", "environment") if isinstance(data.get(key), str)]
    return {
        "eventID": _plain_id(row.get("event_id") or data.get("event_id")),
        "dateCreated": row.get("timestamp") or data.get("timestamp"),
        "title": issue_from_event(data).get("title"),
        "tags": tags,
        "user": data.get("user") if isinstance(data.get("user"), dict) else None,
        "platform": data.get("platform"),
    }


def _plain_id(value: Any) -> str | None:
    return value.replace("-", "").lower() if isinstance(value, str) else None
