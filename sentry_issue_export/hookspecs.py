"""The plugin contract.

A plugin is a module or object with functions marked ``@hookimpl`` (import it from ``sentry_issue_export``).
Install it through the entry-point group ``sentry_issue_export``::

    [project.entry-points.sentry_issue_export]
    my_renderer = "my_package.plugin"

Every hook is a ``register_*`` hook: the host passes a ``register`` callback and the plugin calls it once per
thing it provides. The built-in sources, redactors and renderers are plugins that use exactly these hooks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import pluggy

if TYPE_CHECKING:
    from .errors import FetchError
    from .models import IssueReport
    from .refs import IssueRef
    from .settings import RenderLimits, Settings

PROJECT_NAME = "sentry_issue_export"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- what plugins provide -------------------------------------------------------------------------------------


@attrs.frozen
class RawIssue:
    """What a source fetched for one reference: the issue JSON and its event JSON, as the API returns them.

    ``event`` is ``None`` when the issue has no event left in retention. ``ref`` is the reference it answers.
    """

    ref: IssueRef
    issue: dict[str, Any]
    event: dict[str, Any] | None


@attrs.frozen
class FetchFailure:
    """A reference a source could not fetch, and why."""

    ref: IssueRef
    error: FetchError


@runtime_checkable
class Source(Protocol):
    """Fetches references. Hooks stay synchronous; a source does its own async I/O."""

    name: str
    description: str

    def default_refs(self, settings: Settings) -> Sequence[IssueRef]:
        """References to export when the user named none (the samples, a file's issues); usually empty."""
        ...

    # Optional: ``ref_from_word(word: str) -> IssueRef | None`` lets a source accept words of its own (sample
    # names) that the reference parser would refuse.

    def fetch(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        """Yield exactly one result per reference, in any order, as each completes.

        Raise nothing for a single failing reference: yield a ``FetchFailure`` and go on.
        """
        ...


@attrs.frozen
class RenderOptions:
    """What a renderer may consult besides the reports themselves."""

    limits: RenderLimits
    templates_dir: Any = None
    """A user directory searched before the built-in templates (``pathlib.Path`` or ``None``)."""


@attrs.frozen
class Renderer:
    """A named output format: a file extension and a function from reports to text."""

    name: str
    extension: str
    render: Callable[[Sequence[IssueReport], RenderOptions], str]
    description: str = ""


@attrs.frozen
class Redactor:
    """A function that returns a copy of a raw API payload with secrets replaced.

    ``kind`` is ``"issue"`` or ``"event"``. Redactors run in registration order, each on the previous output,
    before anything else (models, templates, debug dumps) sees the payload.
    """

    name: str
    redact: Callable[[dict[str, Any], str, Settings], dict[str, Any]]


# --- the hooks ------------------------------------------------------------------------------------------------


@hookspec
def register_sources(register: Callable[[Source], None]) -> None:
    """Register sources: call ``register(source)`` for each. A source's ``name`` selects it (``--source``)."""


@hookspec
def register_redactors(register: Callable[[Redactor], None]) -> None:
    """Register redactors: call ``register(Redactor(name, fn))``. Every registered redactor runs, in order."""


@hookspec
def register_renderers(register: Callable[[Renderer], None]) -> None:
    """Register output formats: call ``register(Renderer(name, extension, render))`` for each.

    A name that another plugin registered already is an error naming both plugins, except that a third-party
    plugin may replace a built-in renderer on purpose by registering it with the same name.
    """
