"""Rendering reports with a registered renderer: the one place that calls a renderer's functions.

The exporter renders each issue as it arrives and writes the document; the answer fitting (``budget``) renders
single issues at tighter limits. Both come here, so every renderer failure is worded the same way and a
renderer is always given the same options.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import ExportError, RenderError
from .hookspecs import Renderer, RenderOptions
from .models import IssueReport, apply_limits
from .settings import RenderLimits, Settings

T = TypeVar("T")


def render_options(renderer: Renderer, settings: Settings, failures: Sequence[Any] = ()) -> RenderOptions:
    """What ``renderer`` is told besides the reports: the file's limits, the template directories, failures."""
    return RenderOptions(
        limits=settings.limits,
        templates_dir=settings.templates_dir,
        template_paths=(renderer.templates_path,) if renderer.templates_path else (),
        failures=tuple(failures),
    )


def guarded(renderer: Renderer, render: Callable[[], T]) -> T:
    """``render()``, with any failure but an ``ExportError`` turned into a ``RenderError`` naming the renderer."""
    try:
        return render()
    except ExportError:
        raise
    except Exception as exc:
        raise RenderError(f"The {renderer.name} renderer failed: {type(exc).__name__}: {exc}") from exc


def render(
    reports: Sequence[IssueReport],
    renderer: Renderer,
    settings: Settings,
    *,
    limits: RenderLimits | None = None,
    failures: Sequence[Any] = (),
) -> str:
    """A whole document of ``reports``, each capped to ``limits`` (default: the settings' file limits)."""
    limits = limits or settings.limits
    capped = [apply_limits(report, limits) for report in reports]
    options = render_options(renderer, settings, failures)
    return guarded(renderer, lambda: renderer.render(capped, options))


def render_part(capped: IssueReport, renderer: Renderer, settings: Settings) -> str:
    """One capped report's part of a document: what the renderer writes for it alone, without the file around
    it (a renderer with only ``render`` gets a document of this one report), ending in no blank at a line's
    end, as the written document does."""
    options = render_options(renderer, settings)
    render_issue = renderer.render_issue
    if render_issue is not None:
        text = guarded(renderer, lambda: render_issue(capped, options))
    else:
        text = guarded(renderer, lambda: renderer.render([capped], options))
    return _TRAILING_BLANKS.sub("", text)


_TRAILING_BLANKS = re.compile(r"[ \t]+$", re.MULTILINE)
