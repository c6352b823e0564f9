"""Apply ``RenderLimits`` to a report, once, before any renderer formats it.

Every renderer shows the same capped report, and every cut is visible:

- list cuts set the model's ``*_truncated`` counts (frames, variables, breadcrumbs, spans, threads, debug
  images: those the stack traces point into and the others, each by its own cap);
- a run of identical frames (recursion) keeps its first and last frame, and the newer one counts the frames
  left out in ``repeats_omitted``;
- frames past ``max_detail_frames`` lose their code context and variables, counted in the stack trace's
  ``details_omitted``;
- a list of name-value pairs cut by ``max_fields`` ends in one ``("…", "N more not shown …")`` pair, so every
  template, a user's too, shows the cut without knowing about it;
- a binary's path longer than ``max_value_chars`` (a frame's ``package``, an image's ``code_file``) keeps its
  file name, as ``…/Shop``;
- long strings end in ``… [cut N chars]`` (the issue's own header fields are cut no shorter than
  :data:`HEADER_VALUE_CHARS`), containers nested deeper than ``max_depth`` become a
  ``… [nested too deep: ...]`` string, and a payload object or list longer than ``max_fields`` keeps its first
  items and one ``"…"`` item counting the rest.

The report records the limits it was capped with (``IssueReport.limits``), so a template names the cap that
applied to this issue even when several issues of one answer were capped differently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

from ..settings import RenderLimits
from ..textsafe import cut
from .entries import Request, Span, Thread
from .event import Context, Event, SdkInfo, Tag, User, frames_by_importance
from .exceptions import ExceptionInfo
from .images import rank_images
from .issue import IssueReport
from .overview import IssueOverview
from .stacktrace import Frame, Stacktrace

HEADER_VALUE_CHARS = 500
"""The issue's own fields (its title, culprit, release) are the report's header: cut no shorter than this."""
OLDEST_FRAMES_SHARE = 3
"""Of ``max_frames``, one third goes to the oldest frames (the entry point), the rest to the newest."""
MORE = "…"
"""The name of the pair that announces a ``max_fields`` cut."""

T = TypeVar("T")


def apply_limits(report: IssueReport, limits: RenderLimits) -> IssueReport:
    """A copy of ``report`` trimmed to ``limits``; the input is left untouched."""
    event = report.event
    if event is not None:
        event = _cap_event(event, limits)
    header_limits = attrs.evolve(limits, max_value_chars=max(limits.max_value_chars, HEADER_VALUE_CHARS))
    return attrs.evolve(
        report,
        issue=_ValueCapper(header_limits).model(report.issue),
        event=None if event is None else _ValueCapper(limits).model(event),
        overview=_ValueCapper(limits).model(_cap_overview(report.overview, limits)),
        ref_text=_ValueCapper(header_limits).text(report.ref_text),
        limits=limits,
    )


def _cap_event(event: Event, limits: RenderLimits) -> Event:
    max_threads = max(limits.max_threads, 0)
    max_crumbs = max(limits.max_breadcrumbs, 0)
    # Crashed and current threads first, so a cap never drops the thread that matters.
    threads = sorted(event.threads, key=lambda thread: (not thread.crashed, not thread.current))
    crumbs = event.breadcrumbs
    kept_crumbs = crumbs[len(crumbs) - max_crumbs :] if len(crumbs) > max_crumbs else crumbs
    fields = _FieldCapper(max(limits.max_fields, 0))
    exceptions = tuple(_cap_exception(exc, limits) for exc in event.exceptions)
    kept_threads = tuple(_cap_thread(thread, limits) for thread in threads[:max_threads])
    stacktrace = _cap_stacktrace(event.stacktrace, limits)
    # The images of the frames still shown come first, so a cap never drops the image of a frame it keeps.
    ranked = rank_images(event.images, frames_by_importance(exceptions, stacktrace, kept_threads))
    referenced = [image for image in ranked if image.referenced]
    others = [image for image in ranked if not image.referenced]
    max_images, max_others = max(limits.max_images, 0), max(limits.max_other_images, 0)
    return attrs.evolve(
        event,
        exceptions=exceptions,
        threads=kept_threads,
        threads_truncated=max(len(threads) - max_threads, 0),
        stacktrace=stacktrace,
        images=tuple(
            attrs.evolve(image, code_file=short_path(image.code_file))
            if image.code_file and len(image.code_file) > limits.max_value_chars >= 0
            else image
            for image in (*referenced[:max_images], *others[:max_others])
        ),
        images_truncated=max(len(referenced) - max_images, 0),
        other_images_truncated=max(len(others) - max_others, 0),
        breadcrumbs=kept_crumbs,
        breadcrumbs_truncated=len(crumbs) - len(kept_crumbs),
        spans=_kept_spans(event.spans, max(limits.max_spans, 0), limits.spans_kept),
        spans_truncated=max(len(event.spans) - max(limits.max_spans, 0), 0),
        request=_cap_request(event.request, fields),
        user=_cap_user(event.user, fields),
        contexts=tuple(
            attrs.evolve(context, fields=fields.pairs(context.fields))
            for context in fields.items(event.contexts, lambda text: Context(MORE, None, ((MORE, text),)))
        ),
        tags=fields.items(event.tags, lambda text: Tag(MORE, text)),
        extra=fields.pairs(event.extra),
        packages=fields.pairs(event.packages),
        sdk=_cap_sdk(event.sdk, fields),
    )


def _cap_overview(overview: IssueOverview, limits: RenderLimits) -> IssueOverview:
    """The most frequent tag values of the first tag keys, the newest activity and the newest events."""
    max_keys, max_values = max(limits.max_tag_keys, 0), max(limits.max_tag_values, 0)
    tags = tuple(
        attrs.evolve(tag, values=tag.values[:max_values], values_truncated=max(len(tag.values) - max_values, 0))
        if len(tag.values) > max_values
        else tag
        for tag in overview.tags[:max_keys]
    )
    max_activity, max_events = max(limits.max_activity, 0), max(limits.max_recent_events, 0)
    return attrs.evolve(
        overview,
        tags=tags,
        tags_truncated=overview.tags_truncated + max(len(overview.tags) - max_keys, 0),
        activity=overview.activity[:max_activity],
        activity_truncated=overview.activity_truncated + max(len(overview.activity) - max_activity, 0),
        recent_events=overview.recent_events[:max_events],
        recent_events_truncated=overview.recent_events_truncated + max(len(overview.recent_events) - max_events, 0),
    )


def _cap_exception(exc: ExceptionInfo, limits: RenderLimits) -> ExceptionInfo:
    return attrs.evolve(
        exc,
        stacktrace=_cap_stacktrace(exc.stacktrace, limits),
        raw_stacktrace=_cap_stacktrace(exc.raw_stacktrace, limits),
    )


def _cap_thread(thread: Thread, limits: RenderLimits) -> Thread:
    return attrs.evolve(
        thread,
        stacktrace=_cap_stacktrace(thread.stacktrace, limits),
        raw_stacktrace=_cap_stacktrace(thread.raw_stacktrace, limits),
    )


# --- stack traces ---------------------------------------------------------------------------------------------


def _cap_stacktrace(stacktrace: Stacktrace | None, limits: RenderLimits) -> Stacktrace | None:
    if stacktrace is None:
        return None
    frames = collapse_repeats(stacktrace.frames, limits.collapse_runs_of)
    shown = len(frames)
    max_frames = max(limits.max_frames, 0)
    truncated_at = 0
    if len(frames) > max_frames:
        oldest = max_frames // OLDEST_FRAMES_SHARE
        newest = max_frames - oldest
        frames = frames[:oldest] + frames[len(frames) - newest :]
        truncated_at = oldest
    detailed = _detailed_frames(frames, limits)
    capped = []
    for index, frame in enumerate(frames):
        if frame.package and len(frame.package) > limits.max_value_chars >= 0:
            frame = attrs.evolve(frame, package=short_path(frame.package))
        if index in detailed:
            capped.append(_cap_frame(frame, limits))
        else:
            capped.append(attrs.evolve(frame, context=(), vars=()))
    return attrs.evolve(
        stacktrace,
        frames=tuple(capped),
        frames_truncated=shown - len(frames),
        frames_truncated_at=truncated_at,
        details_omitted=sum(1 for i, f in enumerate(frames) if i not in detailed and (f.context or f.vars)),
    )


def short_path(path: str) -> str:
    """A binary's path too long for the cap on values, as ``…/`` and its file name: the part a report shows
    (``…/Shop`` for an app deep in a container), where cutting the end would leave neither."""
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return f"{MORE}/{name}" if name != path else path


def _identity(frame: Frame) -> tuple[Any, ...]:
    return (frame.abs_path or frame.filename, frame.module, frame.function, frame.lineno, frame.instruction_addr)


def collapse_repeats(frames: Sequence[Frame], run_length: int) -> tuple[Frame, ...]:
    """``frames`` with each run of at least ``run_length`` identical frames reduced to its first and last frame;
    the last (the newer call) counts the frames between them in ``repeats_omitted``.

    Frames are identical when file, module, function, line and address agree; their variables may differ (a
    recursion's depth). Frames without a function and a line are never taken for a run.
    """
    if run_length < 2 or len(frames) < run_length:
        return tuple(frames)
    result: list[Frame] = []
    start = 0
    while start < len(frames):
        key = _identity(frames[start])
        end = start + 1
        if frames[start].function is not None or frames[start].lineno is not None:
            while end < len(frames) and _identity(frames[end]) == key:
                end += 1
        run = end - start
        if run >= max(run_length, 3):
            last = frames[end - 1]
            result += [frames[start], attrs.evolve(last, repeats_omitted=last.repeats_omitted + run - 2)]
        else:
            result.extend(frames[start:end])
        start = end
    return tuple(result)


def _detailed_frames(frames: Sequence[Frame], limits: RenderLimits) -> set[int]:
    """Indexes of the frames that keep code context and variables: the newest frame (closest to the error)
    first, then in-app frames from the newest, then the rest from the newest, up to ``max_detail_frames``."""
    budget = max(limits.max_detail_frames, 0)
    if budget >= len(frames) and limits.library_frame_details:
        return set(range(len(frames)))
    newest_first = list(reversed(range(len(frames))))
    in_app = [i for i in newest_first[1:] if frames[i].in_app]
    others = [i for i in newest_first[1:] if not frames[i].in_app] if limits.library_frame_details else []
    order = newest_first[:1] + in_app + others
    return set(order[:budget])


def _cap_frame(frame: Frame, limits: RenderLimits) -> Frame:
    max_vars = max(limits.max_vars, 0)
    changes: dict[str, Any] = {}
    if len(frame.vars) > max_vars:
        changes.update(vars=frame.vars[:max_vars], vars_truncated=len(frame.vars) - max_vars)
    around = max(limits.max_context_lines, 0)
    if len(frame.context) > 2 * around + 1:
        at = next((i for i, line in enumerate(frame.context) if line.is_error_line), len(frame.context) // 2)
        changes["context"] = frame.context[max(at - around, 0) : at + around + 1]
    return attrs.evolve(frame, **changes) if changes else frame


# --- spans ----------------------------------------------------------------------------------------------------


def _kept_spans(spans: tuple[Span, ...], max_spans: int, kept: str) -> tuple[Span, ...]:
    """The ``max_spans`` spans that started first, or (``slowest``) every top-level span and then the slowest,
    kept in their tree order."""
    if len(spans) <= max_spans:
        return spans

    def start(index: int) -> tuple[bool, float, int]:
        timestamp = spans[index].start_timestamp
        seconds = timestamp.timestamp() if not isinstance(timestamp, str | None) else None
        return (seconds is None, seconds or 0.0, index)

    def slowness(index: int) -> tuple[int, float, int]:
        span = spans[index]
        return (span.depth != 0, -(span.duration_ms or 0.0), index)

    keep = set(sorted(range(len(spans)), key=slowness if kept == "slowest" else start)[:max_spans])
    return tuple(span for index, span in enumerate(spans) if index in keep)


# --- name-value lists -------------------------------------------------------------------------------------------


@attrs.frozen
class _FieldCapper:
    """Cuts lists of name-value pairs to ``max_fields`` items, announcing the cut as a last item."""

    max_fields: int

    def more(self, count: int) -> str:
        return f"{count:,} more not shown (max_fields={self.max_fields})"

    def items(self, values: tuple[T, ...], announce: Callable[[str], T]) -> tuple[T, ...]:
        if len(values) <= self.max_fields:
            return values
        return (*values[: self.max_fields], announce(self.more(len(values) - self.max_fields)))

    def pairs(self, values: tuple[Any, ...]) -> tuple[Any, ...]:
        return self.items(values, lambda text: (MORE, text))

    def names(self, values: tuple[str, ...]) -> tuple[str, ...]:
        return self.items(values, lambda text: f"{MORE} {text}")


def _cap_request(request: Request | None, fields: _FieldCapper) -> Request | None:
    if request is None:
        return None
    return attrs.evolve(
        request,
        query=fields.pairs(request.query),
        headers=fields.pairs(request.headers),
        cookies=fields.pairs(request.cookies),
        env=fields.pairs(request.env),
    )


def _cap_user(user: User | None, fields: _FieldCapper) -> User | None:
    if user is None:
        return None
    return attrs.evolve(user, data=fields.pairs(user.data), other=fields.pairs(user.other))


def _cap_sdk(sdk: SdkInfo | None, fields: _FieldCapper) -> SdkInfo | None:
    if sdk is None:
        return None
    return attrs.evolve(sdk, integrations=fields.names(sdk.integrations), packages=fields.names(sdk.packages))


# --- values ---------------------------------------------------------------------------------------------------


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
        if isinstance(value, RenderLimits):
            return value
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
        """A JSON value from the payload, capped in length, depth and items."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            if depth >= self.limits.max_depth:
                return f"… [nested too deep: object with {len(value):,} keys]"
            items = list(value.items())
            capped = {self.text(str(key)): self.payload(item, depth + 1) for key, item in items[: self._items]}
            if len(items) > self._items:
                capped[MORE] = self._more(len(items) - self._items, "key")
            return capped
        if isinstance(value, list | tuple):
            if depth >= self.limits.max_depth:
                return f"… [nested too deep: list of {len(value):,} items]"
            listed = [self.payload(item, depth + 1) for item in value[: self._items]]
            if len(value) > self._items:
                listed.append(f"{MORE} {self._more(len(value) - self._items, 'item')}")
            return listed
        return value

    @property
    def _items(self) -> int:
        return max(self.limits.max_fields, 1)

    def _more(self, count: int, noun: str) -> str:
        return f"{count:,} more {noun}{'' if count == 1 else 's'} not shown (max_fields={self.limits.max_fields})"
