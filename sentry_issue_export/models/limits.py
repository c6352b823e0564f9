"""Apply ``RenderLimits`` to a report, once, before any renderer formats it.

Every renderer shows the same capped report, and every cut is visible: list cuts set the model's
``*_truncated`` counts, long strings end in ``… [cut N chars]`` and containers nested deeper than
``max_depth`` become a ``… [nested too deep: ...]`` string.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..settings import RenderLimits
from ..textsafe import cut
from .entries import Span, Thread
from .event import Event
from .issue import IssueReport
from .stacktrace import Frame, Stacktrace

OLDEST_FRAMES_SHARE = 3
"""Of ``max_frames``, one third goes to the oldest frames (the entry point), the rest to the newest."""


def apply_limits(report: IssueReport, limits: RenderLimits) -> IssueReport:
    """A copy of ``report`` trimmed to ``limits``; the input is left untouched."""
    event = report.event
    if event is not None:
        event = _cap_event(event, limits)
    capped = attrs.evolve(report, event=event)
    return _ValueCapper(limits).model(capped)


def _cap_event(event: Event, limits: RenderLimits) -> Event:
    max_threads = max(limits.max_threads, 0)
    max_crumbs = max(limits.max_breadcrumbs, 0)
    # Crashed and current threads first, so a cap never drops the thread that matters.
    threads = sorted(event.threads, key=lambda thread: (not thread.crashed, not thread.current))
    crumbs = event.breadcrumbs
    kept_crumbs = crumbs[len(crumbs) - max_crumbs :] if len(crumbs) > max_crumbs else crumbs
    return attrs.evolve(
        event,
        exceptions=tuple(
            attrs.evolve(
                exc,
                stacktrace=_cap_stacktrace(exc.stacktrace, limits),
                raw_stacktrace=_cap_stacktrace(exc.raw_stacktrace, limits),
            )
            for exc in event.exceptions
        ),
        threads=tuple(_cap_thread(thread, limits) for thread in threads[:max_threads]),
        threads_truncated=max(len(threads) - max_threads, 0),
        breadcrumbs=kept_crumbs,
        breadcrumbs_truncated=len(crumbs) - len(kept_crumbs),
        spans=_earliest_spans(event.spans, max(limits.max_spans, 0)),
        spans_truncated=max(len(event.spans) - max(limits.max_spans, 0), 0),
    )


def _cap_thread(thread: Thread, limits: RenderLimits) -> Thread:
    return attrs.evolve(
        thread,
        stacktrace=_cap_stacktrace(thread.stacktrace, limits),
        raw_stacktrace=_cap_stacktrace(thread.raw_stacktrace, limits),
    )


def _cap_stacktrace(stacktrace: Stacktrace | None, limits: RenderLimits) -> Stacktrace | None:
    if stacktrace is None:
        return None
    frames = stacktrace.frames
    max_frames = max(limits.max_frames, 0)
    truncated_at = 0
    if len(frames) > max_frames:
        oldest = max_frames // OLDEST_FRAMES_SHARE
        newest = max_frames - oldest
        frames = frames[:oldest] + frames[len(frames) - newest :]
        truncated_at = oldest
    return attrs.evolve(
        stacktrace,
        frames=tuple(_cap_frame(frame, limits) for frame in frames),
        frames_truncated=len(stacktrace.frames) - len(frames),
        frames_truncated_at=truncated_at,
    )


def _cap_frame(frame: Frame, limits: RenderLimits) -> Frame:
    max_vars = max(limits.max_vars, 0)
    if len(frame.vars) <= max_vars:
        return frame
    return attrs.evolve(frame, vars=frame.vars[:max_vars], vars_truncated=len(frame.vars) - max_vars)


def _earliest_spans(spans: tuple[Span, ...], max_spans: int) -> tuple[Span, ...]:
    """The ``max_spans`` spans that started first, kept in their tree order."""
    if len(spans) <= max_spans:
        return spans

    def start(index: int) -> tuple[bool, float, int]:
        timestamp = spans[index].start_timestamp
        seconds = timestamp.timestamp() if not isinstance(timestamp, str | None) else None
        return (seconds is None, seconds or 0.0, index)

    keep = set(sorted(range(len(spans)), key=start)[:max_spans])
    return tuple(span for index, span in enumerate(spans) if index in keep)


@attrs.frozen
class _ValueCapper:
    """Walks the model tree, cutting long strings and deep payload values; rebuilds only what changed."""

    limits: RenderLimits

    def model(self, obj: Any) -> Any:
        changes = {}
        for field in attrs.fields(type(obj)):
            value = getattr(obj, field.name)
            capped = self.member(value)
            if capped is not value:
                changes[field.name] = capped
        return attrs.evolve(obj, **changes) if changes else obj

    def member(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if attrs.has(type(value)):
            return self.model(value)
        if isinstance(value, tuple):
            items = [self.member(item) for item in value]
            return value if all(new is old for new, old in zip(items, value, strict=True)) else tuple(items)
        if isinstance(value, dict | list):
            return self.payload(value, 0)
        return value

    def text(self, value: str) -> str:
        return cut(value, self.limits.max_value_chars) if len(value) > self.limits.max_value_chars >= 0 else value

    def payload(self, value: Any, depth: int) -> Any:
        """A JSON value from the payload, capped in length and depth."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            if depth >= self.limits.max_depth:
                return f"… [nested too deep: object with {len(value):,} keys]"
            return {self.text(str(key)): self.payload(item, depth + 1) for key, item in value.items()}
        if isinstance(value, list | tuple):
            if depth >= self.limits.max_depth:
                return f"… [nested too deep: list of {len(value):,} items]"
            return [self.payload(item, depth + 1) for item in value]
        return value
