"""The ``json`` renderer: the normalised, redacted model as JSON, for programs rather than people.

Schema (version 1). The document is an object::

    {"schema_version": 1, "reports": [Report, ...], "failures": [Failure, ...]}

Every object below mirrors a class in ``sentry_issue_export.models`` field for field (``attrs.asdict``), so the
model docstrings are the reference. Timestamps are ISO 8601 strings in UTC (``2025-03-14T09:26:53.142000Z``),
or the raw text when Sentry sent something unparseable. ``null`` means absent. Pairs are two-item arrays.
Containers that fit in 100 columns are written on one line, so the file also reads well.

- ``Failure``: a reference that could not be exported: ``ref`` (as typed), ``error`` (the error class, e.g.
  ``NotFoundError``; see ``sentry_issue_export/errors.py``), ``message`` (the sentence saying why).
- ``Report``: ``issue`` (Issue), ``event`` (Event or ``null`` when no event is left in retention),
  ``ref_text`` (the reference as typed), ``limits`` (the caps this report was cut to: the fields of
  ``RenderLimits``), ``overview`` (Overview: what the issue says across all its events).
- ``Overview``: ``trends`` [{``period`` (``24h``, ``14d``, ``30d``), ``interval`` (``hour`` or ``day``),
  ``buckets`` [[timestamp, count], ...] oldest first}], ``first_release`` and ``last_release`` ({``version``,
  ``date_created``, ``date_released``, ``first_seen``, ``last_seen``} or ``null``), ``releases_from_tags`` (how
  many release tag values they were read from, 0 when the issue named them) and ``releases_complete``,
  ``tags`` [{``key``, ``name``, ``total`` (events carrying the tag), ``unique``, ``values`` [{``value``,
  ``name``, ``count``, ``first_seen``, ``last_seen``}] most frequent first, ``values_truncated``}],
  ``tags_truncated``, ``activity`` [{``type`` (Sentry's activity type: ``note``, ``set_regression`` ...),
  ``date``, ``user``, ``text``, ``version``, ``data``}] newest first, ``activity_truncated``,
  ``recent_events`` [{``id``, ``date``, ``title``, ``release``, ``environment``, ``user``, ``is_shown`` (the
  event shown in detail), ``differs`` (what differs from it: ``title``, ``release``, ``environment``)}] newest
  first, ``recent_events_truncated``, ``comments`` (notes on the issue in all), and ``unavailable`` [[part,
  why]] for each part (``trend``, ``releases``, ``tags``, ``activity``, ``events``) the server did not give.
- ``Issue``: ``id``, ``short_id``, ``title``, ``culprit``, ``permalink``, ``level``, ``status``, ``substatus``,
  ``priority``, ``platform``, ``project`` {``id``, ``slug``, ``name``}, ``type``, ``issue_category``,
  ``metadata`` (pairs), ``count`` and ``user_count`` (integers), ``first_seen``, ``last_seen``,
  ``assigned_to`` (display text), ``first_release``, ``last_release`` (versions).
- ``Event``: ``id``, ``group_id``, ``type`` (any string, also types this version does not know), ``title``,
  ``message``, ``platform`` (``other`` when the event names none, as Sentry defaults it), ``level`` (``error``
  when the event names none; ``info`` for a transaction), ``logger``, ``culprit``, ``transaction``,
  ``environment``, ``release``, ``dist``, ``server_name``, ``date_created``, ``date_received``,
  ``start_timestamp``, ``end_timestamp``, ``fingerprints``, ``exceptions`` [ExceptionInfo] (oldest first; the
  last one was raised), ``threads`` [Thread] (crashed and current first), ``stacktrace`` (Stacktrace or ``null``:
  the event's own stack trace, when no exception holds it), ``log_message`` {``formatted``, ``message``,
  ``params``}, ``request`` {``method``, ``url``, ``query``, ``fragment``, ``headers``, ``cookies`` (pairs),
  ``data`` (as sent), ``env`` (pairs), ``inferred_content_type``}, ``breadcrumbs`` [{``timestamp``, ``type``,
  ``category``, ``level``, ``message``, ``data``}] (oldest first), ``spans`` [Span] (tree order), ``csp`` (the
  violation's fields and ``other``), ``expectct`` {``date_time``, ``hostname``, ``port``, ``scheme``,
  ``effective_expiration_date``, ``served_certificate_chain``, ``validated_certificate_chain`` (PEM strings),
  ``scts`` [{``version``, ``status``, ``source``, ``serialized_sct``}], ``failure_mode``, ``test_report``,
  ``other``}, ``hpkp`` {``date_time``, ``hostname``, ``port``, ``effective_expiration_date``,
  ``include_subdomains``, ``noted_hostname``, ``served_certificate_chain``, ``validated_certificate_chain``,
  ``known_pins``, ``other``}, ``images`` [DebugImage] (those the stack traces point into first), ``system_sdk``
  (``iOS 17.2.1``), ``occurrence`` {``issue_title``, ``subtitle``, ``culprit``, ``evidence`` [{``name``,
  ``value``, ``important``}], ``evidence_data``, ``offender_span_ids``}, ``user`` {``id``, ``email``,
  ``username``, ``ip_address``, ``name``, ``geo``, ``data``, ``other``}, ``contexts`` [{``name``, ``type``,
  ``fields``}], ``tags`` [{``key``, ``value``}], ``extra`` (pairs), ``sdk`` {``name``, ``version``,
  ``integrations``, ``packages``}, ``packages`` (pairs), ``errors`` [{``type``, ``message``, ``data``}],
  ``removed`` [{``path`` (``request.data``, ``extra.payload``), ``place`` (in words), ``reason`` (``too large``,
  ``rule @password`` ...), ``original_length``}] (what Sentry removed, from its ``_meta``), ``unknown_entries``
  [{``type``, ``data``}], and the cut counts ``threads_truncated``, ``breadcrumbs_truncated`` (older ones left
  out), ``spans_truncated`` (later ones left out), ``images_truncated`` (images the frames point into, left
  out by ``max_images``), ``other_images_truncated`` (the others, left out by ``max_other_images``).
- ``ExceptionInfo``: ``type``, ``value``, ``module``, ``mechanism`` {``type``, ``handled``, ``synthetic``,
  ``description``, ``help_link``, ``source``, ``exception_id``, ``parent_id``, ``is_exception_group``,
  ``data``, ``meta`` (what the operating system reported, or ``null``: {``signal`` {``number``, ``code``,
  ``name``, ``code_name``}, ``mach_exception`` {``exception``, ``code``, ``subcode``, ``name``}, ``errno``
  {``number``, ``name``}, ``ns_error`` {``code``, ``domain``}, ``other``}, each ``null`` when not sent)},
  ``stacktrace`` and ``raw_stacktrace`` (Stacktrace or ``null``; the raw one is the stack trace before source
  maps, deobfuscation or symbolication), ``thread_id``, ``parent`` (index in ``exceptions`` of the newer
  exception this one led to), ``relation`` (``cause``: it is the parent's direct cause; ``context``: the parent
  was raised while handling it; ``group``: member of the parent group), ``relation_inferred`` (true when read
  from the order alone).
- ``Thread``: ``id``, ``name``, ``crashed``, ``current``, ``main``, ``state``, ``stacktrace``, ``raw_stacktrace``.
- ``Stacktrace``: ``frames`` [Frame] (oldest call first), ``frames_omitted`` ([start, end] Sentry dropped),
  ``registers`` (pairs: the thread's registers at its newest frame, values as sent), ``frames_truncated``
  (frames cut by ``max_frames``), ``frames_truncated_at`` (index in ``frames`` before which they are missing),
  ``details_omitted`` (frames shown without the code context and variables they have).
- ``Frame``: ``filename``, ``abs_path``, ``module``, ``function``, ``raw_function``, ``lineno``, ``colno``,
  ``in_app``, ``context`` [{``lineno``, ``code``, ``is_error_line``}], ``vars`` [{``name``, ``value``}],
  ``package`` (for native code the image's path), ``platform``, ``instruction_addr``, ``symbol_addr`` (the
  function's start), ``image_addr``, ``addr_mode`` (``abs``, or ``rel:N``: relative to the Nth image),
  ``function_id`` (.NET: the method's token), ``trust`` (how the stack walker found the frame: ``context``,
  ``cfi``, ``fp``, ``scan`` ...), ``symbol``, ``source_map``, ``orig_filename``, ``orig_abs_path``,
  ``orig_function``, ``orig_lineno``, ``orig_colno`` (the minified location of a source-mapped frame),
  ``vars_truncated``, ``repeats_omitted`` (a run of recursion: this many frames identical to this one were left
  out just before it, between it and the run's first frame). Addresses are strings as sent (``0x`` hex).
- ``DebugImage``: ``type`` (``macho``, ``elf``, ``pe``, ``pe_dotnet``, ``proguard``, ``jvm``, ``sourcemap``,
  ``apple`` ...), ``code_file`` (the binary's path), ``debug_id`` (or the image's UUID), ``code_id``,
  ``debug_file``, ``arch``, ``image_addr``, ``image_size`` (bytes), ``image_vmaddr``, ``debug_status`` and
  ``unwind_status`` (what Sentry found for it: ``found``, ``missing`` ...), ``referenced`` (a stack frame points
  into it), ``index`` (its position in ``debug_meta.images``, which a frame's ``addr_mode`` ``rel:N`` names),
  ``other`` (the remaining fields, pairs).
- ``Span``: ``span_id``, ``parent_span_id``, ``trace_id``, ``op``, ``description``, ``status``,
  ``start_timestamp``, ``timestamp``, ``duration_ms``, ``offset_ms`` (from the transaction start), ``depth``
  (0 = child of the transaction), ``data``, ``tags``.

The report limits apply here too: strings longer than ``max_value_chars`` end in ``… [cut N chars]``, values
nested deeper than ``max_depth`` become ``"… [nested too deep: ...]"``, and a list of pairs cut by
``max_fields`` ends in ``["…", "N more not shown (max_fields=K)"]``. A new field may appear in a later
version without a version change; a removed or renamed field raises ``schema_version``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import attrs

from ..hookspecs import IssuePart, Renderer, RenderOptions, hookimpl
from ..models import IssueReport, IssueSummary
from .formatting import COMPACT_WIDTH, fitted_json

SCHEMA_VERSION = 1

# json.dumps escapes C0 controls itself; these others it leaves raw with ensure_ascii=False.
_UNSAFE = {code: f"\\u{code:04x}" for code in [0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]}
_UNSAFE.update({code: f"\\u{code:04x}" for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]})
# Finding them with a regular expression first is much faster than str.translate over a large document.
_UNSAFE_FOUND = re.compile("[" + "".join(map(chr, _UNSAFE)) + "]")


def _serialize(instance: Any, field: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and Infinity are not JSON
    return value


def report_to_dict(report: IssueReport) -> dict[str, Any]:
    """One report as JSON-ready data."""
    return attrs.asdict(report, value_serializer=_serialize)


def render_json(reports: Sequence[IssueReport], options: RenderOptions) -> str:
    """The (already capped) reports as one JSON document."""
    parts = [IssuePart(IssueSummary.of(report), render_json_issue(report, options).__str__) for report in reports]
    chunks: list[str] = []
    write_json_document(parts, options, chunks.append)
    return "".join(chunks)


REPORT_INDENT = 4
"""Columns before a report inside the document's ``reports`` list."""


