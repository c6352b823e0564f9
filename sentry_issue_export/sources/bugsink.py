"""The ``bugsink`` source: issues and events from a Bugsink server (2.x), through Bugsink's own REST API.

What the issue says across all its events (tag counts, hourly event counts, its history, its recent events) is
read beside its event; see :mod:`.bugsink_overview`.

Bugsink ingests Sentry SDK events but answers its own API under ``/api/canonical/0/`` with Bearer tokens of 40
hex digits whose rights are per action (``issues:read``, ``events:read``). What this source reads:

- ``issues/{uuid or friendly id}/``: the issue, mapped here into the issue API's shape the models read (Bugsink's
  has no title, level, culprit or permalink: they are derived);
- ``events/?issue={id}``: the events, newest first, paged ``{next, previous, results}``, without their data;
- ``events/{uuid}/``: one event, whose ``data`` is the raw SDK event (which the models read as it is; its
  ``stacktrace_md`` is never used, since it is the unredacted markdown of the same data).

References it takes besides friendly ids (``BACKEND-1``, which the reference parser reads as short ids): issue
UUIDs, and Bugsink's web addresses ``/issues/issue/<uuid>/event/<uuid|n|first|last>/``. Bugsink issues have no
numbers, so a bare number is refused with a sentence saying what to give instead.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from ..errors import AuthError, ConfigError, FetchError, InvalidResponseError, NotFoundError
from ..hookspecs import BaseSource, FetchFailure, RawIssue, SearchResult, Source, hookimpl
from ..models.coerce import as_int
from ..refs import IssueRef, IssueSearch, without_passwords
from ..settings import Settings
from ..textsafe import whole_number
from ..web.origin import Origin, OriginError
from .bugsink_api import (
    API_PATH,
    ISSUE_GONE,
    NO_EVENTS_READ,
    NO_ISSUES_READ,
    SERVER,
    TOKEN_ADVICE,
    every_item,
    meaning,
    page_of,
)
from .bugsink_overview import issue_wide
from .fetching import as_completed, server_refusal, split_refused

if TYPE_CHECKING:
    from ..web.transport import ApiTransport

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_EVENT_WORDS = frozenset({"first", "last"})


def _uuid(text: str) -> str | None:
    lowered = text.strip().lower()
    if len(lowered) == 32 and re.fullmatch(r"[0-9a-f]{32}", lowered):
        lowered = f"{lowered[:8]}-{lowered[8:12]}-{lowered[12:16]}-{lowered[16:20]}-{lowered[20:]}"
    return lowered if _UUID.match(lowered) else None


def ref_from_web_url(word: str) -> IssueRef | None:
    """A Bugsink web address (``/issues/issue/<uuid>/...``, optionally ``event/<uuid|n|first|last>/``)."""
    if "/issues/issue/" not in word or not word.lower().startswith(("http://", "https://")):
        return None
    text = without_passwords(word.rstrip(".,;:!?)"))
    try:
        origin = Origin.parse(text)
    except OriginError:
        return None
    parts = urlsplit(text)
    segments = [segment for segment in parts.path.split("/") if segment]
    at = next((i for i in range(len(segments) - 1) if segments[i : i + 2] == ["issues", "issue"]), None)
    if at is None or at + 2 >= len(segments) or (issue_id := _uuid(segments[at + 2])) is None:
        return None
    rest = segments[at + 3 :]
    event_id = None
    if len(rest) >= 2 and rest[0] == "event":
        choice = rest[1].lower()
        event_id = _uuid(choice) or (choice if choice in _EVENT_WORDS or whole_number(choice) is not None else None)
    return IssueRef(issue_id, origin=origin, event_id=event_id, text=text)


class BugsinkSource(BaseSource):
    name = "bugsink"
    description = "A Bugsink server (2.x), through its own REST API (/api/canonical/0/)."
    needs_credentials = True
    reference_examples = (
        "a Bugsink issue's friendly id (BACKEND-1), its UUID, or its address "
        "(https://bugsink.example.com/issues/issue/<uuid>/)"
    )

    def __init__(self, transport_factory: Callable[[Settings], ApiTransport] | None = None) -> None:
        """``transport_factory`` builds the HTTP transport for one export; tests pass one with a short backoff."""
        self._transport_factory = transport_factory

    def ref_from_word(self, word: str) -> IssueRef | None:
        if (issue_id := _uuid(word.strip("()[]<>.,;:!?*_`'\""))) is not None:
            return IssueRef(issue_id, text=word)
        return ref_from_web_url(word)

    def _transport(self, settings: Settings) -> ApiTransport:
        if self._transport_factory is not None:
            return self._transport_factory(settings)
        from ..web.transport import ApiTransport

        if not settings.base_url:
            raise ConfigError(
                "No Bugsink address is configured: run `export-sentry-issue config init --source bugsink "
                "--base-url https://bugsink.example.com` or set SENTRY_URL."
            )
        return ApiTransport(
            settings.base_url,
            settings.token,
            api_path=API_PATH,
            server=SERVER,
            token_advice=TOKEN_ADVICE,
            max_concurrency=settings.max_concurrency,
            timeout=settings.timeout,
            retries=settings.retries,
            max_response_bytes=settings.max_response_bytes,
        )

    async def check_access(self, settings: Settings) -> str:
        """The API root (any valid token), then one issue list (``issues:read``) and, if an issue exists, its
        events (``events:read``): what exports read."""
        async with self._transport(attrs.evolve(settings, retries=1)) as transport:
            root, _ = await transport.get_json((), kind="other", what="the API root")
            if not isinstance(root, dict) or "issues" not in root:
                raise transport.responses.wrong_shape("the API root", root, "Bugsink's list of endpoints")
            issues, _ = await page_of(transport, ("issues",), [], "the issue list", NO_ISSUES_READ)
            if not issues:
                return "The token can read issues (issues:read); there is no issue yet to check events:read with."
            first = str(issues[0].get("id") or "")
            await page_of(transport, ("events",), [("issue", first)], "the events of an issue", NO_EVENTS_READ)
            return "The token can read issues and their events (issues:read, events:read)."

    async def recognises(self, settings: Settings) -> bool:
        """Bugsink answers ``/api/canonical/0/`` with its list of endpoints for a valid token, and with a 401 whose
        ``detail`` speaks of its Bearer token for any other (Sentry and GlitchTip have no such route: 404).
        sentry.io is never asked."""
        if not settings.base_url or Origin.parse(settings.base_url).is_sentry_io:
            return False
        try:
            async with self._transport(attrs.evolve(settings, retries=0)) as transport:
                root, _ = await transport.get_json((), kind="other", what="the API root", route_may_be_missing=True)
        except AuthError as exc:  # a Bugsink that refuses this token: it should hear so from its own source
            return "Bearer token" in (exc.detail or "")
        except Exception:  # any answer but Bugsink's, or none: not a Bugsink
            return False
        return isinstance(root, dict) and "issues" in root and "events" in root

    async def search(self, search: IssueSearch, settings: Settings, limit: int) -> SearchResult:
        """Bugsink lists issues, most recently seen first, of every project the token may see or of the projects
        given; it has no Sentry query syntax, period or other sort, and says so rather than ignore them."""
        if search.query or search.period or search.sort not in (None, "date"):
            raise FetchError(
                "Bugsink cannot search with Sentry's query syntax, a period or another sort: it lists a project's "
                "issues, most recently seen first. Give only the project (--project SLUG) and --limit."
            )
        if not settings.token:
            raise FetchError(f"No Bugsink token is configured, so nothing can be searched. {TOKEN_ADVICE}")
        refs: dict[str, IssueRef] = {}  # by the issue's id: a server that lists one twice still gives it once
        async with self._transport(settings) as transport:
            projects = [*search.projects, *[str(await _project_id(transport, slug)) for slug in search.project_slugs]]
            for project in projects or [""]:
                if len(refs) >= limit:
                    break
                params = [("sort", "last_seen"), ("order", "desc")] + ([("project", project)] if project else [])
                async for item in every_item(transport, ("issues",), params, "the issue list", NO_ISSUES_READ):
                    if len(refs) >= limit:
                        break
                    issue_id = str(item.get("id"))
                    refs.setdefault(issue_id, IssueRef(issue_id, text=str(item.get("friendly_id") or issue_id)))
        return SearchResult(tuple(refs.values())[:limit])

    async def fetch(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        projects: dict[int, asyncio.Future[dict[str, Any]]] = {}  # each project read once, shared by its issues

        def job(transport: ApiTransport, ref: IssueRef) -> Awaitable[RawIssue | FetchFailure]:
            return _fetch_one(transport, ref, projects, settings)

        async for result in self._read(refs, settings, job, projects):
            yield result

    async def headlines(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        """Each issue without its event, for the triage list: the issue and its hourly counts, two requests."""
        async for result in self._read(refs, settings, lambda transport, ref: _headline(transport, ref, settings)):
            yield result

    async def _read(
        self,
        refs: Sequence[IssueRef],
        settings: Settings,
        job: Callable[[ApiTransport, IssueRef], Awaitable[RawIssue | FetchFailure]],
        shared: dict[int, asyncio.Future[dict[str, Any]]] | None = None,
    ) -> AsyncIterator[RawIssue | FetchFailure]:
        """``job`` for each reference that can be fetched, as they complete; a failure for each one refused."""
        ready, refused = split_refused(refs, settings, lambda ref, configured: _refusal(ref, settings, configured))
        for failure in refused:
            yield failure
        if not ready:
            return
        async with self._transport(settings) as transport:
            jobs = (job(transport, ref) for ref in ready)
            async for result in as_completed(jobs, (shared or {}).values()):
                yield result


def _refusal(ref: IssueRef, settings: Settings, configured: Origin | None) -> FetchError | None:
    """Why ``ref`` cannot be fetched at all, decided before any request is made."""
    refused = server_refusal(
        ref,
        settings,
        configured,
        server="Bugsink",
        configure="configure that server (`export-sentry-issue config init --source bugsink`)",
        no_token=f"No Bugsink token is configured, so nothing can be fetched. {TOKEN_ADVICE}",
    )
    if refused is not None:
        return refused
    if ref.issue_id.isdigit():
        return FetchError(
            f"Bugsink issues have no numbers, so {ref.issue_id} names none: give the issue's friendly id "
            "(BACKEND-1), its UUID, or paste its address (…/issues/issue/<uuid>/)."
        )
    return None


async def _fetch_one(
    transport: ApiTransport,
    ref: IssueRef,
    projects: dict[int, asyncio.Future[dict[str, Any]]],
    settings: Settings,
) -> RawIssue | FetchFailure:
    async def read() -> RawIssue:
        issue = await _read_issue(transport, ref)
        uuid = str(issue.get("id") or ref.issue_id)
        # The event, the project and what the issue says across its events, all at once.
        event_read = asyncio.ensure_future(_event(transport, uuid, ref.event_id))
        whole = asyncio.ensure_future(
            issue_wide(
                transport, uuid, event_read, tag_values=settings.tag_values, recent_events=settings.recent_events
            )
        )
        try:
            event = await event_read
            project = await _project(transport, issue.get("project"), projects)
            issue_parts, tags, events, unavailable = await whole
        except BaseException:
            whole.cancel()  # a failed event fails the issue: nothing else of it is needed
            await asyncio.gather(whole, return_exceptions=True)
            raise
        shaped = sentry_shaped_issue(issue, project, event, transport.origin, settings)
        return RawIssue(ref, {**shaped, **issue_parts}, event, tags, events, unavailable)

    return await _one_result(transport, ref, read())


async def _headline(transport: ApiTransport, ref: IssueRef, settings: Settings) -> RawIssue | FetchFailure:
    async def read() -> RawIssue:
        issue = await _read_issue(transport, ref)
        uuid = str(issue.get("id") or ref.issue_id)
        no_event = asyncio.get_running_loop().create_future()
        no_event.set_result(None)
        parts, _, _, unavailable = await issue_wide(
            transport, uuid, no_event, tag_values=0, recent_events=0, trend_only=True
        )
        project = {"id": issue.get("project")} if issue.get("project") is not None else {}
        shaped = sentry_shaped_issue(issue, project, None, transport.origin, settings)
        return RawIssue(ref, {**shaped, **parts}, None, unavailable=unavailable)

    return await _one_result(transport, ref, read())


async def _read_issue(transport: ApiTransport, ref: IssueRef) -> dict[str, Any]:
    what = f"issue {ref.issue_id}"
    issue, _ = await transport.get_json(
        ("issues", ref.issue_id), kind="issue", what=what, meaning=meaning(ISSUE_GONE, NO_ISSUES_READ)
    )
    return transport.responses.expect_object(issue, what)


async def _one_result(transport: ApiTransport, ref: IssueRef, read: Awaitable[RawIssue]) -> RawIssue | FetchFailure:
    """What ``read`` gives for ``ref``, or the failure saying why: one broken reference never stops the others."""
    try:
        return await read
    except FetchError as exc:
        return FetchFailure(ref, exc)
    except Exception as exc:
        message = transport.scrub(
            f"Fetching failed unexpectedly ({type(exc).__name__}: {exc}); please report this bug."
        )
        return FetchFailure(ref, FetchError(message))


async def _project_id(transport: ApiTransport, slug: str) -> int:
    """A project's number from its slug (or the number itself); needs projects:read for a slug."""
    if (number := whole_number(slug)) is not None:
        return number
    async for project in every_item(transport, ("projects",), [], "the project list", "the token lacks projects:read."):
        if project.get("slug") == slug or project.get("name") == slug:
            if (found := as_int(project.get("id"))) is None:
                raise InvalidResponseError(
                    f"Bugsink listed project {slug!r} without a numeric id ({str(project.get('id'))[:40]!r}), so its "
                    "issues cannot be asked for; give the project's number instead (--project 1)."
                )
            return found
    raise NotFoundError(f"Bugsink has no project {slug!r} that the token may see; check the slug.")


