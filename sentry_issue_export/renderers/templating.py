"""The Jinja2 environments the template renderers share, and the rules templates live by.

Loader order: the user's templates directory (if any) overrides built-in templates file by file; the built-in
templates are also reachable as ``default:NAME``, so a user template can ``{% extends "default:issue.txt.j2" %}``
and replace one ``{% block %}``. ``StrictUndefined`` makes a typo fail loudly.

Escaping is on by default, for plain text too: every ``{{ expression }}`` passes through the flavour's
``finalize``, which shows control characters as escapes and keeps a value on one line (a newline appears as
``\\n``), so payload text can never recolour a terminal or start a line that looks like a section heading.
Filters that lay out multi-line text (``block``, ``fence`` ...) and helpers that build structure return
``SafeText``, which ``finalize`` passes through unchanged; they escape what they are given themselves.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs
import jinja2

from ..errors import RenderError
from ..hookspecs import IssuePart, Renderer, RenderOptions
from ..models import IssueReport, IssueSummary
from . import formatting, native, overview, security
from .template_cache import bytecode_cache

PACKAGE = "sentry_issue_export"


class SafeText(str):
    """Text already escaped for the output format; ``finalize`` leaves it alone."""

    __slots__ = ()


@attrs.frozen
class Flavor:
    """What differs between output formats that use templates: template names, escaping and filters.

    Templates are ``issue.<suffix>.j2`` (one issue; sees ``report``, ``issue``, ``event``, ``overview``,
    ``limits``) and
    ``issues.<suffix>.j2`` (the whole file; sees ``issues``, a list of ``(summary, rendered_issue)`` where
    ``summary`` is an ``IssueSummary``, and ``failures``).
    """

    name: str
    suffix: str
    finalize: Callable[[Any], str]
    filters: Mapping[str, Callable[..., Any]] = attrs.field(factory=dict)
    globals: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def issue_template(self) -> str:
        return f"issue.{self.suffix}.j2"

    @property
    def file_template(self) -> str:
        return f"issues.{self.suffix}.j2"


SHARED_FILTERS: dict[str, Callable[..., Any]] = {
    "value": formatting.format_value,
    "inline": formatting.format_inline,
    "when": formatting.format_when,
    "clock": formatting.format_clock,
    "ms": formatting.format_ms,
    "number": formatting.format_number,
    "label": formatting.label,
    "pretty": formatting.format_pretty,
    "squash": formatting.squash,
}

SHARED_GLOBALS: dict[str, Any] = {
    "exception_chain": formatting.exception_chain,
    "frames_newest_first": formatting.frames_newest_first,
    "repeat_line": formatting.repeat_line,
    "frame_function": formatting.frame_function,
    "frame_position": formatting.frame_position,
    "frame_minified": formatting.frame_minified,
    "context_gutter": formatting.context_gutter,
    "mechanism_summary": formatting.mechanism_summary,
    "request_line": formatting.request_line,
    "breadcrumb_date": formatting.breadcrumb_date,
    "crumb_message": formatting.crumb_message,
    "crumb_data": formatting.crumb_data,
    "span_table": formatting.span_table,
    "raw_frames_text": native.raw_frames_text,
    "raw_frames_label": native.raw_frames_label,
    "shows_raw_frames": native.shows_raw_frames,
    "is_native": native.is_native,
    "address_width": native.address_width,
    "native_frame_line": native.native_frame_line,
    "padded_address": native.padded_address,
    "basename": native.basename,
    "frame_symbol": native.frame_symbol,
    "frame_notes": native.frame_notes,
    "register_grid": native.register_grid,
    "image_table": native.image_table,
    "image_rows": native.image_rows,
    "image_columns": native.image_columns,
    "IMAGE_COLUMNS": native.IMAGE_COLUMNS,
    "referenced_images": native.referenced_images,
    "other_images": native.other_images,
    "mechanism_meta_text": native.mechanism_meta_text,
    "images_summary": native.images_summary,
    "removal_at": formatting.removal_at,
    "removed_elsewhere": formatting.removed_elsewhere,
    "code_context": formatting.code_context,
    "variables_text": formatting.variables_text,
    "variable_value": formatting.variable_value,
    "assignments_text": formatting.assignments_text,
    "plural": formatting.plural,
    "name_width": formatting.name_width,
    "is_gap": formatting.is_gap,
    "frame_has_details": formatting.frame_has_details,
    "csp_fields": security.csp_fields,
    "expectct_fields": security.expectct_fields,
    "hpkp_fields": security.hpkp_fields,
    "user_fields": formatting.user_fields,
    "sparkline": overview.sparkline,
    "trend_label": overview.trend_label,
    "trend_summary": overview.trend_summary,
    "tag_values_text": overview.tag_values_text,
    "release_lines": overview.release_lines,
    "activity_text": overview.activity_text,
    "recent_event_text": overview.recent_event_text,
    "recent_event_fields": overview.recent_event_fields,
    "has_differences": overview.has_differences,
    "notes_elsewhere": overview.notes_elsewhere,
    "headline": overview.headline,
}


class TemplateSet:
    """One flavour's templates as a renderer uses them: its Jinja2 environments, one per combination of
    template directories (the user's, a plugin's), built on first use and kept with this object, at most
    :data:`MAX_ENVIRONMENTS` of them; and the renderer's three functions on top.

    Each renderer holds its own set (``template_renderer`` makes one), so a plugin's flavour never gets another
    flavour's environment, even under the same name.
    """

    MAX_ENVIRONMENTS = 16

    def __init__(self, flavor: Flavor) -> None:
        self.flavor = flavor
        self._environments: dict[tuple[str, ...], jinja2.Environment] = {}
        self._lock = threading.Lock()

    def environment(self, *directories: Path | str | None) -> jinja2.Environment:
        """The environment whose templates are searched in ``directories`` before the built-ins."""
        key = tuple(str(Path(d).expanduser().resolve()) for d in directories if d)
        with self._lock:
            env = self._environments.get(key)
            if env is None:
                while len(self._environments) >= self.MAX_ENVIRONMENTS:
                    del self._environments[next(iter(self._environments))]
                env = self._environments[key] = _build_environment(self.flavor, key)
        return env

    def render_reports(self, reports: Sequence[IssueReport], options: RenderOptions) -> str:
        """Each (capped) report through the issue template, then the file template around them, in memory."""
        parts = [IssuePart(IssueSummary.of(report), self.render_issue(report, options).__str__) for report in reports]
        chunks: list[str] = []
        self.write_document(parts, options, chunks.append)
        return "".join(chunks)

    def render_issue(self, report: IssueReport, options: RenderOptions) -> str:
        """One (capped) report through the issue template: its part of the document."""
        flavor = self.flavor
        env = self.environment(options.templates_dir, *options.template_paths)
        limits = report.limits or options.limits
        context = {
            "report": report,
            "issue": report.issue,
            "event": report.event,
            "overview": report.overview,
            "limits": limits,
        }
        return _render(env, flavor.issue_template, context, flavor, options, "issue " + report.name)

    def write_document(self, parts: Sequence[IssuePart], options: RenderOptions, write: Callable[[str], Any]) -> None:
        """The file template around the issues' parts, written as it renders: one part is in memory at a time.

        The template sees ``issues``, a list of ``(summary, text)``; ``text`` is read from ``parts`` when the
        template outputs it (``{{ text }}``), so a table of contents over the summaries reads no part.
        """
        env = self.environment(options.templates_dir, *options.template_paths)
        issues = [(part.summary, DeferredText(part.read)) for part in parts]
        context = {"issues": issues, "failures": list(options.failures)}
        stripped = _TrailingSpaceStripper(write)
        _render(env, self.flavor.file_template, context, self.flavor, options, "the report file", stripped.write)
        stripped.close()

    def renderer(self, description: str = "", templates_path: Any = None) -> Renderer:
        return Renderer(
            self.flavor.name,
            self.flavor.suffix,
            self.render_reports,
            description,
            templates_path,
            render_issue=self.render_issue,
            write_document=self.write_document,
        )


def _build_environment(flavor: Flavor, directories: tuple[str, ...]) -> jinja2.Environment:
    builtin = jinja2.PackageLoader(PACKAGE, "templates")
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(directory) for directory in directories]
    loaders += [jinja2.PrefixLoader({"default": builtin}, delimiter=":"), builtin]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=functools.partial(_finalize, flavor.finalize),
        bytecode_cache=bytecode_cache(),
    )
    env.filters.update(SHARED_FILTERS)
    env.filters.update(flavor.filters)
    env.globals.update(SHARED_GLOBALS)
    env.globals.update(flavor.globals)
    return env


def template_renderer(flavor: Flavor, description: str = "", templates_path: Any = None) -> Renderer:
    """A renderer for ``flavor``'s templates that renders each issue as it arrives (see ``Renderer``).

    The public entry for a template-based renderer, built in or a plugin's: a plugin defines its ``Flavor``
    and ships its templates in ``templates_path``, which the exporter passes on in ``options.template_paths``.
    """
    return TemplateSet(flavor).renderer(description, templates_path)


def _finalize(escape: Callable[[Any], str], value: Any) -> str:
    return value.read() if isinstance(value, DeferredText) else escape(value)


class DeferredText:
    """An issue's rendered text, read only when the file template outputs it; already escaped, like
    ``SafeText``."""

    __slots__ = ("read",)

    def __init__(self, read: Callable[[], str]) -> None:
        self.read = read

    def __str__(self) -> str:
        return self.read()


_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)


class _TrailingSpaceStripper:
    """Removes spaces and tabs at the ends of lines from text that arrives in chunks, as if from the whole:
    the blanks at the end of a chunk wait until the next chunk shows whether a line ends there."""

    def __init__(self, write: Callable[[str], Any]) -> None:
        self._write = write
        self._blanks = ""

    def write(self, chunk: str) -> None:
        text = self._blanks + chunk
        kept = text.rstrip(" \t")
        self._blanks = text[len(kept) :]
        if kept:
            self._write(_TRAILING_SPACE.sub("", kept))

    def close(self) -> None:
        self._blanks = ""  # blanks at the very end of the document end its last line


def _render(
    env: jinja2.Environment,
    name: str,
    context: dict[str, Any],
    flavor: Flavor,
    options: RenderOptions,
    subject: str,
    write: Callable[[str], Any] | None = None,
) -> str:
    """``name`` rendered with ``context``: returned, or (with ``write``) passed on chunk by chunk as it renders."""
    try:
        template = env.get_template(name)
        if write is None:
            return template.render(context)
        for chunk in template.generate(context):
            write(chunk)
        return ""
    except RenderError:
        raise
    except Exception as exc:
        where = _template_location(exc) or name
        if options.templates_dir:
            advice = f"Fix the template in {options.templates_dir}, or remove it there to use the built-in one."
        else:
            advice = "The built-in template failed; please report this with the issue's debug dump."
        raise RenderError(
            f"Could not render {subject} as {flavor.name}: {type(exc).__name__}: {exc} (in {where}). {advice}"
        ) from exc


def _template_location(exc: BaseException) -> str | None:
    """``issue.txt.j2, line 12`` for the innermost template frame of a rendering error."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        return f"{exc.filename or exc.name}, line {exc.lineno}"
    found = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = f"{filename}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return found
