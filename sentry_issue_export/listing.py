"""The triage list: the issues a search finds, or the issues named, one headline each, with no event fetched.

Think of ``gh issue list``: a table to scan before choosing what to open. Each row says what the issue is and
how bad: short id, level, status, events, users, last seen, the last day's trend and the title. The rows come
from what the server lists issues with (Sentry's issue index: one request per 100 issues), so a search of
1,000 issues costs a handful of requests rather than a thousand event fetches.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import attrs

from .errors import FetchError
from .hookspecs import BaseSource, FetchFailure, RawIssue, Source
from .models import IssueSummary
from .plugins import Registry, get_registry
from .refs import DEFAULT_SEARCH_LIMIT, IssueRef, IssueSearch
from .selection import IssueFailure, SearchOutcome, ServerKinds, check_limit, select_issues, source_for
from .settings import Settings


@attrs.frozen
class IssueList:
    """The rows of a triage list, in the order given (the references, then each search's matches), with the
    references that could not be listed and what each search found."""

    issues: tuple[IssueSummary, ...]
    failures: tuple[IssueFailure, ...]
    searches: tuple[SearchOutcome, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures and bool(self.issues)


async def list_issues(
    refs: str | Sequence[str] | Sequence[IssueRef],
    settings: Settings,
    *,
    search: IssueSearch | None = None,
    limit: int = DEFAULT_SEARCH_LIMIT,
    registry: Registry | None = None,
    server_kinds: ServerKinds | None = None,
) -> IssueList:
    """One summary per issue ``refs`` names or ``search`` finds (its first ``limit``), read without events.

    Raises ``ExportError`` only for what concerns the whole call (unknown source, nothing named, a limit out of
    range); an issue or a search that fails is reported in the result.
    """
    check_limit(limit)
    registry = registry or get_registry()
    settings, source = await source_for(settings, registry, server_kinds)
    selection = await select_issues(refs, source, settings, search, limit)
    selection.nothing_to_do()
    positions = {ref: position for position, ref in enumerate(selection.wanted)}
    rows = {
        position: IssueSummary.from_api(selection.listed[ref], str(ref))
        for ref, position in positions.items()
        if ref in selection.listed
    }
    failed: dict[int, IssueFailure] = {}
    unlisted = [ref for ref in selection.wanted if ref not in selection.listed]
    async for item in source_headlines(source, unlisted, settings) if unlisted else _nothing():
        position = positions.get(item.ref)
        if position is None or position in rows or position in failed:
            continue
        if isinstance(item, FetchFailure):
            failed[position] = IssueFailure(str(item.ref), item.error)
        else:
            rows[position] = IssueSummary.from_api(item.issue, str(item.ref))
    for ref, position in positions.items():
        if position not in rows and position not in failed:
            failed[position] = IssueFailure(str(ref), FetchError(f"The {source.name} source returned nothing for it."))
    return IssueList(
        tuple(rows[position] for position in sorted(rows)),
        (*selection.failures, *(failed[position] for position in sorted(failed))),
        selection.searches,
    )


async def _nothing() -> AsyncIterator[RawIssue | FetchFailure]:
    return
    yield


def list_issues_sync(refs: str | Sequence[str] | Sequence[IssueRef], settings: Settings, **kwargs: Any) -> IssueList:
    """``list_issues`` for callers without an event loop."""
    return asyncio.run(list_issues(refs, settings, **kwargs))


def source_headlines(
    source: Source, refs: Sequence[IssueRef], settings: Settings
) -> AsyncIterator[RawIssue | FetchFailure]:
    """The source's own listing (``headlines``); a plugin source written before listing existed, without one,
    lists through ``BaseSource``'s, built on its ``fetch``."""
    headlines = getattr(source, "headlines", None)
    if headlines is not None:
        result: AsyncIterator[RawIssue | FetchFailure] = headlines(refs, settings)
        return result
    return BaseSource.headlines(source, refs, settings)  # type: ignore[arg-type]


def row_json(summary: IssueSummary) -> dict[str, Any]:
    """One row of the list as JSON: the summary's fields, timestamps in ISO 8601, the trend's buckets as
    ``[timestamp, count]`` pairs."""
    row: dict[str, Any] = {
        field.name: _iso(getattr(summary, field.name))
        for field in attrs.fields(IssueSummary)
        if field.name != "compact_trend"
    }
    trend = summary.trend
    row["trend"] = (
        None
        if trend is None
        else {
            "period": trend.period,
            "interval": trend.interval,
            "buckets": [[_iso(when), count] for when, count in trend.buckets],
        }
    )
    return row


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if isinstance(value, datetime) else value
