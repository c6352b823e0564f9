"""Which issues a call covers: the references named one by one, then what each search finds, in order.

Shared by the export (``exporter``) and the triage list (``listing``): both turn the user's input into
references, run the searches among it, and fall back on the source's default references when nothing was
named; both report every unusable piece of input as an ``IssueFailure`` rather than stop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .errors import ExportError, FetchError, InvalidReferenceError, NotFoundError
from .hookspecs import SearchResult, Source
from .plugins import Registry
from .refs import MAX_SEARCH_LIMIT, NO_REFERENCE, IssueRef, IssueSearch, collect_refs, no_reference
from .settings import Settings


@attrs.frozen
class IssueFailure:
    """One reference that could not be exported: what the user typed, and the error saying why.

    ``error`` is an ``InvalidReferenceError`` for input that is no usable reference, a ``FetchError`` subclass
    for an issue the source could not fetch, an ``ExportError`` for one that could not be prepared.
    """

    ref_text: str
    error: ExportError

    @property
    def message(self) -> str:
        return str(self.error)

    def __str__(self) -> str:
        return f"{self.ref_text}: {self.message}"


@attrs.frozen
class SearchOutcome:
    """One search of a call: how many issues the server says match (``None``: it does not say), and how many of
    them were taken (at most the limit)."""

    search: IssueSearch
    hits: int | None
    taken: int


@attrs.frozen
class Selection:
    """The references a call covers, in order, the failures met while finding them, and each search's outcome.
    ``searched`` says whether any search was asked for (an empty result is then no usage error)."""

    wanted: tuple[IssueRef, ...]
    failures: tuple[IssueFailure, ...]
    searches: tuple[SearchOutcome, ...]
    searched: bool
    listed: Mapping[IssueRef, dict[str, Any]] = attrs.field(factory=dict)
    """The issues as a search listed them, by reference, when the source handed them over."""

    def nothing_to_do(self) -> None:
        """Raise the usage error for a call that found nothing to work on and no search to report."""
        if self.wanted or self.searched:
            return
        if self.failures:
            raise InvalidReferenceError("; ".join(f.message for f in self.failures))
        raise InvalidReferenceError("No issue reference given: pass an issue URL, a numeric id or a short id.")


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise InvalidReferenceError(f"The search limit must be from 1 to {MAX_SEARCH_LIMIT:,}, not {limit}.")


async def select_issues(
    refs: str | Sequence[str] | Sequence[IssueRef],
    source: Source,
    settings: Settings,
    search: IssueSearch | None,
    limit: int,
) -> Selection:
    """The references in ``refs``, then the first ``limit`` issues of every search (the issue-list addresses in
    ``refs``, then ``search``), without repeats; the source's default references when nothing at all was given."""
    wanted, failures, searches = collect(refs, source)
    searches += [search] if search is not None else []
    outcomes: list[SearchOutcome] = []
    listed: dict[IssueRef, dict[str, Any]] = {}
    for each in searches:
        found, failure = await run_search(source, each, settings, limit)
        if failure is not None:
            failures.append(failure)
        if found is not None:
            outcomes.append(SearchOutcome(each, found.hits, len(found.refs)))
            known = set(wanted)
            wanted += [ref for ref in found.refs if ref not in known]
            listed.update(found.issues)
    if not wanted and not failures and not searches:
        wanted = list(source.default_refs(settings))
    return Selection(tuple(wanted), tuple(failures), tuple(outcomes), bool(searches), listed)


async def run_search(
    source: Source, search: IssueSearch, settings: Settings, limit: int
) -> tuple[SearchResult | None, IssueFailure | None]:
    """A search's result, or the failure saying why it gave nothing (a query the server refused, no match)."""
    try:
        found = await source.search(search, settings, limit)
    except FetchError as exc:
        return None, IssueFailure(str(search), exc)
    if not found.refs:
        where = f" ({found.hits:,} match)" if found.hits else ""
        return found, IssueFailure(str(search), NotFoundError(f"No issue matches {search}{where}."))
    return found, None


def collect(
    refs: str | Sequence[str] | Sequence[IssueRef], source: Source
) -> tuple[list[IssueRef], list[IssueFailure], list[IssueSearch]]:
    """The user's references in order, words the source claims included, a failure per unusable piece, and
    the issue-list addresses among them (searches).

    Blank input is no failure: the source's default references (the demo's samples) are used instead.
    """
    inputs = [refs] if isinstance(refs, str) else list(refs)
    if all(isinstance(item, str) and not item.strip() for item in inputs):
        return [], [], []
    parsed = collect_refs(inputs, source.ref_from_word)
    problems = parsed.problems
    if parsed.refs or parsed.searches:  # prose around the references is fine
        problems = tuple(problem for problem in problems if problem.reason != NO_REFERENCE)
    examples = getattr(source, "reference_examples", None)
    if examples:  # the source's own examples of what it takes
        reason = no_reference(examples)
        problems = tuple(attrs.evolve(p, reason=reason) if p.reason == NO_REFERENCE else p for p in problems)
    failures = [IssueFailure(problem.text, InvalidReferenceError(str(problem))) for problem in problems]
    return list(parsed.refs), failures, list(parsed.searches)


class ServerKinds:
    """What each server turned out to be (Sentry, or a Bugsink), remembered by whoever holds this object: an MCP
    server asks each server once for its whole life, a single export once. At most :data:`MAX_REMEMBERED`
    servers are remembered; the oldest is forgotten first."""

    MAX_REMEMBERED = 32

    def __init__(self) -> None:
        self._found: dict[tuple[str | None, str], str] = {}

    async def source_name(self, settings: Settings, registry: Registry) -> str:
        """The source that reads the server of ``settings``: another source that recognises it (Bugsink), else
        the one the settings name."""
        key = (settings.base_url, settings.source)
        if key not in self._found:
            found = await registry.source_reading(settings)
            while len(self._found) >= self.MAX_REMEMBERED:
                del self._found[next(iter(self._found))]
            self._found[key] = found
        return self._found[key]


async def source_for(
    settings: Settings, registry: Registry, kinds: ServerKinds | None = None
) -> tuple[Settings, Source]:
    """The settings with their source decided (asking the server when nothing chose it), and that source.
    ``kinds`` remembers the answers across calls; without it, this call asks afresh."""
    if settings.detect_source:
        name = await (kinds or ServerKinds()).source_name(settings, registry)
        settings = attrs.evolve(settings, source=name, detect_source=False)
    return settings, registry.source(settings.source)