async def _event(transport: ApiTransport, issue: str, choice: str | None) -> dict[str, Any] | None:
    """The SDK event of the chosen event (``None``: the newest), or ``None`` when the issue has none left."""
    choice = (choice or "last").lower()
    if _uuid(choice) is None:
        found = await _event_id(transport, issue, choice)
        if found is None:
            if choice == "last":
                return None
            raise NotFoundError(f"Bugsink has no event {choice} of issue {issue}: check the event in its address.")
        choice = found
    what = f"event {choice} of issue {issue}"
    gone = meaning("the event may have been deleted by retention; check the event id.", NO_EVENTS_READ)
    detail, _ = await transport.get_json(("events", choice), kind="event", what=what, meaning=gone)
    detail = transport.responses.expect_object(detail, what)
    if str(detail.get("issue") or issue) != issue:
        raise NotFoundError(f"Bugsink's event {choice} belongs to another issue than {issue}.")
    data = detail.get("data")
    if not isinstance(data, dict):
        raise transport.responses.wrong_shape(what, data, "an event with its SDK data")
    data.setdefault("event_id", detail.get("event_id"))
    return data


async def _event_id(transport: ApiTransport, issue: str, choice: str) -> str | None:
    """The Bugsink id of the newest (``last``), oldest (``first``) or n-th event of an issue."""
    order = "asc" if choice != "last" else "desc"
    params = [("issue", issue), ("order", order)]
    wanted = whole_number(choice)
    what = f"the events of issue {issue}"
    async for item in every_item(transport, ("events",), params, what, NO_EVENTS_READ, kind="events"):
        if wanted is None or item.get("digest_order") == wanted:
            return str(item.get("id"))
        if wanted is not None and isinstance(item.get("digest_order"), int) and item["digest_order"] > wanted:
            return None  # past it, in ascending order: there is no such event
    return None


