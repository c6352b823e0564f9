"""The ``sentry`` source: fetches issues and their events from sentry.io or a self-hosted Sentry.

What a caller may rely on: exactly one result per reference, yielded as each completes; a reference whose URL
names another server, or that cannot be fetched without a token or an organisation, fails before any request is
made; the issue JSON is the one Sentry returned (its ``id`` may differ from the reference's after a merge), and
``event`` is ``None`` when the issue has no event left in retention.

What the issue says across all its events is read beside its event, concurrently: its tags with their top
values and its recent events (as many as the settings ask for; none when 0), and, for an issue read from the
issue index (which leaves them out), its activity. A part that fails is named in ``RawIssue.unavailable``
with the reason; the issue still exports. GlitchTip (a server without Sentry's organisation routes) answers the
tags and events lists but gives no trend, releases, activity or user count, and the issue says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import TOKEN_HELP, ConfigError, FetchError, NotFoundError
from ..hookspecs import BaseSource, FetchFailure, RawIssue, SearchResult, Source, hookimpl
from ..refs import IssueRef, IssueSearch
from ..sentry.urls import DEFAULT_BASE_URL, short_id_needs_org
from ..settings import Settings
from ..web.origin import Origin, origin_of
from .fetching import as_completed, server_refusal, split_refused

if TYPE_CHECKING:  # the client (and httpx under it) is imported when a fetch starts: offline runs skip it
    from ..sentry.client import SentryClient

log = logging.getLogger(__name__)

Result = RawIssue | FetchFailure
ClientFactory = Callable[[Settings], "SentryClient"]


class SentrySource(BaseSource):
    name = "sentry"
    description = "Sentry's REST API: sentry.io (any region), self-hosted Sentry and GlitchTip."
    needs_credentials = True

    def __init__(self, client_factory: ClientFactory | None = None) -> None:
        """``client_factory`` builds the client for one export; tests pass one with a short backoff."""
        self._client_factory = client_factory

    async def check_access(self, settings: Settings) -> str:
        """Read what an export needs with the settings' token; one retry, since a person is waiting."""
        from ..sentry.client import SentryClient

        if not settings.org:
            raise ConfigError(
                f"No organisation was given for {settings.base_url or DEFAULT_BASE_URL}; pass the slug seen in "
                "https://sentry.io/organizations/<slug>/, or a URL that names it."
            )

        async with (self._client_factory or SentryClient.from_settings)(attrs.evolve(settings, retries=1)) as client:
            return await client.check_access(settings.project)

    async def search(self, search: IssueSearch, settings: Settings, limit: int) -> SearchResult:
        """Sentry's issue search; ``--project`` slugs become ``project:`` terms of the query, as Sentry's own
        search box writes them."""
        from ..sentry.client import SentryClient

        configured = origin_of(settings.base_url or DEFAULT_BASE_URL)
        probe = IssueRef("0", org=search.org, origin=search.origin, text=str(search))
        if (problem := _refusal(probe, settings, configured)) is not None:
            raise problem
        org = search.org or settings.org
        if not org:
            raise FetchError(
                "A search runs inside an organisation: set it (`export-sentry-issue config init`, SENTRY_ORG or "
                "--org), or paste the issue list's address, which names it."
            )
        query = " ".join(filter(None, [search.query, _project_terms(search.project_slugs)]))
        async with (self._client_factory or SentryClient.from_settings)(settings) as client:
            issues, hits = await client.search_issues(
                org, query, projects=search.projects, period=search.period, sort=search.sort, limit=limit
            )
        found = {IssueRef(str(issue["id"]), org=org, origin=search.origin): issue for issue in issues}
        return SearchResult(tuple(found), hits, found)

    async def fetch(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[Result]:
        """Yield one ``RawIssue`` or ``FetchFailure`` per reference, in completion order."""
        async for result in self._read(refs, settings, with_event=True):
            yield result

    async def headlines(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[Result]:
        """Each issue without its event, for the triage list: from the issue index (hourly stats included), one
        request per 100 issues of an organisation; issue details only for what the index cannot answer."""
        async for result in self._read(refs, settings, with_event=False):
            yield result

    async def _read(self, refs: Sequence[IssueRef], settings: Settings, *, with_event: bool) -> AsyncIterator[Result]:
        from ..sentry.client import SentryClient

        ready, refused = split_refused(
            refs,
            settings,
            lambda ref, configured: _refusal(ref, settings, configured),
            default_base_url=DEFAULT_BASE_URL,
        )
        for failure in refused:
            yield failure
        if not ready:
            return
        async with (self._client_factory or SentryClient.from_settings)(settings) as client:
            async for result in _fetch_all(client, ready, settings, with_event=with_event):
                yield result


def _project_terms(slugs: Sequence[str]) -> str:
    """``project:backend`` or ``project:[backend,web]``: project slugs in Sentry's query syntax."""
    if not slugs:
        return ""
    return f"project:{slugs[0]}" if len(slugs) == 1 else f"project:[{','.join(slugs)}]"


def _refusal(ref: IssueRef, settings: Settings, configured: Origin | None) -> FetchError | None:
    """Why ``ref`` cannot be fetched at all, decided before any request is made."""
    refused = server_refusal(
        ref,
        settings,
        configured,
        server="Sentry",
        configure=f"configure that server (`export-sentry-issue config init` with base URL {ref.origin} and a "
        "token for it) or pass its base_url and token for this export",
        no_token="No Sentry auth token is configured, so nothing can be fetched from Sentry: create one with the "
        f"event:read scope (Sentry: Settings > Auth Tokens) and save it with {TOKEN_HELP}.",
    )
    if refused is not None:
        return refused
    if ref.is_short_id and not (ref.org or settings.org):
        return FetchError(short_id_needs_org(ref.issue_id))
    return None


async def _fetch_all(
    client: SentryClient, refs: list[IssueRef], settings: Settings, *, with_event: bool = True
) -> AsyncIterator[Result]:
    """Fetch every reference concurrently; issue metadata through the issue index where several share an org.
    Without ``with_event``, the issues alone (for a listing).

    The index is read a page (100 issues) at a time, each page with the first issue of the page before it, so
    events start flowing after the first page rather than after the whole index, and never wait for the next.
    """
    from ..sentry.client import INDEX_PAGE_SIZE

    numeric_by_org: dict[str, list[str]] = {}
    for ref in refs:
        org = ref.org or settings.org
        if org and not ref.is_short_id and ref.issue_id.isdigit():
            numeric_by_org.setdefault(org, []).append(ref.issue_id)
    page_of: dict[tuple[str, str], tuple[str, int]] = {}
    pages: dict[tuple[str, int], list[str]] = {}
    for org, ids in numeric_by_org.items():
        unique = list(dict.fromkeys(ids))
        if len(unique) < 2 and with_event:
            continue
        for start in range(0, len(unique), INDEX_PAGE_SIZE):
            pages[(org, start)] = unique[start : start + INDEX_PAGE_SIZE]
            page_of.update(dict.fromkeys(((org, i) for i in pages[(org, start)]), (org, start)))
    batches: dict[tuple[str, int], asyncio.Future[dict[str, dict[str, Any]]]] = {}

    def read_page(page: tuple[str, int]) -> None:
        if page not in batches and page in pages:
            index = _issues_from_index(client, page[0], pages.pop(page), daily_stats=with_event and settings.issue_wide)
            batches[page] = asyncio.ensure_future(index)

    def batch_for(ref: IssueRef, org: str | None) -> asyncio.Future[dict[str, dict[str, Any]]] | None:
        page = page_of.get((org, ref.issue_id)) if org else None
        if page is None:
            return None
        read_page(page)
        read_page((page[0], page[1] + INDEX_PAGE_SIZE))  # read ahead: the next page is in hand before it is needed
        return batches[page]

    jobs = (
        _fetch_one(client, ref, org, batch_for(ref, org), settings, with_event=with_event)
        for ref in refs
        for org in [ref.org or settings.org]
    )
    async for result in as_completed(jobs, batches.values()):
        yield result


async def _issues_from_index(
    client: SentryClient, org: str, ids: list[str], *, daily_stats: bool
) -> dict[str, dict[str, Any]]:
    """Issues by id from the index, or nothing when it cannot answer: every issue is then fetched on its own."""
    try:
        return await client.get_issues_batch(org, ids, daily_stats=daily_stats)
    except FetchError as exc:
        log.debug("issue index unusable for %s, fetching issues one by one: %s", org, exc)
        return {}


async def _fetch_one(
    client: SentryClient,
    ref: IssueRef,
    org: str | None,
    batch: asyncio.Future[dict[str, dict[str, Any]]] | None,
    settings: Settings,
    *,
    with_event: bool = True,
) -> Result:
    try:
        # Taken out of the shared index answer, so the answer shrinks as its issues are fetched.
        issue = (await batch).pop(ref.issue_id, None) if batch is not None else None
        from_index = issue is not None
        if issue is None:
            issue = await client.get_issue(ref.issue_id, org)
        if not with_event:
            return RawIssue(ref, issue, None)
        issue_id = str(issue.get("id") or ref.issue_id)  # a merged issue answers with its new id
        event_id = ref.event_id or "latest"
        whole = asyncio.ensure_future(_issue_wide(client, issue, issue_id, org, settings, from_index=from_index))
        try:
            event: dict[str, Any] | None = await client.get_event(issue_id, org, event_id)
        except NotFoundError:
            if event_id != "latest":
                whole.cancel()
                raise
            event = None  # no event left in retention: the issue alone is still worth a report
        except BaseException:
            whole.cancel()
            raise
        tags, events, unavailable = await whole
        if not client.scoped_routes or client.index_ignores_groups:  # known only once the event has answered
            unavailable.update(_glitchtip_gaps(issue))
        return RawIssue(ref, issue, event, tags, events, unavailable)
    except FetchError as exc:
        return FetchFailure(ref, exc)
    except Exception as exc:  # one broken reference must not stop the others
        message = client.scrub(f"Fetching failed unexpectedly ({type(exc).__name__}: {exc}); please report this bug.")
        log.error("%s: %s", ref, message)
        return FetchFailure(ref, FetchError(message))


IssueWide = tuple[list[Any] | None, list[Any] | None, dict[str, str]]


async def _issue_wide(
    client: SentryClient, issue: dict[str, Any], issue_id: str, org: str | None, settings: Settings, *, from_index: bool
) -> IssueWide:
    """The issue's tags and recent events, as the settings ask for them, and (for an issue read from the index)
    its activity, added to ``issue``; each part that cannot be had is named with why."""
    jobs: dict[str, Awaitable[list[dict[str, Any]]]] = {}
    if settings.tag_values:
        jobs["tags"] = client.get_issue_tags(issue_id, org, values=settings.tag_values)
    if settings.recent_events:
        jobs["events"] = client.get_issue_events(issue_id, org, limit=settings.recent_events)
    if from_index and settings.issue_wide and client.scoped_routes and not client.index_ignores_groups:
        jobs["activity"] = client.get_issue_activity(issue_id, org)
    outcomes = dict(zip(jobs, await asyncio.gather(*jobs.values(), return_exceptions=True), strict=True))
    unavailable: dict[str, str] = {}
    for part, outcome in outcomes.items():
        if isinstance(outcome, FetchError):
            unavailable[part] = f"Not read: {outcome}"
        elif isinstance(outcome, Exception):  # a bug must cost this part only, not the issue
            log.error("%s of issue %s: %s", part, issue_id, client.scrub(repr(outcome)))
            unavailable[part] = client.scrub(f"Not read: reading it failed unexpectedly ({type(outcome).__name__}).")
    if isinstance(activity := outcomes.get("activity"), list):
        issue["activity"] = activity
    if from_index and settings.issue_wide and not settings.tag_values:
        unavailable["releases"] = (
            "Sentry's issue list, which this batch was read from, names no first and last release; export the "
            "issue alone, or with tag values, to see them."
        )
    tags, events = outcomes.get("tags"), outcomes.get("events")
    return (tags if isinstance(tags, list) else None, events if isinstance(events, list) else None, unavailable)


def _glitchtip_gaps(issue: dict[str, Any]) -> dict[str, str]:
    """What GlitchTip's issue does not say, which Sentry's does; its user count, which counts events, goes."""
    issue.pop("userCount", None)
    gaps = {
        "releases": "GlitchTip's issue API names no first or last release.",
        "activity": "GlitchTip's API gives no activity (notes, regressions, assignments) for an issue.",
    }
    stats = issue.get("stats")
    if not (isinstance(stats, dict) and any(isinstance(series, list) and series for series in stats.values())):
        gaps["trend"] = "GlitchTip's issue API gives no event counts over time (its stats are empty)."
    return gaps


@hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    register(SentrySource())
