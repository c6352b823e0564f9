"""Typed, frozen models built from Sentry's issue and event JSON.

The tolerance for the API's quirks lives here, once, so templates and renderers can trust what they get:
``count`` sent as a string, nulls anywhere (a whole entry's ``data`` included), ``vars`` as a dict, string,
list or null, ``exception.value`` instead of ``values``, tags as ``{key, value}`` or ``[key, value]``, GlitchTip's
snake_case ``context_line``, raw SDK payloads without ``entries[]``, timestamps as ISO text with or without
fractions and offsets or as float epochs, numbers sent as strings and strings sent as numbers.

Every ``from_api`` accepts any JSON value and never raises. Lists keep the API's order: exception chains and
stack frames are oldest first. Values inside variables, extra data and contexts stay exactly as sent (a nested
JSON string or Python repr is kept as text). The ``*_truncated`` fields are zero here; ``renderers.limits``
sets them when it applies a ``RenderLimits`` cap.
"""

from __future__ import annotations

import ast
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import parse_qsl

import attrs

Timestamp = datetime | str | None
"""An aware UTC ``datetime``; the raw text when it could not be parsed; ``None`` when absent."""

Pair = tuple[str, str | None]
"""A ``(name, value)`` pair as Sentry sends query strings, headers and cookies; ``None`` means null."""

Field = tuple[str, Any]
"""A ``(name, value)`` pair whose value is any JSON value, kept as sent."""


# --- coercion: JSON value -> the type a field promises ------------------------------------------------------


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _pick(data: dict[str, Any], *keys: str) -> Any:
    """The first of ``keys`` present with a non-null value (camelCase and snake_case spellings)."""
    for key in keys:
        value = data.get(key)
        if value is not None:
            return value
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            return int(text)
        except ValueError:
            number = _float(text)
            return int(number) if number is not None and number.is_integer() else None
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
    return None


def parse_timestamp(value: Any) -> Timestamp:
    """ISO 8601 text (``Z``, offsets, any fraction) or epoch seconds -> aware UTC datetime; else the raw text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value)) or str(value)
    if not isinstance(value, str):
        return _text(value)
    text = value.strip()
    if not text:
        return None
    number = _float(text)
    if number is not None:
        return _from_epoch(number) or value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # Sentry's timestamps are UTC even when they do not say so
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # an offset that pushes year 1 or 9999 out of range
        return value


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _epoch(timestamp: Timestamp) -> float | None:
    return timestamp.timestamp() if isinstance(timestamp, datetime) else None


def _pairs(value: Any, *, string_separator: str | None = None) -> tuple[Pair, ...]:
    """``[[name, value], ...]``, ``{name: value}``, ``[{key, value}]`` or (with a separator) ``"a=1&b=2"``."""
    if isinstance(value, dict):
        return tuple((str(name), _text(item)) for name, item in value.items())
    if isinstance(value, str):
        if string_separator is None:
            return (("", value),) if value else ()
        return tuple(_split_pair(part) for part in value.split(string_separator) if part.strip())
    pairs: list[Pair] = []
    for item in _sequence(value):
        if isinstance(item, list | tuple):
            if item:
                pairs.append((_text(item[0]) or "", _text(item[1]) if len(item) > 1 else None))
        elif isinstance(item, dict):
            name = _pick(item, "key", "name")
            pairs.append((_text(name) or "", _text(item.get("value"))))
        elif item is not None:
            pairs.append((_text(item) or "", None))
    return tuple(pairs)


def _split_pair(part: str) -> Pair:
    name, sep, rest = part.strip().partition("=")
    return (name.strip(), rest.strip() if sep else None)


def _query_pairs(value: Any) -> tuple[Pair, ...]:
    if isinstance(value, str):
        return tuple(parse_qsl(value.lstrip("?"), keep_blank_values=True))
    return _pairs(value)


def _fields(value: Any, *, skip: Iterable[str] = ()) -> tuple[Field, ...]:
    """A JSON object as ordered ``(name, value)`` fields; a non-object becomes one field named ``value``."""
    if isinstance(value, dict):
        skipped = set(skip)
        return tuple((str(name), item) for name, item in value.items() if name not in skipped)
    if value is None or value == [] or value == "":
        return ()
    return (("value", value),)


def _release_version(value: Any) -> str | None:
    if isinstance(value, dict):
        return _text(_pick(value, "version", "shortVersion", "short_version"))
    return _text(value)


# --- stack traces -------------------------------------------------------------------------------------------


@attrs.frozen
class ContextLine:
    """One line of source code around a frame; ``is_error_line`` marks the line that was executing."""

    lineno: int | None
    code: str
    is_error_line: bool = False


@attrs.frozen
class Variable:
    """A local variable. ``value`` is the JSON value the SDK sent; strings are often already Python reprs."""

    name: str
    value: Any


def _variables(value: Any) -> tuple[Variable, ...]:
    if isinstance(value, str):
        value = _parse_object_text(value)
    if isinstance(value, dict):
        return tuple(Variable(str(name), item) for name, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(Variable(f"[{index}]", item) for index, item in enumerate(value))
    if value is None or value == "":
        return ()
    return (Variable("(vars)", value),)


def _parse_object_text(text: str) -> Any:
    """A ``vars`` string that holds a JSON object or a Python dict repr -> that dict; anything else unchanged."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")) or len(stripped) > 200_000:
        return text
    try:
        parsed = json.loads(stripped)
    except ValueError:
        try:
            parsed = ast.literal_eval(stripped)
        except Exception:  # literal_eval raises many kinds (SyntaxError, ValueError, RecursionError...)
            return text
    if not isinstance(parsed, dict):
        return text
    return {str(name): _jsonable(item) for name, item in parsed.items()}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)  # a tuple, set or bytes from a Python repr: keep it as the text it was


