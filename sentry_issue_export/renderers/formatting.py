"""Plain-text building blocks shared by the text and Markdown templates.

These return unescaped text; each renderer escapes it for its own format on the way out. Heavy lifting lives
here rather than in template logic, which keeps templates readable and rendering fast.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import attrs

from ..models import Breadcrumb, Event, ExceptionInfo, Frame, Removal, Stacktrace, Timestamp, User, Variable
from ..textsafe import collapse_whitespace

COMPACT_WIDTH = 100
"""A structured value whose compact JSON is longer than this is shown pretty-printed."""


def format_value(value: Any) -> str:
    """A payload value as a person reads it: strings as sent (often already a repr), the rest as JSON,
    on one line when it fits in ``COMPACT_WIDTH`` characters, else broken up only as far as needed."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return fitted_json(value)


def format_inline(value: Any) -> str:
    """A payload value on one line (compact JSON for structures)."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return _json(value, indent=None)


_INLINE_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(", ", ": "))


def _json(value: Any, indent: int | None) -> str:
    if indent is None:  # the hot path: one encoder, built once
        return _INLINE_ENCODER.encode(value)
    return json.dumps(value, ensure_ascii=False, default=str, indent=indent, separators=(",", ": "))


def fitted_json(value: Any, indent: int = 0, *, force_break: bool = False, python: bool = False) -> str:
    """JSON where each container stays on one line when it fits in ``COMPACT_WIDTH`` columns, like ``pprint``.

    Built bottom-up, so every value is serialised once however deep it sits. With ``python``, as Python writes
    it instead: ``None``, ``True``, keys quoted as Python quotes them, and strings as sent (Sentry's Python SDK
    sends every string already as its ``repr``, quotes included).
    """
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [
            f"{repr(str(key)) if python else _json(str(key), None)}: {fitted_json(item, indent + 2, python=python)}"
            for key, item in value.items()
        ]
        opening, closing = "{", "}"
    elif isinstance(value, list | tuple):
        if not value:
            return "[]"
        parts = [fitted_json(item, indent + 2, python=python) for item in value]
        opening, closing = "[", "]"
    elif python and (value is None or isinstance(value, bool | str)):
        return value if isinstance(value, str) else repr(value)
    else:
        return _json(value, None)
    if not force_break and all("\n" not in part for part in parts):
        line = opening + ", ".join(parts) + closing
        if indent + len(line) <= COMPACT_WIDTH:
            return line
    inner = "\n" + " " * (indent + 2)
    return opening + inner + ("," + inner).join(parts) + "\n" + " " * indent + closing


def format_when(timestamp: Timestamp, *, precise: bool = False) -> str:
    """``2024-05-01 12:34:56 UTC`` (with milliseconds when ``precise``); unparsed text as it came."""
    if isinstance(timestamp, datetime):
        pattern = "%Y-%m-%d %H:%M:%S.%f" if precise else "%Y-%m-%d %H:%M:%S"
        text = timestamp.strftime(pattern)
        return (text[:-3] if precise else text) + " UTC"
    return timestamp or ""


def format_clock(timestamp: Timestamp) -> str:
    """Time of day with milliseconds, for timelines whose date is said once."""
    if isinstance(timestamp, datetime):
        return timestamp.strftime("%H:%M:%S.%f")[:-3]
    return timestamp or "(no time)"


def format_ms(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.1f} ms"


def format_number(value: int | float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,}"


def plural(count: int | None, noun: str, plural_noun: str | None = None) -> str:
    """``1 frame``, ``12 frames``; ``? frames`` when the count is unknown."""
    word = noun if count == 1 else (plural_noun or noun + "s")
    return f"{format_number(count)} {word}"


def label(name: str) -> str:
    """``blocked_uri`` -> ``Blocked URI``: field names as headings."""
    words = name.replace("_", " ").replace("-", " ").split()
    upper = {"uri", "url", "id", "ip", "os", "sdk", "csp"}
    text = " ".join(word.upper() if word.lower() in upper else word for word in words)
    return text[:1].upper() + text[1:]


def common_date(timestamps: Sequence[Timestamp]) -> str | None:
    """The one UTC date all parsed timestamps share, so a timeline can show times of day only."""
    dates = {ts.date() for ts in timestamps if isinstance(ts, datetime)}
    return dates.pop().isoformat() if len(dates) == 1 else None


def breadcrumb_date(breadcrumbs: Sequence[Breadcrumb]) -> str | None:
    return common_date([crumb.timestamp for crumb in breadcrumbs])


# --- stack traces ---------------------------------------------------------------------------------------------


@attrs.frozen
class FrameGap:
    """Where frames are left out of a stack trace: cut by ``max_frames``, or (``repeat_of`` set) a run of
    frames identical to ``repeat_of``, collapsed."""

    count: int
    is_gap: bool = True
    repeat_of: Frame | None = None


def frames_newest_first(stacktrace: Stacktrace) -> list[Frame | FrameGap]:
    """Frames most recent call first, with a ``FrameGap`` where frames were cut or collapsed."""
    items: list[Frame | FrameGap] = []
    for index, frame in enumerate(stacktrace.frames):
        if stacktrace.frames_truncated and index == stacktrace.frames_truncated_at:
            items.append(FrameGap(stacktrace.frames_truncated))
        if frame.repeats_omitted:
            items.append(FrameGap(frame.repeats_omitted, repeat_of=frame))
        items.append(frame)
    if stacktrace.frames_truncated and stacktrace.frames_truncated_at >= len(stacktrace.frames):
        items.append(FrameGap(stacktrace.frames_truncated))
    items.reverse()
    return items


def repeat_line(gap: FrameGap) -> str:
    """``… 178 more frames of recurse (corpus/make_corpus.py:201), identical``."""
    frame = gap.repeat_of
    if frame is None:
        return ""
    where = frame_position(frame)
    function = frame_function(frame)
    return f"… {plural(gap.count, 'more frame')} of {function or 'this frame'} ({where}), identical"


def frame_function(frame: Frame) -> str:
    """The function name, qualified by its class for JVM and .NET frames whose file name says little."""
    function = frame.function or frame.raw_function or frame.symbol or ""
    if (
        function
        and frame.module
        and "." in frame.module
        and frame.filename
        and "/" not in frame.filename
        and "\\" not in frame.filename
    ):
        return f"{frame.module}.{function}"
    return function


def frame_position(frame: Frame) -> str:
    """``path/file.py:42:7``."""
    position = frame.location
    if frame.lineno is not None:
        position += f":{frame.lineno}"
        if frame.colno is not None:
            position += f":{frame.colno}"
    return position


def frame_minified(frame: Frame) -> str:
    """Where a source-mapped frame ran before mapping: ``app.min.js:1:2345 in n``."""
    position = frame.orig_abs_path or frame.orig_filename or "?"
    if frame.orig_lineno is not None:
        position += f":{frame.orig_lineno}"
        if frame.orig_colno is not None:
            position += f":{frame.orig_colno}"
    return f"{position} in {frame.orig_function}" if frame.orig_function else position


def context_gutter(frame: Frame) -> int:
    """Width of the line-number column for a frame's code context."""
    numbers = [line.lineno for line in frame.context if line.lineno is not None]
    return len(str(max(numbers))) if numbers else 0


