"""The pipeline: references -> fetch -> redact -> models -> limits -> render -> file, plus what happened.

Front ends call ``export_issues`` (or ``export_issues_sync``) and format its ``ExportResult``; nothing here knows
about MCP or argparse. One failing issue never stops the others: it becomes an ``IssueFailure`` in the result,
carrying the typed error. The ``RenderLimits`` are applied here, once, so every renderer (a plugin's too) gets
the same capped reports. A front end that wants each report as it arrives (to fit an answer to a budget, say)
passes ``on_report``; the pipeline itself keeps only a summary per issue.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from .errors import ExportError, FetchError
from .hookspecs import FetchFailure, RawIssue, Renderer, Source
from .models import IssueReport, IssueSummary, apply_limits, build_report
from .output import default_report_name, resolve_output_path, safe_name_part, write_new_file
from .plugins import Registry, get_registry
from .refs import DEFAULT_SEARCH_LIMIT, IssueRef, IssueSearch
from .rendering import guarded, render_options
from .selection import IssueFailure, SearchOutcome, ServerKinds, check_limit, select_issues, source_for
from .settings import Settings
from .spool import IssueSpool

__all__ = [
    "FAILURES_LISTED",
    "ExportResult",
    "IssueFailure",
    "ProgressCallback",
    "ReportCallback",
    "SearchOutcome",
    "export_issues",
    "export_issues_sync",
]

ProgressCallback = Callable[[int, int, str], Any]
"""Called as ``(done, total, message)`` after each issue is fetched; may return an awaitable."""
ReportCallback = Callable[[int, IssueReport], Any]
"""Called as ``(position, report)`` for each exported issue as it arrives: its position among the issues in
the order given, and its report (redacted, uncapped). The pipeline keeps no reference to the report."""

FAILURES_LISTED = 20
"""Front ends list this many failures and count the rest; a longer list is kept whole in the report file,
which is written for it even when no issue could be exported."""


@attrs.frozen
class ExportResult:
    """What an export produced. ``path`` is ``None`` when nothing was written.

    ``issues`` names every exported issue, in the order given. The document is in the file at ``path``;
    ``content`` reads it back (or is the text itself when nothing was written). ``reports`` holds the full
    reports when the call asked to keep them (``keep_reports``), else none; so an export of thousands of issues
    need not hold them all.
    """

    issues: tuple[IssueSummary, ...]
    failures: tuple[IssueFailure, ...]
    format: str
    path: Path | None = None
    debug_paths: tuple[Path, ...] = ()
    searches: tuple[SearchOutcome, ...] = ()
    reports: tuple[IssueReport, ...] = ()
    text: str | None = attrs.field(default=None, repr=False)
    """The document, when it was rendered in memory rather than written (``write=False``)."""

    @property
    def content(self) -> str:
        """The rendered document: ``text``, else the file's contents, else nothing."""
        if self.text is not None:
            return self.text
        return self.path.read_text(encoding="utf-8") if self.path is not None else ""

    @property
    def ok(self) -> bool:
        return not self.failures and bool(self.issues)