def _context_lines(data: dict[str, Any], lineno: int | None) -> tuple[ContextLine, ...]:
    listed = _sequence(data.get("context"))
    if listed:
        lines = []
        for item in listed:
            if isinstance(item, list | tuple) and item:
                number = _int(item[0])
                code = _text(item[1]) if len(item) > 1 else None
                lines.append(ContextLine(number, code or "", number is not None and number == lineno))
            elif isinstance(item, str):
                lines.append(ContextLine(None, item))
        return tuple(lines)
    # Raw SDK payloads and GlitchTip: pre_context / context_line / post_context.
    current = _text(_pick(data, "contextLine", "context_line"))
    pre = [_text(line) or "" for line in _sequence(_pick(data, "preContext", "pre_context"))]
    post = [_text(line) or "" for line in _sequence(_pick(data, "postContext", "post_context"))]
    if current is None and not pre and not post:
        return ()
    first = lineno - len(pre) if lineno is not None else None

    def number_at(offset: int) -> int | None:
        return first + offset if first is not None else None

    lines = [ContextLine(number_at(i), code) for i, code in enumerate(pre)]
    if current is not None:
        lines.append(ContextLine(lineno, current, True))
    after = len(pre) + (1 if current is not None else 0)
    lines.extend(ContextLine(number_at(after + i), code) for i, code in enumerate(post))
    return tuple(lines)


