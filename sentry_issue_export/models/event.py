"""The event: one occurrence of an issue, its event-level data (user, contexts, tags, SDK, processing errors)
and its ``entries[]`` sorted into typed fields.

This is where the entry classes meet: ``Event.from_api`` sorts the entries by type (reading a raw SDK payload's
top-level keys when there is no ``entries[]``, the legacy ``sentry.interfaces.*`` names included), links the
exception chain, arranges the spans, marks the debug images the stack traces point into and reads what Sentry
removed from ``_meta``. Where a raw payload leaves out what Relay would fill in, it is filled in as Relay does: a
level of ``error`` (``info`` for a transaction), a platform of ``other``, and a top-level stack trace moved into
the event's only exception when that has none.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Self

import attrs

from .coerce import (
    Field,
    Pair,
    Timestamp,
    as_fields,
    as_list,
    as_mapping,
    as_pairs,
    as_text,
    epoch_seconds,
    parse_timestamp,
    pick,
    release_version,
)
from .entries import Breadcrumb, Message, Occurrence, Request, Span, Thread, UnknownEntry, arrange_spans
from .exceptions import ExceptionInfo, exception_values, link_chain
from .images import DebugImage, reference_images
from .protocol import modern_keys
from .removals import Removal, removals
from .security import Csp, ExpectCt, Hpkp
from .stacktrace import Frame, Stacktrace, optional_stacktrace


@attrs.frozen
class Tag:
    key: str | None
    value: str | None


def _tags(value: Any) -> tuple[Tag, ...]:
    return tuple(Tag(name or None, item) for name, item in as_pairs(value))


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
        data = as_mapping(data)
        known = {"id", "email", "username", "ip_address", "name", "geo", "data"}
        return cls(
            id=as_text(data.get("id")),
            email=as_text(data.get("email")),
            username=as_text(data.get("username")),
            ip_address=as_text(data.get("ip_address")),
            name=as_text(data.get("name")),
            geo=as_fields(data.get("geo")),
            data=as_fields(data.get("data")),
            other=tuple((k, v) for k, v in as_fields(data) if k not in known and v is not None),
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
            type=as_text(as_mapping(body).get("type")) or str(name),
            fields=as_fields(body, skip=("type",)),
        )
        for name, body in as_mapping(value).items()
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
        data = as_mapping(data)
        packages = []
        for package in as_list(data.get("packages")):
            if isinstance(package, dict):
                packages.append(" ".join(filter(None, (as_text(package.get("name")), as_text(package.get("version"))))))
            elif package is not None:
                packages.append(as_text(package) or "")
        return cls(
            name=as_text(data.get("name")),
            version=as_text(data.get("version")),
            integrations=tuple(as_text(item) or "" for item in as_list(data.get("integrations")) if item is not None),
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
            return cls(message=as_text(data))
        details = as_fields(data.get("data")) + tuple(
            (name, value) for name, value in as_fields(data, skip=("type", "message", "data")) if value is not None
        )
        return cls(type=as_text(data.get("type")), message=as_text(data.get("message")), data=details)


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
    server_name: str | None = None
    """The host the SDK ran on (a top-level key of SDK events, a tag in the REST API's)."""
    date_created: Timestamp = None
    date_received: Timestamp = None
    start_timestamp: Timestamp = None
    end_timestamp: Timestamp = None
    fingerprints: tuple[str, ...] = ()
    exceptions: tuple[ExceptionInfo, ...] = ()
    threads: tuple[Thread, ...] = ()
    stacktrace: Stacktrace | None = None
    """The event's own stack trace (``stacktrace`` at the top of the payload), when no exception holds it."""
    log_message: Message | None = None
    request: Request | None = None
    breadcrumbs: tuple[Breadcrumb, ...] = ()
    spans: tuple[Span, ...] = ()
    csp: Csp | None = None
    expectct: ExpectCt | None = None
    hpkp: Hpkp | None = None
    images: tuple[DebugImage, ...] = ()
    """``debug_meta.images``: those the stack traces point into first (``referenced``), then the others."""
    system_sdk: str | None = None
    """The operating system SDK the app was built against (``debug_meta.sdk_info``: ``iOS 17.2.1``)."""
    occurrence: Occurrence | None = None
    user: User | None = None
    contexts: tuple[Context, ...] = ()
    tags: tuple[Tag, ...] = ()
    extra: tuple[Field, ...] = ()
    sdk: SdkInfo | None = None
    packages: tuple[Pair, ...] = ()
    """Installed packages and their versions, as the SDK reported them."""
    errors: tuple[ProcessingError, ...] = ()
    removed: tuple[Removal, ...] = ()
    """Values Sentry removed from the event (a body too large to keep ...), read from ``_meta``."""
    unknown_entries: tuple[UnknownEntry, ...] = ()
    threads_truncated: int = 0
    images_truncated: int = 0
    """Referenced debug images left out by ``max_images``."""
    other_images_truncated: int = 0
    """Debug images no frame points into, left out by ``max_other_images``."""
    breadcrumbs_truncated: int = 0
    spans_truncated: int = 0

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = modern_keys(as_mapping(data))
        if not data:
            return cls()
        platform = as_text(data.get("platform")) or "other"
        parts = _EntryParts()
        entries = _entries(data)
        for entry in entries:
            parts.add(entry)
        parts.settle()
        user = User.from_api(data.get("user"))
        sdk = SdkInfo.from_api(data.get("sdk"))
        start = parse_timestamp(pick(data, "startTimestamp", "start_timestamp"))
        end = parse_timestamp(pick(data, "endTimestamp", "end_timestamp"))
        if end is None and start is not None:  # raw transaction payloads end at "timestamp"
            end = parse_timestamp(data.get("timestamp"))
        date_created = parse_timestamp(pick(data, "dateCreated", "date_created", "datetime", "timestamp"))
        message = data.get("message")
        occurrence = data.get("occurrence")
        tags = _tags(data.get("tags"))
        tag_values = {tag.key: tag.value for tag in tags if tag.key}  # the API keeps some fields only as tags
        event_type = as_text(data.get("type"))
        exceptions = link_chain(parts.exceptions, platform)
        entry_types = [as_text(entry.get("type")) or "" for entry in entries] if "entries" in data else None
        return cls(
            id=as_text(pick(data, "eventID", "id", "event_id")),
            group_id=as_text(pick(data, "groupID", "group_id")),
            type=event_type,
            title=as_text(data.get("title")),
            message=as_text(message) if not isinstance(message, dict) else Message.from_api(message).text or None,
            platform=platform,
            level=as_text(data.get("level"))
            or tag_values.get("level")
            or ("info" if event_type == "transaction" else "error"),
            logger=as_text(data.get("logger")) or None,
            culprit=as_text(data.get("culprit")) or None,
            transaction=as_text(data.get("transaction")) or tag_values.get("transaction"),
            environment=as_text(data.get("environment")) or tag_values.get("environment"),
            release=release_version(data.get("release")) or tag_values.get("release"),
            dist=as_text(data.get("dist")),
            server_name=as_text(pick(data, "server_name", "serverName")) or tag_values.get("server_name"),
            date_created=date_created,
            date_received=parse_timestamp(pick(data, "dateReceived", "date_received", "received")),
            start_timestamp=start,
            end_timestamp=end,
            fingerprints=tuple(as_text(item) or "" for item in as_list(pick(data, "fingerprints", "fingerprint"))),
            exceptions=exceptions,
            threads=tuple(parts.threads),
            stacktrace=parts.stacktrace,
            log_message=parts.message,
            request=parts.request,
            breadcrumbs=tuple(parts.breadcrumbs),
            spans=arrange_spans(parts.spans, epoch_seconds(start)),
            csp=parts.csp,
            expectct=parts.expectct,
            hpkp=parts.hpkp,
            images=reference_images(parts.images, frames_by_importance(exceptions, parts.stacktrace, parts.threads)),
            system_sdk=parts.system_sdk,
            occurrence=Occurrence.from_api(occurrence) if isinstance(occurrence, dict) else None,
            user=None if user.is_empty else user,
            contexts=_contexts(data.get("contexts")),
            tags=tags,
            extra=as_fields(pick(data, "context", "extra")),
            sdk=None if sdk == SdkInfo() else sdk,
            packages=as_pairs(pick(data, "packages", "modules")),
            errors=tuple(ProcessingError.from_api(item) for item in as_list(data.get("errors")) if item),
            removed=removals(data.get("_meta"), entry_types),
            unknown_entries=tuple(parts.unknown),
        )

    @property
    def duration_ms(self) -> float | None:
        """A transaction's duration."""
        start, end = epoch_seconds(self.start_timestamp), epoch_seconds(self.end_timestamp)
        return (end - start) * 1000 if start is not None and end is not None else None


_RAW_SDK_ENTRY_KEYS = {
    "exception": "exception",
    "threads": "threads",
    "stacktrace": "stacktrace",
    "logentry": "message",
    "request": "request",
    "breadcrumbs": "breadcrumbs",
    "spans": "spans",
    "csp": "csp",
    "expectct": "expectct",
    "hpkp": "hpkp",
    "expectstaple": "expectstaple",
    "template": "template",
    "debug_meta": "debugmeta",
}


def _entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """``entries[]`` as the API sends them, or built from a raw SDK payload's top-level keys.

    An SDK event's ``message`` is the legacy name of ``logentry``: an object like it (``{"formatted": ...}``) or
    the message's text.
    """
    if "entries" in data:
        return [entry for entry in as_list(data.get("entries")) if isinstance(entry, dict)]
    entries = [
        {"type": kind, "data": data[key]} for key, kind in _RAW_SDK_ENTRY_KEYS.items() if data.get(key) is not None
    ]
    message = data.get("message")
    if data.get("logentry") is None and (isinstance(message, dict) or (isinstance(message, str) and message)):
        entries.append({"type": "message", "data": message})
    return entries


def frames_by_importance(
    exceptions: Sequence[ExceptionInfo], stacktrace: Stacktrace | None, threads: Sequence[Thread]
) -> Iterator[Frame]:
    """Every frame, the most telling first: the raised exception's newest frame, then the rest of the chain, the
    event's own stack trace, the crashed thread and the current one, then the other threads; the processed
    frames of each before its raw ones."""
    traces: list[Stacktrace | None] = []
    for exc in reversed(exceptions):
        traces += [exc.stacktrace, exc.raw_stacktrace]
    traces.append(stacktrace)
    for thread in sorted(threads, key=lambda thread: (not thread.crashed, not thread.current)):
        traces += [thread.stacktrace, thread.raw_stacktrace]
    for trace in traces:
        if trace is not None:
            yield from reversed(trace.frames)


def _values(data: Any) -> list[Any]:
    """``{"values": [...]}`` or a bare list."""
    if isinstance(data, list):
        return data
    return as_list(as_mapping(data).get("values"))


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
    expectct: ExpectCt | None = None
    hpkp: Hpkp | None = None
    stacktrace: Stacktrace | None = None
    images: list[DebugImage] = attrs.field(factory=list)
    system_sdk: str | None = None
    unknown: list[UnknownEntry] = attrs.field(factory=list)

    def settle(self) -> None:
        """What Relay does once all entries are read: an only exception without a stack trace takes the event's."""
        if self.stacktrace is not None and len(self.exceptions) == 1 and self.exceptions[0].stacktrace is None:
            self.exceptions[0] = attrs.evolve(self.exceptions[0], stacktrace=self.stacktrace)
            self.stacktrace = None

    def add(self, entry: dict[str, Any]) -> None:
        kind = as_text(entry.get("type")) or "(no type)"
        data = entry.get("data")
        if kind == "exception":
            self.exceptions.extend(ExceptionInfo.from_api(item) for item in exception_values(data))
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
        elif kind == "expectct" and isinstance(data, dict):
            self.expectct = ExpectCt.from_api(data)
        elif kind == "hpkp" and isinstance(data, dict):
            self.hpkp = Hpkp.from_api(data)
        elif kind == "stacktrace" and isinstance(data, dict):
            self.stacktrace = optional_stacktrace(data)
        elif kind == "debugmeta" and isinstance(data, dict):
            listed = as_list(data.get("images"))
            self.images.extend(DebugImage.from_api(item, index) for index, item in enumerate(listed) if item)
            self.system_sdk = _system_sdk(data.get("sdk_info")) or self.system_sdk
        elif data is not None:
            self.unknown.append(UnknownEntry(kind, data))


def _system_sdk(value: Any) -> str | None:
    """``debug_meta.sdk_info`` as ``iOS 17.2.1``."""
    info = as_mapping(value)
    name = as_text(info.get("sdk_name"))
    numbers = [as_text(info.get(key)) for key in ("version_major", "version_minor", "version_patchlevel")]
    version = ".".join(number for number in numbers if number is not None)
    return " ".join(part for part in (name, version) if part) or None
