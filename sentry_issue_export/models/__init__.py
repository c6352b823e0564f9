"""Typed, frozen models built from Sentry's issue and event JSON.

The tolerance for the API's quirks lives here, once, so templates and renderers can trust what they get:
``count`` sent as a string, nulls anywhere (a whole entry's ``data`` included), ``vars`` as a dict, string,
list or null, ``exception.value`` instead of ``values``, tags as ``{key, value}`` or ``[key, value]``, GlitchTip's
snake_case ``context_line``, raw SDK payloads without ``entries[]``, timestamps as ISO text with or without
fractions and offsets or as float epochs, numbers sent as strings and strings sent as numbers.

Every ``from_api`` accepts any JSON value and never raises. Lists keep the API's order: exception chains and
stack frames are oldest first. Values inside variables, extra data and contexts stay exactly as sent (a nested
JSON string or Python repr is kept as text). The ``*_truncated`` fields are zero here; ``apply_limits``
(``limits``) sets them when it applies a ``RenderLimits`` cap, which the exporter does once for every renderer.

Import from this package; its modules are one part each, from the leaves up:

- ``coerce``: JSON value -> the type a field promises (text, numbers, timestamps, pairs, fields)
- ``stacktrace``: ``Frame``, ``ContextLine``, ``Variable``, ``Stacktrace`` (with native addresses and registers)
- ``exceptions``: ``ExceptionInfo``, ``Mechanism`` (with the signal, Mach exception, errno and NSError of its
  ``MechanismMeta``) and the linking of a chain
- ``entries``: threads, message, request, breadcrumbs, spans, occurrence, unknown entries
- ``security``: the browser security reports: ``Csp``, ``ExpectCt``, ``Hpkp``
- ``images``: ``DebugImage``, and which images the stack traces point into
- ``removals``: ``Removal``, what Sentry removed from the event (its ``_meta``)
- ``protocol``: the event protocol's top-level keys, the legacy ``sentry.interfaces.*`` names among them
- ``event``: ``Event`` and its event-level data (user, contexts, tags, SDK, processing errors)
- ``overview``: what the issue says across all its events: ``TagDistribution``, ``Trend``, ``Release``,
  ``ActivityEntry``, ``RecentEvent``, gathered in ``IssueOverview``
- ``issue``: ``Issue``, ``Project``, ``IssueReport``, ``IssueSummary`` and ``build_report``
- ``limits``: ``apply_limits``, a report capped to a ``RenderLimits``, every cut announced
"""

from .coerce import Field, Pair, Timestamp, parse_timestamp
from .entries import (
    SQL_CATEGORIES,
    Breadcrumb,
    Evidence,
    Message,
    Occurrence,
    Request,
    Span,
    Thread,
    UnknownEntry,
    arrange_spans,
)
from .event import CONTEXT_ORDER, Context, Event, ProcessingError, SdkInfo, Tag, User
from .exceptions import (
    RELATIONS,
    CError,
    ExceptionInfo,
    MachException,
    Mechanism,
    MechanismMeta,
    NsError,
    PosixSignal,
    link_chain,
)
from .images import DebugImage, reference_images
from .issue import Issue, IssueReport, IssueSummary, Project, build_report
from .limits import apply_limits
from .overview import ActivityEntry, IssueOverview, RecentEvent, Release, TagDistribution, TagValue, Trend
from .protocol import LEGACY_KEYS, PROTOCOL_KEYS, modern_keys
from .removals import Removal
from .security import Csp, ExpectCt, Hpkp, Sct
from .stacktrace import ContextLine, Frame, Stacktrace, Variable

__all__ = [
    "CONTEXT_ORDER",
    "LEGACY_KEYS",
    "PROTOCOL_KEYS",
    "RELATIONS",
    "SQL_CATEGORIES",
    "ActivityEntry",
    "Breadcrumb",
    "CError",
    "Context",
    "ContextLine",
    "Csp",
    "DebugImage",
    "Event",
    "Evidence",
    "ExceptionInfo",
    "ExpectCt",
    "Field",
    "Frame",
    "Hpkp",
    "Issue",
    "IssueOverview",
    "IssueReport",
    "IssueSummary",
    "MachException",
    "Mechanism",
    "MechanismMeta",
    "Message",
    "NsError",
    "Occurrence",
    "Pair",
    "PosixSignal",
    "ProcessingError",
    "Project",
    "RecentEvent",
    "Release",
    "Removal",
    "Request",
    "Sct",
    "SdkInfo",
    "Span",
    "Stacktrace",
    "Tag",
    "TagDistribution",
    "TagValue",
    "Thread",
    "Timestamp",
    "Trend",
    "UnknownEntry",
    "User",
    "Variable",
    "apply_limits",
    "arrange_spans",
    "build_report",
    "link_chain",
    "modern_keys",
    "parse_timestamp",
    "reference_images",
]