@attrs.frozen
class Frame:
    """One stack frame. For source-mapped JavaScript, the plain fields are the original source and the
    ``orig_*`` fields the minified location Sentry mapped from."""

    filename: str | None = None
    abs_path: str | None = None
    module: str | None = None
    function: str | None = None
    raw_function: str | None = None
    lineno: int | None = None
    colno: int | None = None
    in_app: bool | None = None
    context: tuple[ContextLine, ...] = ()
    vars: tuple[Variable, ...] = ()
    package: str | None = None
    platform: str | None = None
    instruction_addr: str | None = None
    symbol: str | None = None
    source_map: str | None = None
    orig_filename: str | None = None
    orig_abs_path: str | None = None
    orig_function: str | None = None
    orig_lineno: int | None = None
    orig_colno: int | None = None
    vars_truncated: int = 0

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _mapping(data)
        extra = _mapping(data.get("data"))  # Sentry's JS processor keeps source-map facts here
        lineno = _int(_pick(data, "lineNo", "lineno", "line_no"))
        return cls(
            filename=_text(data.get("filename")),
            abs_path=_text(_pick(data, "absPath", "abs_path")),
            module=_text(data.get("module")),
            function=_text(data.get("function")),
            raw_function=_text(_pick(data, "rawFunction", "raw_function")),
            lineno=lineno,
            colno=_int(_pick(data, "colNo", "colno", "col_no")),
            in_app=_bool(_pick(data, "inApp", "in_app")),
            context=_context_lines(data, lineno),
            vars=_variables(data.get("vars")),
            package=_text(data.get("package")),
            platform=_text(data.get("platform")),
            instruction_addr=_text(_pick(data, "instructionAddr", "instruction_addr")),
            symbol=_text(data.get("symbol")),
            source_map=_text(_pick(data, "mapUrl", "map_url") or extra.get("sourcemap") or data.get("map")),
            orig_filename=_text(_pick(data, "origFilename", "orig_filename") or extra.get("orig_filename")),
            orig_abs_path=_text(_pick(data, "origAbsPath", "orig_abs_path") or extra.get("orig_abs_path")),
            orig_function=_text(_pick(data, "origFunction", "orig_function") or extra.get("orig_function")),
            orig_lineno=_int(_pick(data, "origLineNo", "orig_lineno") or extra.get("orig_lineno")),
            orig_colno=_int(_pick(data, "origColNo", "orig_colno") or extra.get("orig_colno")),
        )

    @property
    def location(self) -> str:
        """Where the frame is, in the most specific form the payload allows."""
        return self.filename or self.abs_path or self.module or self.package or self.instruction_addr or "?"

    @property
    def is_source_mapped(self) -> bool:
        return any((self.orig_filename, self.orig_abs_path, self.orig_function, self.orig_lineno))


@attrs.frozen
class Stacktrace:
    """Frames oldest call first. ``frames_omitted`` is the ``[start, end)`` range Sentry itself dropped;
    ``frames_truncated`` counts frames cut by ``max_frames``, missing just before ``frames[frames_truncated_at]``."""

    frames: tuple[Frame, ...] = ()
    frames_omitted: tuple[int, int] | None = None
    frames_truncated: int = 0
    frames_truncated_at: int = 0

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _mapping(data)
        omitted = _sequence(_pick(data, "framesOmitted", "frames_omitted"))
        start, end = (_int(omitted[0]), _int(omitted[1])) if len(omitted) >= 2 else (None, None)
        return cls(
            frames=tuple(Frame.from_api(frame) for frame in _sequence(data.get("frames"))),
            frames_omitted=(start, end) if start is not None and end is not None else None,
        )


def _optional_stacktrace(data: Any) -> Stacktrace | None:
    stacktrace = Stacktrace.from_api(data)
    return stacktrace if stacktrace.frames or stacktrace.frames_omitted else None


# --- exceptions and threads ---------------------------------------------------------------------------------


@attrs.frozen
class Mechanism:
    """How the SDK caught an exception and, in a chain, which exception it belongs to."""

    type: str | None = None
    handled: bool | None = None
    synthetic: bool | None = None
    description: str | None = None
    help_link: str | None = None
    source: str | None = None
    """The attribute of the parent that leads here: ``__cause__``, ``__context__``, ``exceptions[0]``, ``cause``."""
    exception_id: int | None = None
    parent_id: int | None = None
    is_exception_group: bool = False
    data: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _mapping(data)
        return cls(
            type=_text(data.get("type")),
            handled=_bool(data.get("handled")),
            synthetic=_bool(data.get("synthetic")),
            description=_text(data.get("description")),
            help_link=_text(_pick(data, "help_link", "helpLink")),
            source=_text(data.get("source")),
            exception_id=_int(_pick(data, "exception_id", "exceptionId")),
            parent_id=_int(_pick(data, "parent_id", "parentId")),
            is_exception_group=bool(_bool(_pick(data, "is_exception_group", "isExceptionGroup"))),
            data=_fields(data.get("data")) + _fields(data.get("meta")),
        )


RELATIONS = ("cause", "context", "group")
"""How an exception relates to its ``parent`` (the newer one it led to): it is the parent's direct cause, the
parent was raised while handling it, or it is a member of the parent exception group."""