async def export_issues(
    refs: str | Sequence[str] | Sequence[IssueRef],
    settings: Settings,
    *,
    output_file: str | None = None,
    write: bool = True,
    registry: Registry | None = None,
    on_progress: ProgressCallback | None = None,
    search: IssueSearch | None = None,
    limit: int = DEFAULT_SEARCH_LIMIT,
    keep_reports: bool = True,
    on_report: ReportCallback | None = None,
    server_kinds: ServerKinds | None = None,
) -> ExportResult:
    """Export every reference in ``refs`` with ``settings``; write one report file unless ``write`` is false.

    ``search`` (and every issue-list address among ``refs``) is run by the source, and its first ``limit``
    issues are exported after the references named one by one, in the server's order.

    Each issue is redacted, capped and rendered as soon as it arrives, and its payloads are then dropped;
    the file is written from the rendered issues at the end. ``keep_reports=False`` keeps only a summary per
    issue: memory then stays flat however many issues are exported. ``on_report`` sees every report as it
    arrives, for a caller that keeps what it needs of them itself. When nothing named the server's kind, the
    server is asked what it is, once per ``server_kinds`` (a long-lived caller passes the same one each time).

    Raises ``ExportError`` only for problems that concern the whole call (unknown format or source, bad output
    file name, nothing to export, a limit out of range, a renderer that fails); everything that concerns one
    issue or one search is reported in the result.
    """
    check_limit(limit)
    registry = registry or get_registry()
    renderer = registry.renderer(settings.format)
    settings, source = await source_for(settings, registry, server_kinds)
    if write and output_file:
        resolve_output_path(settings.output_dir, output_file, "unused")  # refuse a bad name before fetching

    selection = await select_issues(refs, source, settings, search, limit)
    selection.nothing_to_do()
    wanted, failures, outcomes = list(selection.wanted), list(selection.failures), selection.searches
    if not wanted:
        return ExportResult((), tuple(failures), renderer.name, searches=outcomes)

    with _Assembly(renderer, settings, registry, keep_reports, on_report, debug=write and settings.debug) as assembly:
        await _fetch_all(source, wanted, settings, assembly, on_progress)
        failures += [IssueFailure(str(wanted[position]), error) for position, error in assembly.failed()]
        issues = assembly.summaries()
        result = ExportResult(
            issues,
            tuple(failures),
            renderer.name,
            debug_paths=assembly.debug_paths(),
            searches=outcomes,
            reports=assembly.kept_reports(),
        )
        if not issues and len(failures) <= FAILURES_LISTED:
            return result
        document = assembly.document(failures)
        if not write:
            pieces: list[str] = []
            document(pieces.append)
            return attrs.evolve(result, text="".join(pieces))
        name = default_report_name([summary.id or summary.ref_text for summary in issues], renderer.extension)
        path = write_new_file(resolve_output_path(settings.output_dir, output_file, name), document)
        return attrs.evolve(result, path=path)


class _Assembly:
    """The issues of one export as they arrive: each redacted, modelled, capped and rendered at once (into the
    spool when the renderer streams), then only its summary, and the reports asked for, are kept."""

    def __init__(
        self,
        renderer: Renderer,
        settings: Settings,
        registry: Registry,
        keep_reports: bool,
        on_report: ReportCallback | None,
        *,
        debug: bool,
    ) -> None:
        self.renderer = renderer
        self.settings = settings
        self.registry = registry
        self.keep_reports = keep_reports
        self.on_report = on_report
        self.debug = debug
        self.options = render_options(renderer, settings)
        self.spool = IssueSpool() if renderer.streams else None
        self._summaries: dict[int, IssueSummary] = {}
        self._errors: dict[int, ExportError] = {}
        self._reports: dict[int, IssueReport] = {}
        self._capped: dict[int, IssueReport] = {}
        self._debug_paths: dict[int, Path] = {}

    def add(self, position: int, item: RawIssue | FetchFailure) -> ExportError | None:
        """Take one fetched issue; returns the error when it could not be exported."""
        if isinstance(item, FetchFailure):
            self._errors[position] = item.error
            return item.error
        prepared = _prepare(item, self.settings, self.registry)
        if isinstance(prepared, ExportError):
            self._errors[position] = prepared
            return prepared
        report, redacted = prepared
        del item, prepared
        if self.debug:
            self._debug_paths[position] = _write_debug_dump(self.settings.output_dir, redacted)
        del redacted
        capped = apply_limits(report, self.settings.limits)
        if self.spool is not None:
            assert self.renderer.render_issue is not None
            render_issue = self.renderer.render_issue
            self.spool.put(position, guarded(self.renderer, lambda: render_issue(capped, self.options)))
        else:
            self._capped[position] = capped
        self._summaries[position] = IssueSummary.of(report)
        if self.keep_reports:
            self._reports[position] = report
        if self.on_report is not None:
            self.on_report(position, report)
        return None

    def failed(self) -> list[tuple[int, ExportError]]:
        return sorted(self._errors.items(), key=lambda item: item[0])

    def summaries(self) -> tuple[IssueSummary, ...]:
        return tuple(self._summaries[position] for position in sorted(self._summaries))

    def debug_paths(self) -> tuple[Path, ...]:
        return tuple(self._debug_paths[position] for position in sorted(self._debug_paths))

    def kept_reports(self) -> tuple[IssueReport, ...]:
        return tuple(self._reports[position] for position in sorted(self._reports))

    def document(self, failures: Sequence[IssueFailure]) -> Callable[[Callable[[str], Any]], None]:
        """A function that writes the whole document, the issues in the order given, through ``write``."""
        options = attrs.evolve(self.options, failures=tuple(failures))
        renderer = self.renderer
        if self.spool is None:
            capped = [self._capped[position] for position in sorted(self._capped)]
            return lambda write: write(guarded(renderer, lambda: renderer.render(capped, options)))
        spool = self.spool
        parts = [spool.part(position, self._summaries[position]) for position in sorted(self._summaries)]
        assert renderer.write_document is not None
        write_document = renderer.write_document
        return lambda write: guarded(renderer, lambda: write_document(parts, options, write))

    def __enter__(self) -> _Assembly:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.spool is not None:
            self.spool.close()