# --- exception chains ---------------------------------------------------------------------------------------


@attrs.frozen
class ChainLink:
    """One exception as the report lists it: ``number`` 1 is the exception that was finally raised."""

    number: int
    exception: ExceptionInfo
    note: str


def exception_chain(event: Event) -> list[ChainLink]:
    """The chain newest first (as Sentry shows it), each with a sentence on how it relates to the others."""
    exceptions = event.exceptions
    total = len(exceptions)

    def number(index: int) -> int:
        return total - index

    links = []
    for index in reversed(range(total)):
        exc = exceptions[index]
        links.append(ChainLink(number(index), exc, _relation_note(exc, exceptions, number)))
    return links


def _relation_note(exc: ExceptionInfo, exceptions: Sequence[ExceptionInfo], number: Any) -> str:
    if exc.parent is None or exc.relation is None:
        if len(exceptions) > 1 and all(other.parent is not None for other in exceptions if other is not exc):
            return "The exception that was finally raised."
        return ""
    parent = exceptions[exc.parent]
    other = f"exception {number(exc.parent)} ({parent.type or 'unnamed'})"
    if exc.relation == "cause":
        note = f"The direct cause of {other}."
    elif exc.relation == "group":
        note = f"A member of exception group {other}."
    else:
        note = f"While handling this exception, {other} was raised."
    if exc.relation_inferred:
        note += " (Inferred from the order; the event does not say how they relate.)"
    return note


