"""The plugin contract.

A plugin is a module or object with functions marked ``@hookimpl`` (import it from ``sentry_issue_export``).
Install it through the entry-point group ``sentry_issue_export``::

    [project.entry-points.sentry_issue_export]
    my_renderer = "my_package.plugin"

Every hook is a ``register_*`` hook: the host passes a ``register`` callback and the plugin calls it once per
thing it provides. The built-in sources, redactors and renderers are plugins that use exactly these hooks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs
import pluggy

if TYPE_CHECKING:
    from .errors import FetchError
    from .models import IssueReport, IssueSummary
    from .refs import IssueRef, IssueSearch
    from .settings import RenderLimits, Settings

PROJECT_NAME = "sentry_issue_export"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- what plugins provide -------------------------------------------------------------------------------------


@attrs.frozen
class RawIssue:
    """What a source fetched for one reference: the issue, its event, and what the issue says across all its
    events, as JSON.

    The payload contract (the models read both shapes, tolerating missing keys and nulls anywhere):

    - ``issue`` is shaped like Sentry's issue API (``GET /api/0/organizations/{org}/issues/{id}/``): the keys
      ``models.Issue.from_api`` reads, ``id``, ``shortId``, ``title``, ``culprit``, ``permalink``, ``level``,
      ``status``, ``project`` (``{slug, name}``), ``count``, ``userCount``, ``firstSeen``, ``lastSeen``,
      ``metadata``... (snake_case spellings are read too), and the issue-wide ones: ``stats``
      (``{"24h": [[epoch, count], ...], "30d": [...]}``), ``firstRelease`` and ``lastRelease`` (a release
      object or ``{"version": v}``), ``activity`` (``[{type, data, dateCreated, user}]``) and ``numComments``.
      A source for another server maps its own issue into this shape; keys it cannot fill are simply left out.
    - ``event`` is ``None`` when the issue has no event left in retention, else either shape of an event:
      Sentry's REST API event (``entries: [{type, data}]``, tags as ``[{key, value}]``, ``context`` for the extra
      data), or the SDK event as SDKs send it and Bugsink, Relay and ``before_send`` hooks store it (top-level
      ``exception.values``, ``threads.values``, ``breadcrumbs.values``, ``request`` with a header dict,
      ``logentry`` or ``message``, ``tags`` as a dict, ``extra``, ``modules``, ``contexts``, ``user``, ``sdk``).
    - ``tags`` is the issue's tags across all its events, shaped like Sentry's ``GET …/issues/{id}/tags/``:
      ``[{key, name, totalValues, uniqueValues?, topValues: [{value, name, count, firstSeen?, lastSeen?}]}]``.
    - ``events`` is the issue's recent events, newest first, shaped like Sentry's events list
      (``GET …/issues/{id}/events/``): ``[{eventID, dateCreated, title, message, tags: [{key, value}], user}]``.
    - ``unavailable`` names each part of the issue-wide overview the server does not give, or did not give
      this time, with a sentence saying so (``{"tags": "Bugsink 2.5 has no tag counts in its API."}``); the
      parts are ``trend``, ``releases``, ``tags``, ``activity`` and ``events``.

    ``tags`` and ``events`` are ``None`` when they were not asked for (``Settings.tag_values`` or
    ``Settings.recent_events`` is 0) or could not be had (then ``unavailable`` says why). ``ref`` is the
    reference it answers. Payloads are redacted after the source hands them over.
    """

    ref: IssueRef
    issue: dict[str, Any]
    event: dict[str, Any] | None
    tags: list[Any] | None = None
    events: list[Any] | None = None
    unavailable: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class FetchFailure:
    """A reference a source could not fetch, and why."""

    ref: IssueRef
    error: FetchError


@attrs.frozen
class SearchResult:
    """The issues a search found, in the server's order, at most the limit asked for; ``hits`` is how many the
    server says match in all (Sentry's ``X-Hits``), ``None`` when it does not say. ``issues`` may hold the
    issues as the search listed them (shaped like ``RawIssue.issue``, by reference), so a triage list needs no
    second request for them."""

    refs: tuple[IssueRef, ...]
    hits: int | None = None
    issues: Mapping[IssueRef, dict[str, Any]] = attrs.field(factory=dict)


@runtime_checkable
class Source(Protocol):
    """Fetches references from one kind of server (or from disk). Hooks stay synchronous; a source does its own
    async I/O. Subclass :class:`BaseSource` to get the optional parts with their defaults.
    """

    name: str
    """Selects the source: ``--source NAME``, ``Settings(source=NAME)``, ``EXPORT_SENTRY_ISSUE_SOURCE``."""
    description: str
    """One line for ``--list-sources``."""
    needs_credentials: bool
    """Whether it reads a server. When true, the front ends load the saved config and the environment (base
    URL, token, organisation) into ``Settings``; when false (samples, file), they load none of it."""

    def default_refs(self, settings: Settings) -> Sequence[IssueRef]:
        """References to export when the user named none (the samples, a file's issues); usually empty."""
        ...

    def ref_from_word(self, word: str) -> IssueRef | None:
        """Claim one word of the user's input that the generic reference parser does not know (a sample name,
        a UUID, a web URL of the server); ``None`` leaves the word to the parser. Called for every word and
        URL, so it must be cheap and must not raise."""
        ...

    def fetch(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        """Yield exactly one result per reference, in any order, as each completes.

        Raise nothing for a single failing reference: yield a ``FetchFailure`` and go on.
        """
        ...

    async def check_access(self, settings: Settings) -> str:
        """Prove with the fewest requests that ``settings`` can export, before ``config init`` saves them.

        Returns a sentence saying what was reached, and anything the user should know (a missing optional
        scope). Raises ``FetchError`` when an export could not work, ``ConfigError`` when a setting it needs is
        missing.
        """
        ...

    async def recognises(self, settings: Settings) -> bool:
        """Whether the server at ``settings.base_url`` is one this source reads, asked with one cheap request.

        Called when nothing chose the source (the environment names a server but not its kind); never raises.
        """
        ...

    async def search(self, search: IssueSearch, settings: Settings, limit: int) -> SearchResult:
        """The first ``limit`` issues ``search`` finds, as references ``fetch`` takes.

        Raises ``FetchError`` with a sentence when the server cannot search, or not this way.
        """
        ...

    # Optional, and so not part of the protocol's checked members: ``headlines(refs, settings)``, an async
    # iterator like ``fetch`` that yields each issue without its event (``RawIssue.event`` is ``None``), as
    # cheaply as the server allows, for the triage list (``--list``). ``BaseSource`` has one built on ``fetch``.
    # And ``reference_examples``: the examples of a reference a message gives when the input names no issue.


class BaseSource:
    """Defaults for the optional parts of :class:`Source`; a subclass sets ``name`` and implements ``fetch``."""

    name: str = ""
    description: str = ""
    needs_credentials: bool = True
    reference_examples: str | None = None
    """What a reference this source takes looks like, for the message about input that names no issue; ``None``
    for Sentry's (an issue id, a short id or an issue URL)."""

    def default_refs(self, settings: Settings) -> Sequence[IssueRef]:
        return ()

    def ref_from_word(self, word: str) -> IssueRef | None:
        return None

    def fetch(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        raise NotImplementedError

    async def check_access(self, settings: Settings) -> str:
        from .errors import ConfigError

        raise ConfigError(f"The {self.name} source reads no server, so there is no access to check or save.")

    async def recognises(self, settings: Settings) -> bool:
        return False

    async def search(self, search: IssueSearch, settings: Settings, limit: int) -> SearchResult:
        from .errors import FetchError

        raise FetchError(f"The {self.name} source cannot search for issues; name them one by one instead.")

    async def headlines(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        """Each issue without its event, for the triage list: by default ``fetch``, asked for no tags or recent
        events, with the event dropped. A source whose server lists issues cheaply overrides it."""
        lean = attrs.evolve(settings, tag_values=0, recent_events=0)
        async for item in self.fetch(refs, lean):
            yield item if isinstance(item, FetchFailure) else RawIssue(item.ref, item.issue, None)


@attrs.frozen
class RenderOptions:
    """What a renderer may consult besides the reports themselves.

    The reports a renderer gets are already capped to ``limits`` (the exporter applies them once, for every
    renderer alike); ``limits`` is passed so a format can name a cap where it announces a cut.
    """

    limits: RenderLimits
    templates_dir: Any = None
    """A user directory searched before the built-in templates (``pathlib.Path`` or ``None``)."""
    template_paths: tuple[Any, ...] = ()
    """Directories searched after ``templates_dir`` and before the built-in templates: the renderer's own
    ``templates_path``. A template there can ``{% extends "default:issue.txt.j2" %}``."""
    failures: tuple[Any, ...] = ()
    """The references that could not be exported (``IssueFailure``: ``ref_text``, ``message``), for a file that
    keeps the complete list."""


@attrs.frozen
class IssuePart:
    """One issue's rendered part of a document: the issue's summary, and its text, read when asked for.

    A streaming export keeps the parts on disk until the document is written, so ``text()`` may read a file;
    call it once per part, in the order the document needs them.
    """

    summary: IssueSummary
    read: Callable[[], str] = attrs.field(repr=False)

    def text(self) -> str:
        return self.read()


DocumentWriter = Callable[[Sequence[IssuePart], RenderOptions, Callable[[str], Any]], None]
"""Writes a whole document: the parts in order, with what goes around them, through ``write(chunk)``."""


@attrs.frozen
class Renderer:
    """A named output format: a file extension and a function from (capped) reports to text.

    ``render`` is all a renderer needs. A renderer that can also render one issue at a time sets
    ``render_issue`` (one capped report -> its part of the document) and ``write_document`` (the parts in
    order -> the whole document); the exporter then renders each issue as it arrives and writes the file
    from the parts, so an export's memory stays flat however many issues it holds. Without them the exporter
    keeps every capped report until the end and calls ``render`` once.

    A template-based renderer may ship a ``templates_path``; templates there are found after the user's
    directory and before the built-ins (see ``renderers.templating.template_renderer``).
    """

    name: str
    extension: str
    render: Callable[[Sequence[IssueReport], RenderOptions], str]
    description: str = ""
    templates_path: Any = None
    render_issue: Callable[[IssueReport, RenderOptions], str] | None = None
    write_document: DocumentWriter | None = None

    @property
    def streams(self) -> bool:
        return self.render_issue is not None and self.write_document is not None


@attrs.frozen
class Redactor:
    """A function that returns a copy of a raw payload with secrets replaced.

    ``kind`` says which payload it is: ``"issue"``, ``"event"``, or ``"overview"`` (an object holding the
    issue's ``tags`` across all events and its recent ``events``, see ``RawIssue``). Redactors run in
    registration order, each on the previous output, before anything else (models, templates, debug dumps)
    sees the payload.
    """

    name: str
    redact: Callable[[dict[str, Any], str, Settings], dict[str, Any]]


# --- the hooks ------------------------------------------------------------------------------------------------


@hookspec
def register_sources(register: Callable[[Source], None]) -> None:
    """Register sources: call ``register(source)`` for each. A source's ``name`` selects it (``--source``).

    A source must have every member of :class:`Source` (subclass :class:`BaseSource`); one that does not is
    reported as a plugin problem and not registered.
    """


@hookspec
def register_redactors(register: Callable[[Redactor], None]) -> None:
    """Register redactors: call ``register(Redactor(name, fn))``. Every registered redactor runs, in order."""


@hookspec
def register_renderers(register: Callable[[Renderer], None]) -> None:
    """Register output formats: call ``register(Renderer(name, extension, render))`` for each.

    A name that another plugin registered already is an error naming both plugins, except that a third-party
    plugin may replace a built-in renderer on purpose by registering it with the same name.
    """