def export_issues_sync(
    refs: str | Sequence[str] | Sequence[IssueRef], settings: Settings, **kwargs: Any
) -> ExportResult:
    """``export_issues`` for callers without an event loop."""
    return asyncio.run(export_issues(refs, settings, **kwargs))


async def _fetch_all(
    source: Source,
    refs: list[IssueRef],
    settings: Settings,
    assembly: _Assembly,
    on_progress: ProgressCallback | None,
) -> None:
    """Hand every result of the source to ``assembly`` as it arrives; a reference the source returned nothing
    for fails with a sentence saying so."""
    positions: dict[IssueRef, int] = {ref: position for position, ref in enumerate(refs)}
    pending = set(positions)
    done = 0
    async for item in source.fetch(refs, settings):
        ref = item.ref
        position = positions.get(ref)
        if position is None or ref not in pending:
            continue  # a result for a reference not asked for, or a second one: the first counts
        pending.discard(ref)
        error = assembly.add(position, item)
        del item
        await asyncio.sleep(0)  # let the answers that came in meanwhile be read, and the next requests leave
        done += 1
        if on_progress is not None:
            maybe = on_progress(done, len(refs), f"{ref} {'failed' if error is not None else 'fetched'}")
            if asyncio.iscoroutine(maybe):
                await maybe
    for ref in pending:
        missing = FetchError(f"The {source.name} source returned nothing for this reference.")
        assembly.add(positions[ref], FetchFailure(ref, missing))


def _prepare(raw: RawIssue, settings: Settings, registry: Registry) -> tuple[IssueReport, RawIssue] | ExportError:
    """Redact the raw payloads, then build the typed report. A failing redactor fails the issue, safely."""
    issue: Any = raw.issue
    event: Any = raw.event
    overview: Any = {"tags": raw.tags, "events": raw.events} if raw.tags is not None or raw.events is not None else None
    for redactor in registry.redactors:
        try:
            issue = redactor.redact(issue, "issue", settings)
            if event is not None:
                event = redactor.redact(event, "event", settings)
            if overview is not None:
                overview = redactor.redact(overview, "overview", settings)
        except Exception as exc:
            owner = registry.owners.get(("redactor", redactor.name), redactor.name)
            return ExportError(
                f"The redactor {redactor.name!r} (plugin {owner}) failed ({type(exc).__name__}), so the issue "
                "was not exported rather than risk leaking a secret."
            )
    overview = overview if isinstance(overview, dict) else {}
    redacted = RawIssue(raw.ref, issue, event, overview.get("tags"), overview.get("events"), raw.unavailable)
    report = build_report(
        issue, event, str(raw.ref), tags=redacted.tags, events=redacted.events, unavailable=raw.unavailable
    )
    return report, redacted


def _write_debug_dump(output_dir: Path, raw: RawIssue) -> Path:
    """The redacted payloads as the file source reads them back (``--from-file``)."""
    issue_id = str(raw.issue.get("id") or raw.ref.issue_id) if isinstance(raw.issue, dict) else raw.ref.issue_id
    dump: dict[str, Any] = {"issue": raw.issue, "event": raw.event}
    dump.update({name: value for name in ("tags", "events") if (value := getattr(raw, name)) is not None})
    if raw.unavailable:
        dump["unavailable"] = dict(raw.unavailable)
    text = json.dumps(dump, indent=2, ensure_ascii=False, default=str)
    return write_new_file(output_dir / f"debug_issue_{safe_name_part(issue_id)}.json", text + "\n")