def mechanism_summary(exc: ExceptionInfo) -> str:
    """``django, unhandled`` — how the exception was caught."""
    mechanism = exc.mechanism
    if mechanism is None:
        return ""
    parts = [mechanism.type or ""]
    if mechanism.handled is not None:
        parts.append("handled" if mechanism.handled else "unhandled")
    if mechanism.synthetic:
        parts.append("synthetic")
    return ", ".join(part for part in parts if part)


def request_line(event: Event) -> str:
    """``GET https://example.com/path#fragment``."""
    request = event.request
    if request is None:
        return ""
    url = request.url or ""
    if request.fragment:
        url += f"#{request.fragment}"
    return " ".join(part for part in (request.method, url) if part)


def format_pretty(value: Any) -> str:
    """Like ``format_value``, but a structure always gets one line per top-level item (whole entries, bodies)."""
    if isinstance(value, dict | list):
        return fitted_json(value, force_break=True)
    return format_value(value)


def squash(value: Any) -> str:
    """One line with whitespace folded: a span description or SQL statement in a column."""
    return collapse_whitespace(format_inline(value))


def name_width(names: Any, cap: int = 24) -> int:
    """Column width for a list of names, so values line up without one long name pushing them all."""
    return min(max((len(str(name)) for name in names if name is not None), default=0), cap)


def is_gap(item: Any) -> bool:
    return isinstance(item, FrameGap)


def frame_has_details(item: Any) -> bool:
    """True for a frame with code context or variables (it gets blank lines around it)."""
    return isinstance(item, Frame) and bool(item.context or item.vars)


def removal_at(event: Event, path: str) -> Removal | None:
    """The note of what Sentry removed at ``path`` (``request.data``), if it removed it."""
    return next((removal for removal in event.removed if removal.path == path), None)


SHOWN_IN_PLACE = ("request.data",)
"""Removals the report mentions where the value would be (the request body under REQUEST)."""


def removed_elsewhere(event: Event) -> list[Removal]:
    """The removals not mentioned where the value would be, for their own section."""
    in_place = set(SHOWN_IN_PLACE) if event.request is not None else set()
    return [removal for removal in event.removed if removal.path not in in_place]


def user_fields(user: User) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = [
        ("ID", user.id),
        ("Email", user.email),
        ("Username", user.username),
        ("IP address", user.ip_address),
        ("Name", user.name),
    ]
    if user.geo:
        fields.append(("Geo", ", ".join(f"{name}={format_inline(value)}" for name, value in user.geo)))
    fields += list(user.data) + list(user.other)
    return [(name, value) for name, value in fields if value not in (None, "")]


# --- breadcrumbs --------------------------------------------------------------------------------------------

_HTTP_CATEGORIES = frozenset({"http", "httplib", "fetch", "xhr", "http.client"})
_SUMMARY_KEYS = {"http": ("method", "url", "status_code"), "navigation": ("from", "to")}


def _crumb_kind(crumb: Breadcrumb) -> str | None:
    kind, category = (crumb.type or "").lower(), (crumb.category or "").lower()
    if kind == "http" or category in _HTTP_CATEGORIES:
        return "http"
    if kind == "navigation" or category == "navigation":
        return "navigation"
    return None