async def _project(
    transport: ApiTransport, project_id: Any, projects: dict[int, asyncio.Future[dict[str, Any]]]
) -> dict[str, Any]:
    """The project's name and slug, read once per export; a token without projects:read gets its number only."""
    if not isinstance(project_id, int):
        return {}
    if project_id not in projects:
        projects[project_id] = asyncio.ensure_future(_read_project(transport, project_id))
    return await projects[project_id]


async def _read_project(transport: ApiTransport, project_id: int) -> dict[str, Any]:
    try:
        data, _ = await transport.get_json(("projects", str(project_id)), kind="other", what=f"project {project_id}")
    except FetchError:
        return {"id": str(project_id)}
    return data if isinstance(data, dict) else {"id": str(project_id)}


def sentry_shaped_issue(
    issue: dict[str, Any], project: dict[str, Any], event: dict[str, Any] | None, origin: Origin, settings: Settings
) -> dict[str, Any]:
    """Bugsink's issue in the shape of Sentry's issue API: the contract of ``RawIssue.issue``."""
    kind, value = issue.get("calculated_type"), issue.get("calculated_value")
    title = ": ".join(str(part) for part in (kind, value) if part) or None
    status = "resolved" if issue.get("is_resolved") else "ignored" if issue.get("is_muted") else "unresolved"
    base = (settings.base_url or str(origin)).rstrip("/")
    shaped: dict[str, Any] = {
        "id": issue.get("id"),
        "shortId": issue.get("friendly_id"),
        "title": title,
        "culprit": issue.get("transaction") or None,
        "permalink": f"{base}/issues/issue/{issue.get('id')}/",
        "level": (event or {}).get("level"),
        "status": status,
        "platform": (event or {}).get("platform"),
        "project": {
            "id": str(project.get("id") or issue.get("project") or ""),
            "slug": project.get("slug"),
            # A token without projects:read cannot read the project's name: its number is all there is.
            "name": project.get("name") or f"project {project.get('id') or issue.get('project')}",
        },
        "count": issue.get("digested_event_count"),
        "firstSeen": issue.get("first_seen"),
        "lastSeen": issue.get("last_seen"),
        "metadata": {"type": kind, "value": value},
    }
    releases = issue.get("events_at")
    if isinstance(releases, list) and releases:
        shaped["firstRelease"], shaped["lastRelease"] = releases[0], releases[-1]
    return shaped


@hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    register(BugsinkSource())