@attrs.frozen
class ExceptionInfo:
    """One exception of a chain. ``parent`` is the index (in the event's oldest-first list) of the newer
    exception this one led to, and ``relation`` one of ``RELATIONS``; ``relation_inferred`` is true when the
    payload had no mechanism ids and the relation was read from the order alone."""

    type: str | None = None
    value: str | None = None
    module: str | None = None
    mechanism: Mechanism | None = None
    stacktrace: Stacktrace | None = None
    raw_stacktrace: Stacktrace | None = None
    thread_id: str | None = None
    parent: int | None = None
    relation: str | None = None
    relation_inferred: bool = False

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _mapping(data)
        mechanism = data.get("mechanism")
        return cls(
            type=_text(data.get("type")),
            value=_text(data.get("value")),
            module=_text(data.get("module")),
            mechanism=Mechanism.from_api(mechanism) if isinstance(mechanism, dict) else None,
            stacktrace=_optional_stacktrace(data.get("stacktrace")),
            raw_stacktrace=_optional_stacktrace(_pick(data, "rawStacktrace", "raw_stacktrace")),
            thread_id=_text(_pick(data, "threadId", "thread_id")),
        )

    @property
    def title(self) -> str:
        """``Type: value`` as Python prints it, or whichever half exists."""
        if self.type and self.value:
            return f"{self.type}: {self.value}"
        return self.type or self.value or "(exception without type or value)"