def crumb_message(crumb: Breadcrumb) -> str:
    """The crumb's message, or for HTTP and navigation crumbs without one, a summary of their data."""
    if crumb.message:
        return crumb.message
    data = crumb.data if isinstance(crumb.data, dict) else {}
    kind = _crumb_kind(crumb)
    if kind == "http":
        parts = [format_inline(data[key]) for key in ("method", "url") if data.get(key) not in (None, "")]
        if data.get("status_code") is not None:
            parts.append(f"[{format_inline(data['status_code'])}]")
        return " ".join(parts)
    if kind == "navigation" and data.get("to") is not None:
        origin = format_inline(data["from"]) if data.get("from") is not None else "?"
        return f"{origin} -> {format_inline(data['to'])}"
    return ""


def crumb_data(crumb: Breadcrumb) -> Any:
    """The crumb's data without what ``crumb_message`` already summarised; ``None`` when nothing is left."""
    data = crumb.data
    kind = _crumb_kind(crumb)
    if isinstance(data, dict) and kind and not crumb.message:
        data = {key: value for key, value in data.items() if key not in _SUMMARY_KEYS[kind]}
    if data is None or data == {} or data == []:
        return None
    return data


# --- spans as fixed-width text -------------------------------------------------------------

MAX_SPAN_INDENT = 24
"""Deeper spans stop moving right and say their depth instead, so a deep tree stays on the page."""


def span_table(event: Event) -> str:
    """The spans as aligned text: offset, duration, then op and description indented by nesting."""
    offenders = set(event.occurrence.offender_span_ids) if event.occurrence else set()
    lines = [f"  {'Offset':>11}  {'Duration':>10}  Operation and description"]
    for span in event.spans:
        marker = ">" if span.span_id and span.span_id in offenders else " "
        offset = f"+{format_ms(span.offset_ms)}" if span.offset_ms is not None else "?"
        text = "  " * min(span.depth, MAX_SPAN_INDENT)
        if span.depth > MAX_SPAN_INDENT:
            text += f"(depth {span.depth}) "
        text += span.op or "(no op)"
        if span.description:
            text += "  " + squash(span.description)
        if span.status:
            text += f" [{span.status}]"
        lines.append(f"{marker} {offset:>11}  {format_ms(span.duration_ms):>10}  {text}")
    return "\n".join(lines)


def code_context(frame: Frame) -> str:
    """A frame's source lines with a line-number gutter and ``>`` on the line that was running."""
    width = context_gutter(frame)
    lines = []
    for line in frame.context:
        number = str(line.lineno) if line.lineno is not None else ""
        marker = ">" if line.is_error_line else " "
        lines.append(f"{marker} {number:>{width}} |{' ' + line.code if line.code else ''}")
    return "\n".join(lines)


def variable_value(value: Any, platform: str | None = None) -> str:
    """A local variable's value as the frame's language writes it: Python's ``None``, ``True`` and dicts of
    reprs for a Python frame (not ``{"sku": "'SKU-1'"}``), JSON for the others."""
    if platform == "python" and not isinstance(value, str):
        return fitted_json(value, python=True)
    return format_value(value)


def variables_text(variables: Sequence[Variable], platform: str | None = None) -> str:
    """``name = value`` lines, names aligned; a multi-line value goes below its name, indented."""
    return assignments_text([(variable.name, variable_value(variable.value, platform)) for variable in variables])


def assignments_text(fields: Sequence[tuple[str, Any]]) -> str:
    """``name = value`` lines for ``(name, value)`` pairs, laid out like ``variables_text``."""
    width = name_width(name for name, _ in fields)
    lines = []
    for name, value in fields:
        text = format_value(value)
        if "\n" in text:
            lines.append(f"{name.ljust(width)} =")
            lines.extend("  " + line for line in text.split("\n"))
        else:
            lines.append(f"{name.ljust(width)} = {text}")
    return "\n".join(lines)