def render_json_issue(report: IssueReport, options: RenderOptions) -> str:
    """One (capped) report as it stands in the document's ``reports`` list."""
    return _escaped(fitted_json(report_to_dict(report), REPORT_INDENT))


def write_json_document(parts: Sequence[IssuePart], options: RenderOptions, write: Callable[[str], Any]) -> None:
    """The document around the reports' parts, laid out as ``fitted_json`` lays out the whole, one part in
    memory at a time."""
    failures = [
        {"ref": failure.ref_text, "error": type(failure.error).__name__, "message": failure.message}
        for failure in options.failures
    ]
    write(f'{{\n  "schema_version": {SCHEMA_VERSION},\n  "reports": ')
    compact = _compact_list(parts)
    if compact is not None:
        write(compact)
    else:
        inner = "\n" + " " * REPORT_INDENT
        for number, part in enumerate(parts):
            write(("[" if number == 0 else ",") + inner + part.text())
        write("\n  ]")
    write(f',\n  "failures": {_escaped(fitted_json(failures, 2))}\n}}\n')


def _compact_list(parts: Sequence[IssuePart]) -> str | None:
    """The reports list on one line, as ``fitted_json`` writes a list whose items are short; ``None`` when it
    breaks (always, for real reports: the parts are read only while the line could still fit)."""
    if not parts:
        return "[]"
    texts: list[str] = []
    width = 2 + 2  # the list's indent and its brackets
    for part in parts:
        text = part.text()
        width += len(text) + (2 if texts else 0)
        if "\n" in text or width > COMPACT_WIDTH:
            return None
        texts.append(text)
    return "[" + ", ".join(texts) + "]"


def _escaped(text: str) -> str:
    return _UNSAFE_FOUND.sub(lambda match: _UNSAFE[ord(match[0])], text)


@hookimpl
def register_renderers(register: Callable[[Renderer], None]) -> None:
    register(
        Renderer(
            "json",
            "json",
            render_json,
            "The normalised model as JSON (schema_version 1).",
            render_issue=render_json_issue,
            write_document=write_json_document,
        )
    )
