"""The pipeline: references -> fetch -> redact -> models -> render -> file, plus a summary of what happened.

Front ends call ``export_issues`` (or ``export_issues_sync``) and format its ``ExportResult``; nothing here knows
about MCP or argparse. One failing issue never stops the others: it becomes an ``IssueFailure`` in the result.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from .errors import ExportError, InvalidReferenceError, RenderError
from .hookspecs import FetchFailure, RawIssue, RenderOptions
from .models import IssueReport, build_report
from .output import default_report_name, resolve_output_path, safe_name_part, write_new_file
from .plugins import Registry, get_registry
from .refs import NO_REFERENCE, IssueRef, parse_refs
from .settings import Settings

ProgressCallback = Callable[[int, int, str], Any]
"""Called as ``(done, total, message)`` after each issue is fetched; may return an awaitable."""


@attrs.frozen
class IssueFailure:
    """One reference that could not be exported: what the user typed and a sentence saying why."""

    ref_text: str
    message: str

    def __str__(self) -> str:
        return f"{self.ref_text}: {self.message}"


@attrs.frozen
class ExportResult:
    """What an export produced. ``path`` is ``None`` when nothing was written."""

    reports: tuple[IssueReport, ...]
    failures: tuple[IssueFailure, ...]
    content: str
    format: str
    path: Path | None = None
    debug_paths: tuple[Path, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures and bool(self.reports)


async def export_issues(
    refs: str | Sequence[str] | Sequence[IssueRef],
    settings: Settings,
    *,
    output_file: str | None = None,
    write: bool = True,
    registry: Registry | None = None,
    on_progress: ProgressCallback | None = None,
) -> ExportResult:
    """Export every reference in ``refs`` with ``settings``; write one report file unless ``write`` is false.

    Raises ``ExportError`` only for problems that concern the whole call (unknown format or source, bad output
    file name, nothing to export); everything that concerns one issue is reported in the result.
    """
    registry = registry or get_registry()
    renderer = registry.renderer(settings.format)
    source = registry.source(settings.source)
    if write and output_file:
        resolve_output_path(settings.output_dir, output_file, "unused")  # refuse a bad name before fetching

    wanted, failures = _collect_refs(refs, source)
    if not wanted and not failures:
        wanted = list(source.default_refs(settings))
    if not wanted:
        if failures:
            raise InvalidReferenceError("; ".join(f.message for f in failures))
        raise InvalidReferenceError("No issue reference given: pass an issue URL, a numeric id or a short id.")

    fetched = await _fetch_all(source, wanted, settings, registry, on_progress)
    reports: list[IssueReport] = []
    raws: list[RawIssue] = []
    for ref in wanted:
        outcome = fetched[ref]
        if isinstance(outcome, str):
            failures.append(IssueFailure(str(ref), outcome))
            continue
        reports.append(outcome[0])
        raws.append(outcome[1])

    if not reports:
        return ExportResult((), tuple(failures), "", renderer.name)
    options = RenderOptions(limits=settings.limits, templates_dir=settings.templates_dir)
    try:
        content = renderer.render(reports, options)
    except ExportError:
        raise
    except Exception as exc:
        raise RenderError(f"The {renderer.name} renderer failed: {type(exc).__name__}: {exc}") from exc

    path = None
    debug_paths: list[Path] = []
    if write:
        ids = [report.issue.id or report.ref_text for report in reports]
        name = default_report_name(ids, renderer.extension)
        path = write_new_file(resolve_output_path(settings.output_dir, output_file, name), content)
        if settings.debug:
            debug_paths = [_write_debug_dump(settings.output_dir, raw) for raw in raws]
    return ExportResult(tuple(reports), tuple(failures), content, renderer.name, path, tuple(debug_paths))


def export_issues_sync(
    refs: str | Sequence[str] | Sequence[IssueRef], settings: Settings, **kwargs: Any
) -> ExportResult:
    """``export_issues`` for callers without an event loop."""
    return asyncio.run(export_issues(refs, settings, **kwargs))


def _collect_refs(
    refs: str | Sequence[str] | Sequence[IssueRef], source: Any
) -> tuple[list[IssueRef], list[IssueFailure]]:
    """Parse the user's text into references, keeping their order; words the source knows count too."""
    if isinstance(refs, str):
        refs = [refs]
    given: list[IssueRef] = [r for r in refs if isinstance(r, IssueRef)]
    text = "\n".join(r for r in refs if isinstance(r, str))
    failures: list[IssueFailure] = []
    if text.strip():
        found: list[tuple[int, IssueRef]] = []
        from_word = getattr(source, "ref_from_word", None)
        if from_word is not None:
            for match in _WORD.finditer(text):
                ref = from_word(match.group())
                if ref is not None:
                    found.append((match.start(), ref))
                    text = text[: match.start()] + " " * len(match.group()) + text[match.end() :]
        if text.strip() or not found:
            parsed = parse_refs(text)
            found.extend((_position(text, ref.text), ref) for ref in parsed.refs)
            failures = [IssueFailure(p.text, str(p)) for p in parsed.problems]
            if found:  # prose around the source's own words is fine
                failures = [f for f, p in zip(failures, parsed.problems, strict=True) if p.reason != NO_REFERENCE]
        given.extend(ref for _, ref in sorted(found, key=lambda item: item[0]))
    return list(dict.fromkeys(given)), failures