def _exception_values(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    data = _mapping(data)
    for key in ("values", "value"):
        found = data.get(key)
        if isinstance(found, list):
            return found
        if isinstance(found, dict):
            return [found]
    if "type" in data or "stacktrace" in data:
        return [data]  # the entry's data is itself one exception
    return []


_CAUSE_PLATFORMS = frozenset({"java", "kotlin", "android", "csharp", "dotnet", "javascript", "node", "go"})


def link_chain(exceptions: list[ExceptionInfo], platform: str | None) -> tuple[ExceptionInfo, ...]:
    """Fill ``parent`` and ``relation`` from mechanism ids, or infer them from the oldest-first order."""
    index_by_id = {
        exc.mechanism.exception_id: index
        for index, exc in enumerate(exceptions)
        if exc.mechanism is not None and exc.mechanism.exception_id is not None
    }
    linked_by_ids = any(exc.mechanism is not None and exc.mechanism.parent_id is not None for exc in exceptions)
    inferred_relation = "cause" if (platform or "").lower() in _CAUSE_PLATFORMS else "context"
    result = []
    for index, exc in enumerate(exceptions):
        parent: int | None = None
        relation: str | None = None
        if linked_by_ids:
            parent_id = exc.mechanism.parent_id if exc.mechanism is not None else None
            parent = index_by_id.get(parent_id) if parent_id is not None else None
            if parent == index:
                parent = None
            if parent is not None:
                relation = _relation_from_source(exc.mechanism, exceptions[parent], inferred_relation)
            result.append(attrs.evolve(exc, parent=parent, relation=relation))
        elif index + 1 < len(exceptions):
            result.append(attrs.evolve(exc, parent=index + 1, relation=inferred_relation, relation_inferred=True))
        else:
            result.append(exc)
    return tuple(result)


def _relation_from_source(mechanism: Mechanism | None, parent: ExceptionInfo, fallback: str) -> str:
    source = ((mechanism.source if mechanism else None) or "").lower()
    if "cause" in source:
        return "cause"
    if "context" in source:
        return "context"
    if "[" in source or (parent.mechanism is not None and parent.mechanism.is_exception_group):
        return "group"
    return fallback


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
        data = _mapping(data)
        return cls(
            id=_text(data.get("id")),
            name=_text(data.get("name")),
            crashed=bool(_bool(data.get("crashed"))),
            current=bool(_bool(data.get("current"))),
            main=bool(_bool(data.get("main"))),
            state=_text(data.get("state")),
            stacktrace=_optional_stacktrace(data.get("stacktrace")),
            raw_stacktrace=_optional_stacktrace(_pick(data, "rawStacktrace", "raw_stacktrace")),
        )


# --- other entries ------------------------------------------------------------------------------------------


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
        data = _mapping(data)
        params = data.get("params")
        return cls(
            formatted=_text(data.get("formatted")),
            message=_text(data.get("message")),
            params=tuple(params) if isinstance(params, list) else tuple(_fields(params)),
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
        data = _mapping(data)
        return cls(
            method=_text(data.get("method")),
            url=_text(data.get("url")),
            query=_query_pairs(_pick(data, "query", "query_string")),
            fragment=_text(data.get("fragment")) or None,
            headers=_pairs(data.get("headers"), string_separator="\n"),
            cookies=_pairs(data.get("cookies"), string_separator=";"),
            data=data.get("data"),
            env=_pairs(data.get("env")),
            inferred_content_type=_text(_pick(data, "inferredContentType", "inferred_content_type")),
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
        data = _mapping(data)
        return cls(
            timestamp=parse_timestamp(data.get("timestamp")),
            type=_text(data.get("type")),
            category=_text(data.get("category")),
            level=_text(data.get("level")),
            message=_text(data.get("message")),
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
        data = _mapping(data)
        start = parse_timestamp(_pick(data, "start_timestamp", "startTimestamp"))
        end = parse_timestamp(data.get("timestamp"))
        start_s, end_s = _epoch(start), _epoch(end)
        return cls(
            span_id=_text(_pick(data, "span_id", "spanId")),
            parent_span_id=_text(_pick(data, "parent_span_id", "parentSpanId")),
            trace_id=_text(_pick(data, "trace_id", "traceId")),
            op=_text(data.get("op")),
            description=_text(data.get("description")),
            status=_text(data.get("status")),
            start_timestamp=start,
            timestamp=end,
            duration_ms=(end_s - start_s) * 1000 if start_s is not None and end_s is not None else None,
            data=_fields(data.get("data")),
            tags=_pairs(data.get("tags")),
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
        start = _epoch(spans[index].start_timestamp)
        return (start is None, start or 0.0, index)

    starts = [s for s in (_epoch(span.start_timestamp) for span in spans) if s is not None]
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
            start = _epoch(span.start_timestamp)
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
class Csp:
    """A Content-Security-Policy violation report."""

    document_uri: str | None = None
    effective_directive: str | None = None
    violated_directive: str | None = None
    blocked_uri: str | None = None
    source_file: str | None = None
    line_number: int | None = None
    column_number: int | None = None
    original_policy: str | None = None
    referrer: str | None = None
    disposition: str | None = None
    status_code: int | None = None
    script_sample: str | None = None
    other: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _mapping(data)
        named = {field.name for field in attrs.fields(cls)} - {"other"}
        return cls(
            document_uri=_text(data.get("document_uri")),
            effective_directive=_text(data.get("effective_directive")),
            violated_directive=_text(data.get("violated_directive")),
            blocked_uri=_text(data.get("blocked_uri")),
            source_file=_text(data.get("source_file")),
            line_number=_int(data.get("line_number")),
            column_number=_int(data.get("column_number")),
            original_policy=_text(data.get("original_policy")),
            referrer=_text(data.get("referrer")),
            disposition=_text(data.get("disposition")),
            status_code=_int(data.get("status_code")),
            script_sample=_text(data.get("script_sample")),
            other=tuple((name, value) for name, value in _fields(data) if name not in named and value is not None),
        )


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
        data = _mapping(data)
        evidence_data = _mapping(_pick(data, "evidenceData", "evidence_data"))
        evidence = []
        for item in _sequence(_pick(data, "evidenceDisplay", "evidence_display")):
            item = _mapping(item)
            name, value = _text(item.get("name")), _text(item.get("value"))
            if name or value:
                evidence.append(Evidence(name or "", value or "", bool(_bool(item.get("important")))))
        offenders = _sequence(_pick(evidence_data, "offenderSpanIds", "offender_span_ids"))
        return cls(
            issue_title=_text(_pick(data, "issueTitle", "issue_title")),
            subtitle=_text(data.get("subtitle")),
            culprit=_text(data.get("culprit")),
            evidence=tuple(evidence),
            evidence_data=_fields(evidence_data),
            offender_span_ids=tuple(text for text in map(_text, offenders) if text),
        )


@attrs.frozen
class UnknownEntry:
    """An entry type this version does not know (``debugmeta``, ``template``, or one not yet invented)."""

    type: str
    data: Any = None


# --- event-level data ---------------------------------------------------------------------------------------


@attrs.frozen
class Tag:
    key: str | None
    value: str | None


def _tags(value: Any) -> tuple[Tag, ...]:
    return tuple(Tag(name or None, item) for name, item in _pairs(value))


@attrs.frozen
class User:
    id: str | None = None
    email: str | None = None
    username: str | None = None
    ip_address: str | None = None
    name: str | None = None
    geo: tuple[Field, ...] = ()
    data: tuple[Field, ...] = ()
    other: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _mapping(data)
        known = {"id", "email", "username", "ip_address", "name", "geo", "data"}
        return cls(
            id=_text(data.get("id")),
            email=_text(data.get("email")),
            username=_text(data.get("username")),
            ip_address=_text(data.get("ip_address")),
            name=_text(data.get("name")),
            geo=_fields(data.get("geo")),
            data=_fields(data.get("data")),
            other=tuple((k, v) for k, v in _fields(data) if k not in known and v is not None),
        )

    @property
    def is_empty(self) -> bool:
        return self == User()


@attrs.frozen
class Context:
    """One entry of ``contexts``: its key (``name``), its ``type`` (browser, os, runtime ...) and the rest."""

    name: str
    type: str | None
    fields: tuple[Field, ...]


CONTEXT_ORDER = ("browser", "os", "runtime", "device", "trace")
"""Contexts of these types come first, in this order; the others follow as the payload lists them."""


def _contexts(value: Any) -> tuple[Context, ...]:
    contexts = [
        Context(
            name=str(name),
            type=_text(_mapping(body).get("type")) or str(name),
            fields=_fields(body, skip=("type",)),
        )
        for name, body in _mapping(value).items()
        if body is not None
    ]

    def rank(item: tuple[int, Context]) -> tuple[int, int]:
        index, context = item
        kind = (context.type or "").lower()
        return (CONTEXT_ORDER.index(kind) if kind in CONTEXT_ORDER else len(CONTEXT_ORDER), index)

    return tuple(context for _, context in sorted(enumerate(contexts), key=rank))


@attrs.frozen
class SdkInfo:
    name: str | None = None
    version: str | None = None
    integrations: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _mapping(data)
        packages = []
        for package in _sequence(data.get("packages")):
            if isinstance(package, dict):
                packages.append(" ".join(filter(None, (_text(package.get("name")), _text(package.get("version"))))))
            elif package is not None:
                packages.append(_text(package) or "")
        return cls(
            name=_text(data.get("name")),
            version=_text(data.get("version")),
            integrations=tuple(_text(item) or "" for item in _sequence(data.get("integrations")) if item is not None),
            packages=tuple(package for package in packages if package),
        )


@attrs.frozen
class ProcessingError:
    """A problem Sentry met while processing the event (``js_no_source``, ``native_missing_dsym`` ...)."""

    type: str | None = None
    message: str | None = None
    data: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        if not isinstance(data, dict):
            return cls(message=_text(data))
        details = _fields(data.get("data")) + tuple(
            (name, value) for name, value in _fields(data, skip=("type", "message", "data")) if value is not None
        )
        return cls(type=_text(data.get("type")), message=_text(data.get("message")), data=details)


# --- issue and event ----------------------------------------------------------------------------------------


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
        data = _mapping(data)
        project = data.get("project")
        return cls(
            id=_text(data.get("id")),
            short_id=_text(_pick(data, "shortId", "short_id")),
            title=_text(data.get("title")),
            culprit=_text(data.get("culprit")) or None,
            permalink=_text(data.get("permalink")),
            level=_text(data.get("level")),
            status=_text(data.get("status")),
            substatus=_text(data.get("substatus")),
            priority=_text(data.get("priority")),
            platform=_text(data.get("platform")),
            project=_project(project),
            type=_text(_pick(data, "issueType", "type")),
            issue_category=_text(_pick(data, "issueCategory", "issue_category")),
            metadata=_fields(data.get("metadata")),
            count=_int(data.get("count")),
            user_count=_int(_pick(data, "userCount", "user_count")),
            first_seen=parse_timestamp(_pick(data, "firstSeen", "first_seen")),
            last_seen=parse_timestamp(_pick(data, "lastSeen", "last_seen")),
            assigned_to=_assignee(_pick(data, "assignedTo", "assigned_to")),
            first_release=_release_version(_pick(data, "firstRelease", "first_release")),
            last_release=_release_version(_pick(data, "lastRelease", "last_release")),
        )


def _project(value: Any) -> Project | None:
    if isinstance(value, dict):
        project = Project(_text(value.get("id")), _text(value.get("slug")), _text(value.get("name")))
        return project if project != Project() else None
    text = _text(value)
    return Project(slug=text) if text else None


def _assignee(value: Any) -> str | None:
    if isinstance(value, dict):
        name = _text(_pick(value, "name", "username", "slug", "id"))
        email = _text(value.get("email"))
        kind = _text(value.get("type"))
        label = f"{name} <{email}>" if name and email and name != email else name or email
        return f"team {label}" if label and kind == "team" else label
    return _text(value) or None


@attrs.frozen
class Event:
    """One occurrence of an issue, with everything the API sent about it, grouped by entry type."""

    id: str | None = None
    group_id: str | None = None
    type: str | None = None
    title: str | None = None
    message: str | None = None
    platform: str | None = None
    level: str | None = None
    logger: str | None = None
    culprit: str | None = None
    transaction: str | None = None
    environment: str | None = None
    release: str | None = None
    dist: str | None = None
    date_created: Timestamp = None
    date_received: Timestamp = None
    start_timestamp: Timestamp = None
    end_timestamp: Timestamp = None
    fingerprints: tuple[str, ...] = ()
    exceptions: tuple[ExceptionInfo, ...] = ()
    threads: tuple[Thread, ...] = ()
    log_message: Message | None = None
    request: Request | None = None
    breadcrumbs: tuple[Breadcrumb, ...] = ()
    spans: tuple[Span, ...] = ()
    csp: Csp | None = None
    occurrence: Occurrence | None = None
    user: User | None = None
    contexts: tuple[Context, ...] = ()
    tags: tuple[Tag, ...] = ()
    extra: tuple[Field, ...] = ()
    sdk: SdkInfo | None = None
    packages: tuple[Pair, ...] = ()
    """Installed packages and their versions, as the SDK reported them."""
    errors: tuple[ProcessingError, ...] = ()
    unknown_entries: tuple[UnknownEntry, ...] = ()
    threads_truncated: int = 0
    breadcrumbs_truncated: int = 0
    spans_truncated: int = 0

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _mapping(data)
        platform = _text(data.get("platform"))
        parts = _EntryParts()
        for entry in _entries(data):
            parts.add(entry)
        user = User.from_api(data.get("user"))
        sdk = SdkInfo.from_api(data.get("sdk"))
        start = parse_timestamp(_pick(data, "startTimestamp", "start_timestamp"))
        end = parse_timestamp(_pick(data, "endTimestamp", "end_timestamp"))
        if end is None and start is not None:  # raw transaction payloads end at "timestamp"
            end = parse_timestamp(data.get("timestamp"))
        date_created = parse_timestamp(_pick(data, "dateCreated", "date_created", "datetime", "timestamp"))
        message = data.get("message")
        occurrence = data.get("occurrence")
        tags = _tags(data.get("tags"))
        tag_values = {tag.key: tag.value for tag in tags if tag.key}  # the API keeps some fields only as tags
        return cls(
            id=_text(_pick(data, "eventID", "id", "event_id")),
            group_id=_text(_pick(data, "groupID", "group_id")),
            type=_text(data.get("type")),
            title=_text(data.get("title")),
            message=_text(message) if not isinstance(message, dict) else Message.from_api(message).text or None,
            platform=platform,
            level=_text(data.get("level")) or tag_values.get("level"),
            logger=_text(data.get("logger")) or None,
            culprit=_text(data.get("culprit")) or None,
            transaction=_text(data.get("transaction")) or tag_values.get("transaction"),
            environment=_text(data.get("environment")) or tag_values.get("environment"),
            release=_release_version(data.get("release")) or tag_values.get("release"),
            dist=_text(data.get("dist")),
            date_created=date_created,
            date_received=parse_timestamp(_pick(data, "dateReceived", "date_received", "received")),
            start_timestamp=start,
            end_timestamp=end,
            fingerprints=tuple(_text(item) or "" for item in _sequence(_pick(data, "fingerprints", "fingerprint"))),
            exceptions=link_chain(parts.exceptions, platform),
            threads=tuple(parts.threads),
            log_message=parts.message,
            request=parts.request,
            breadcrumbs=tuple(parts.breadcrumbs),
            spans=arrange_spans(parts.spans, _epoch(start)),
            csp=parts.csp,
            occurrence=Occurrence.from_api(occurrence) if isinstance(occurrence, dict) else None,
            user=None if user.is_empty else user,
            contexts=_contexts(data.get("contexts")),
            tags=tags,
            extra=_fields(_pick(data, "context", "extra")),
            sdk=None if sdk == SdkInfo() else sdk,
            packages=_pairs(_pick(data, "packages", "modules")),
            errors=tuple(ProcessingError.from_api(item) for item in _sequence(data.get("errors")) if item),
            unknown_entries=tuple(parts.unknown),
        )

    @property
    def duration_ms(self) -> float | None:
        """A transaction's duration."""
        start, end = _epoch(self.start_timestamp), _epoch(self.end_timestamp)
        return (end - start) * 1000 if start is not None and end is not None else None


_RAW_SDK_ENTRY_KEYS = {
    "exception": "exception",
    "threads": "threads",
    "logentry": "message",
    "request": "request",
    "breadcrumbs": "breadcrumbs",
    "spans": "spans",
    "csp": "csp",
}


def _entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """``entries[]`` as the API sends them, or built from a raw SDK payload's top-level keys."""
    if "entries" in data:
        return [entry for entry in _sequence(data.get("entries")) if isinstance(entry, dict)]
    return [{"type": kind, "data": data[key]} for key, kind in _RAW_SDK_ENTRY_KEYS.items() if data.get(key) is not None]


def _values(data: Any) -> list[Any]:
    """``{"values": [...]}`` or a bare list."""
    if isinstance(data, list):
        return data
    return _sequence(_mapping(data).get("values"))


@attrs.define
class _EntryParts:
    """Collects entries by type while an event is built (an event may repeat an entry type)."""

    exceptions: list[ExceptionInfo] = attrs.field(factory=list)
    threads: list[Thread] = attrs.field(factory=list)
    message: Message | None = None
    request: Request | None = None
    breadcrumbs: list[Breadcrumb] = attrs.field(factory=list)
    spans: list[Span] = attrs.field(factory=list)
    csp: Csp | None = None
    unknown: list[UnknownEntry] = attrs.field(factory=list)

    def add(self, entry: dict[str, Any]) -> None:
        kind = _text(entry.get("type")) or "(no type)"
        data = entry.get("data")
        if kind == "exception":
            self.exceptions.extend(ExceptionInfo.from_api(item) for item in _exception_values(data))
        elif kind == "threads":
            self.threads.extend(Thread.from_api(item) for item in _values(data))
        elif kind == "message" and data is not None:
            self.message = Message.from_api(data)
        elif kind == "request" and isinstance(data, dict):
            self.request = Request.from_api(data)
        elif kind == "breadcrumbs":
            self.breadcrumbs.extend(Breadcrumb.from_api(item) for item in _values(data))
        elif kind == "spans":
            self.spans.extend(Span.from_api(item) for item in _values(data))
        elif kind == "csp" and isinstance(data, dict):
            self.csp = Csp.from_api(data)
        elif data is not None:
            self.unknown.append(UnknownEntry(kind, data))


@attrs.frozen
class IssueReport:
    """Everything one report shows about one issue."""

    issue: Issue
    event: Event | None
    """``None`` when the issue has no event left in retention; the report says so."""
    ref_text: str = ""
    """The reference as the user typed it."""


def build_report(issue_json: Any, event_json: Any, ref_text: str = "") -> IssueReport:
    """Models for one issue from its API JSON; ``event_json`` is ``None`` when no event is available."""
    return IssueReport(
        issue=Issue.from_api(issue_json),
        event=None if event_json is None else Event.from_api(event_json),
        ref_text=ref_text if isinstance(ref_text, str) else str(ref_text),
    )
