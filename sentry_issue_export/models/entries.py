"""The event entries besides exceptions and security reports: threads, the logged message, the HTTP request,
breadcrumbs, transaction spans and entries this version does not know, plus what Sentry detected for a
non-error issue (its occurrence and evidence).

Each class reads one entry's ``data`` on its own; ``arrange_spans`` then puts a transaction's spans in tree order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Self

import attrs

from .coerce import (
    Field,
    Pair,
    Timestamp,
    as_bool,
    as_fields,
    as_list,
    as_mapping,
    as_pairs,
    as_query_pairs,
    as_text,
    epoch_seconds,
    parse_timestamp,
    pick,
)
from .stacktrace import Stacktrace, optional_stacktrace


@attrs.frozen
class Thread:
    """A thread at the time of the event; native and JVM crashes carry their stack traces here."""

    id: str | None = None
    name: str | None = None
    crashed: bool = False
    current: bool = False
    main: bool = False
    state: str | None = None
    stacktrace: Stacktrace | None = None
    raw_stacktrace: Stacktrace | None = None

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        return cls(
            id=as_text(data.get("id")),
            name=as_text(data.get("name")),
            crashed=bool(as_bool(data.get("crashed"))),
            current=bool(as_bool(data.get("current"))),
            main=bool(as_bool(data.get("main"))),
            state=as_text(data.get("state")),
            stacktrace=optional_stacktrace(data.get("stacktrace")),
            raw_stacktrace=optional_stacktrace(pick(data, "rawStacktrace", "raw_stacktrace")),
        )


@attrs.frozen
class Message:
    """A logged message: ``formatted`` is what was logged, ``message`` the template, ``params`` its arguments."""

    formatted: str | None = None
    message: str | None = None
    params: tuple[Any, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        if isinstance(data, str):
            return cls(formatted=data)
        data = as_mapping(data)
        params = data.get("params")
        return cls(
            formatted=as_text(data.get("formatted")),
            message=as_text(data.get("message")),
            params=tuple(params) if isinstance(params, list) else tuple(as_fields(params)),
        )

    @property
    def text(self) -> str:
        return self.formatted or self.message or ""


@attrs.frozen
class Request:
    """The HTTP request being handled. ``url`` has no query string; the query is in ``query``."""

    method: str | None = None
    url: str | None = None
    query: tuple[Pair, ...] = ()
    fragment: str | None = None
    headers: tuple[Pair, ...] = ()
    cookies: tuple[Pair, ...] = ()
    data: Any = None
    env: tuple[Pair, ...] = ()
    inferred_content_type: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        return cls(
            method=as_text(data.get("method")),
            url=as_text(data.get("url")),
            query=as_query_pairs(pick(data, "query", "query_string")),
            fragment=as_text(data.get("fragment")) or None,
            headers=as_pairs(data.get("headers"), string_separator="\n"),
            cookies=as_pairs(data.get("cookies"), string_separator=";"),
            data=data.get("data"),
            env=as_pairs(data.get("env")),
            inferred_content_type=as_text(pick(data, "inferredContentType", "inferred_content_type")),
        )


SQL_CATEGORIES = frozenset({"query", "sql", "sql.query", "db", "db.query", "db.sql.query", "db.sql"})


@attrs.frozen
class Breadcrumb:
    """Something that happened before the event: a log line, a query, an HTTP call, a navigation."""

    timestamp: Timestamp = None
    type: str | None = None
    category: str | None = None
    level: str | None = None
    message: str | None = None
    data: Any = None

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        return cls(
            timestamp=parse_timestamp(data.get("timestamp")),
            type=as_text(data.get("type")),
            category=as_text(data.get("category")),
            level=as_text(data.get("level")),
            message=as_text(data.get("message")),
            data=data.get("data"),
        )

    @property
    def is_sql(self) -> bool:
        """True for database queries, whose statement sits in ``message``."""
        return (self.category or "").lower() in SQL_CATEGORIES or (self.type or "").lower() == "query"


@attrs.frozen
class Span:
    """One span of a transaction. ``depth`` is its nesting below the transaction (0 = direct child) and
    ``offset_ms`` its start relative to the transaction's start; both are set when the event is built."""

    span_id: str | None = None
    parent_span_id: str | None = None
    trace_id: str | None = None
    op: str | None = None
    description: str | None = None
    status: str | None = None
    start_timestamp: Timestamp = None
    timestamp: Timestamp = None
    duration_ms: float | None = None
    offset_ms: float | None = None
    depth: int = 0
    data: tuple[Field, ...] = ()
    tags: tuple[Pair, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        start = parse_timestamp(pick(data, "start_timestamp", "startTimestamp"))
        end = parse_timestamp(data.get("timestamp"))
        start_s, end_s = epoch_seconds(start), epoch_seconds(end)
        return cls(
            span_id=as_text(pick(data, "span_id", "spanId")),
            parent_span_id=as_text(pick(data, "parent_span_id", "parentSpanId")),
            trace_id=as_text(pick(data, "trace_id", "traceId")),
            op=as_text(data.get("op")),
            description=as_text(data.get("description")),
            status=as_text(data.get("status")),
            start_timestamp=start,
            timestamp=end,
            duration_ms=(end_s - start_s) * 1000 if start_s is not None and end_s is not None else None,
            data=as_fields(data.get("data")),
            tags=as_pairs(data.get("tags")),
        )


def arrange_spans(spans: Iterable[Span], transaction_start: float | None) -> tuple[Span, ...]:
    """Spans in tree order (each parent before its children, siblings by start time) with depth and offset."""
    spans = list(spans)
    by_id = {span.span_id: span for span in spans if span.span_id}
    children: dict[str | None, list[int]] = defaultdict(list)
    roots: list[int] = []
    for index, span in enumerate(spans):
        parent = span.parent_span_id
        if parent and parent in by_id and parent != span.span_id:
            children[parent].append(index)
        else:
            roots.append(index)

    def start_of(index: int) -> tuple[bool, float, int]:
        start = epoch_seconds(spans[index].start_timestamp)
        return (start is None, start or 0.0, index)

    starts = [s for s in (epoch_seconds(span.start_timestamp) for span in spans) if s is not None]
    origin = transaction_start if transaction_start is not None else min(starts, default=None)
    ordered: list[Span] = []
    seen: set[int] = set()

    def walk(root: int) -> None:
        stack = [(root, 0)]
        while stack:
            index, depth = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            span = spans[index]
            start = epoch_seconds(span.start_timestamp)
            offset = (start - origin) * 1000 if start is not None and origin is not None else None
            ordered.append(attrs.evolve(span, depth=depth, offset_ms=offset))
            kids = sorted(children.get(span.span_id, ()), key=start_of, reverse=True)
            stack.extend((kid, depth + 1) for kid in kids)

    for root in sorted(roots, key=start_of):
        walk(root)
    for index in sorted(range(len(spans)), key=start_of):  # spans in a parent cycle, unreachable from a root
        walk(index)
    return tuple(ordered)


@attrs.frozen
class Evidence:
    """One fact Sentry shows for a performance or other non-error issue (``evidenceDisplay``)."""

    name: str
    value: str
    important: bool = False


@attrs.frozen
class Occurrence:
    """What Sentry detected for a non-error issue (an N+1 query, a slow DB call ...) and the spans involved."""

    issue_title: str | None = None
    subtitle: str | None = None
    culprit: str | None = None
    evidence: tuple[Evidence, ...] = ()
    evidence_data: tuple[Field, ...] = ()
    offender_span_ids: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        evidence_data = as_mapping(pick(data, "evidenceData", "evidence_data"))
        evidence = []
        for item in as_list(pick(data, "evidenceDisplay", "evidence_display")):
            item = as_mapping(item)
            name, value = as_text(item.get("name")), as_text(item.get("value"))
            if name or value:
                evidence.append(Evidence(name or "", value or "", bool(as_bool(item.get("important")))))
        offenders = as_list(pick(evidence_data, "offenderSpanIds", "offender_span_ids"))
        return cls(
            issue_title=as_text(pick(data, "issueTitle", "issue_title")),
            subtitle=as_text(data.get("subtitle")),
            culprit=as_text(data.get("culprit")),
            evidence=tuple(evidence),
            evidence_data=as_fields(evidence_data),
            offender_span_ids=tuple(text for text in map(as_text, offenders) if text),
        )


@attrs.frozen
class UnknownEntry:
    """An entry type this version does not know (``template``, ``expectstaple``, or one not yet invented)."""

    type: str
    data: Any = None