_WORD = re.compile(r"[^\s,;]+")


def _position(text: str, piece: str) -> int:
    index = text.find(piece) if piece else -1
    return index if index >= 0 else len(text)


async def _fetch_all(
    source: Any,
    refs: list[IssueRef],
    settings: Settings,
    registry: Registry,
    on_progress: ProgressCallback | None,
) -> dict[IssueRef, tuple[IssueReport, RawIssue] | str]:
    results: dict[IssueRef, tuple[IssueReport, RawIssue] | str] = {}
    done = 0
    async for item in source.fetch(refs, settings):
        ref = item.ref
        if isinstance(item, FetchFailure):
            results[ref] = str(item.error)
        else:
            results[ref] = _prepare(item, settings, registry)
        done += 1
        if on_progress is not None:
            outcome = "failed" if isinstance(results[ref], str) else "fetched"
            maybe = on_progress(done, len(refs), f"{ref} {outcome}")
            if asyncio.iscoroutine(maybe):
                await maybe
    for ref in refs:
        results.setdefault(ref, f"The {source.name} source returned nothing for this reference.")
    return results


def _prepare(raw: RawIssue, settings: Settings, registry: Registry) -> tuple[IssueReport, RawIssue] | str:
    """Redact the raw payloads, then build the typed report. A failing redactor fails the issue, safely."""
    issue: Any = raw.issue
    event: Any = raw.event
    for redactor in registry.redactors:
        try:
            issue = redactor.redact(issue, "issue", settings)
            if event is not None:
                event = redactor.redact(event, "event", settings)
        except Exception as exc:
            owner = registry.owners.get(("redactor", redactor.name), redactor.name)
            return (
                f"The redactor {redactor.name!r} (plugin {owner}) failed ({type(exc).__name__}), so the issue "
                "was not exported rather than risk leaking a secret."
            )
    redacted = RawIssue(raw.ref, issue, event)
    return build_report(issue, event, str(raw.ref)), redacted


def _write_debug_dump(output_dir: Path, raw: RawIssue) -> Path:
    issue_id = str(raw.issue.get("id") or raw.ref.issue_id) if isinstance(raw.issue, dict) else raw.ref.issue_id
    dump = json.dumps({"issue": raw.issue, "event": raw.event}, indent=2, ensure_ascii=False, default=str)
    return write_new_file(output_dir / f"debug_issue_{safe_name_part(issue_id)}.json", dump + "\n")
