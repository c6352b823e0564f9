"""Sentry's REST API endpoints for one export: issues, events, the issue index and short ids.

One :class:`SentryClient` serves one export, over one :class:`~.transport.ApiTransport` (which pins the token to
the configured origin, paces, retries and checks every answer). What a caller may rely on:

- Organisation-scoped endpoints come first. A server without them (GlitchTip answers 405 or an HTML page) is
  remembered, and the client uses the legacy ``/api/0/issues/{id}/`` paths from then on (:meth:`_scoped_or_legacy`).
- Every method returns parsed JSON of the promised shape or raises a
  :class:`~sentry_issue_export.errors.FetchError` whose message says what to do.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from ..errors import (
    TOKEN_HELP,
    AuthError,
    FetchError,
    InvalidResponseError,
    NetworkError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from ..refs import EVENT_KEYWORDS, IssueSearch
from ..settings import Settings
from ..textsafe import whole_number
from ..web.origin import Origin
from ..web.paging import cursor_pages, with_cursor
from ..web.rate_limits import EndpointClass
from ..web.responses import (
    EVENT_GONE,
    ISSUE_GONE,
    NO_EVENT,
    NO_EVENT_READ,
    NO_ORG_READ,
    ORG_GONE,
    PROJECT_GONE,
    SHORT_ID_FORBIDDEN,
    Meaning,
)
from ..web.transport import ApiTransport, RouteMissing
from .urls import DEFAULT_BASE_URL, short_id_needs_org

log = logging.getLogger(__name__)

INDEX_PAGE_SIZE = 100
"""Sentry's issue index answers at most 100 ``group`` ids per call."""
MAX_INDEX_PAGES = 10
SMALLEST_PAGE = 25
"""The fewest issues a page of a search holds (GlitchTip's page; Sentry's is 100): what caps a search walk at
``limit // 25 + 2`` pages whatever cursors the server hands out."""

Segments = tuple[str, ...]
"""An API path as its segments after ``/api/0/`` (``("organizations", "acme", "issues", "42")``)."""
_ROUTE_WORDS = frozenset({"organizations", "issues", "events", "shortids", "projects", "tags", "activities"})
"""The fixed words of API paths; the other segments (slugs, ids) are placeholders of a route's shape."""

_LINK_PART = re.compile(r"<([^>]*)>([^<]*)")
_LINK_PARAM = re.compile(r"([A-Za-z_]+)\s*=\s*\"?([^\";,\s]*)\"?")


def next_cursor(link_header: str | None) -> str | None:
    """The cursor of the ``rel="next"`` page in a ``Link`` header, or ``None`` when there are no more results.

    Parsed loosely: servers wrap the header in odd punctuation, and cursors are opaque strings.
    """
    for url, params in _LINK_PART.findall(link_header or ""):
        found = {k.lower(): v for k, v in _LINK_PARAM.findall(params)}
        if found.get("rel", "").lower() != "next":
            continue
        if found.get("results", "true").lower() != "true":
            return None
        cursor = found.get("cursor") or parse_qs(urlsplit(url).query).get("cursor", [""])[0]
        return cursor or None
    return None


class SentryClient:
    """Sentry's REST API for one export. Use as ``async with SentryClient(...) as client``.

    ``transport_options`` (``max_concurrency``, ``timeout``, ``retries``, ``transport``, ``clock`` ...) go to the
    :class:`~.transport.ApiTransport`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        org: str | None = None,
        legacy_routes: bool = False,
        **transport_options: Any,
    ) -> None:
        """``legacy_routes`` starts with the unscoped paths (a server known to be GlitchTip)."""
        self.org = org or None
        self._transport = ApiTransport(base_url, token, **transport_options)
        self._scoped_routes = not legacy_routes
        """Set to False once the server shows it has no organisation-scoped routes."""
        self._route_probes: dict[str, asyncio.Event] = {}
        """Per route shape: set once its first request has answered."""
        self.index_ignores_groups = False
        """Set once the issue index answered issues it was not asked for: GlitchTip's list does, Sentry's never."""

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> SentryClient:
        """A client configured from a :class:`~sentry_issue_export.settings.Settings`; ``options`` override."""
        kwargs: dict[str, Any] = {
            "org": settings.org,
            "max_concurrency": settings.max_concurrency,
            "timeout": settings.timeout,
            "retries": settings.retries,
            "max_response_bytes": settings.max_response_bytes,
            "legacy_routes": settings.server == "glitchtip",
        }
        kwargs.update(options)
        return cls(settings.base_url or DEFAULT_BASE_URL, settings.token, **kwargs)

    @property
    def origin(self) -> Origin:
        return self._transport.origin

    @property
    def scoped_routes(self) -> bool:
        """False once the server has shown it only answers the legacy unscoped paths."""
        return self._scoped_routes

    def __repr__(self) -> str:
        return f"SentryClient(transport={self._transport!r}, org={self.org!r})"

    async def __aenter__(self) -> SentryClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    def scrub(self, text: str) -> str:
        """``text`` with the token replaced, for any message built from foreign text."""
        return self._transport.scrub(text)

    # --- endpoints ----------------------------------------------------------------------------------------------

    async def get_issue(self, issue_id: str, org: str | None = None) -> dict[str, Any]:
        """One issue by numeric id or short id. The answer's ``id`` may differ from ``issue_id`` (merged issue)."""
        org = org or self.org
        what = f"issue {issue_id}" + (f" in organisation {org}" if org else "")
        scoped = ("organizations", org, "issues", issue_id) if org else None
        meaning = Meaning(ISSUE_GONE) if issue_id.isdigit() else Meaning(ISSUE_GONE, SHORT_ID_FORBIDDEN)
        try:
            data, _ = await self._scoped_or_legacy(
                scoped, self._legacy(("issues", issue_id), issue_id, org), "issue", what, meaning
            )
        except RouteMissing:
            raise self._no_scoped_api(issue_id) from None
        except FetchError as exc:
            if exc.status != 404 or issue_id.isdigit() or not org or not self._scoped_routes:
                raise
            # Some servers take short ids only through the short-id endpoint.
            issue = await self._issue_by_short_id_lookup(org, issue_id)
            if issue is None:
                raise
            return issue
        return self._expect_object(data, what)

    async def _issue_by_short_id_lookup(self, org: str, short_id: str) -> dict[str, Any] | None:
        try:
            found = await self.resolve_short_id(org, short_id)
        except (AuthError, NetworkError, RateLimitedError, ServerError):
            raise
        except FetchError as exc:
            if exc.status == 403:
                raise
            return None  # the issue path's 404 says more than this lookup's failure
        group = found.get("group")
        if isinstance(group, dict) and group.get("id"):
            return group
        group_id = str(found.get("groupId") or "")
        return await self.get_issue(group_id, org) if group_id.isdigit() else None

    async def get_issues_batch(
        self, org: str, ids: Sequence[str], *, daily_stats: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Issues by numeric id through the organisation's issue index, keyed by the ``id`` each answer carries.

        The index answers a lighter issue shape than :meth:`get_issue`: no activity or releases, and ``stats``
        for the last 24 hours only. ``daily_stats`` asks the index a second time, for 14 daily buckets, and adds
        them as ``stats["14d"]`` (the index offers no 30-day series). Ids it does not return (merged, deleted,
        not numeric) are simply absent. Raises ``FetchError`` when the server has no usable index.
        """
        wanted = list(dict.fromkeys(i for i in ids if i.isdigit()))
        chunks = [wanted[i : i + INDEX_PAGE_SIZE] for i in range(0, len(wanted), INDEX_PAGE_SIZE)]
        tasks = [asyncio.ensure_future(self._index_chunk(org, chunk)) for chunk in chunks]
        daily = [asyncio.ensure_future(self._daily_stats(org, chunk)) for chunk in chunks] if daily_stats else []
        try:
            pages = await asyncio.gather(*tasks)
            dailies = await asyncio.gather(*daily)
        except BaseException as exc:
            for task in [*tasks, *daily]:
                task.cancel()
            await asyncio.gather(*tasks, *daily, return_exceptions=True)
            if isinstance(exc, RouteMissing):
                raise InvalidResponseError(
                    f"{self.origin} has no organisation issue index (it answered 405 or an HTML page)."
                ) from None
            raise
        found: dict[str, dict[str, Any]] = {}
        for page in pages:
            found.update(page)
        for series in dailies:
            for issue_id, stats in series.items():
                issue = found.get(issue_id)
                if issue is not None:
                    hourly = issue.get("stats")
                    issue["stats"] = {**(hourly if isinstance(hourly, dict) else {}), **stats}
        return found

    async def _daily_stats(self, org: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The index's 14 daily buckets per issue; nothing when it cannot give them (the hourly ones stay)."""
        try:
            page = await self._index_chunk(org, ids, stats_period="14d")
        except FetchError:
            return {}
        return {issue_id: issue["stats"] for issue_id, issue in page.items() if isinstance(issue.get("stats"), dict)}

    async def _index_chunk(
        self, org: str, ids: list[str], *, stats_period: str | None = None
    ) -> dict[str, dict[str, Any]]:
        what = f"the issue index of organisation {org} ({len(ids)} issues)"
        params = [("group", i) for i in ids] + [("project", "-1")]
        params += [("groupStatsPeriod", stats_period)] if stats_period else []
        wanted, found = set(ids), {}

        async def read(cursor: str | None) -> tuple[list[Any], str | None]:
            data, headers = await self._scoped_or_legacy(
                ("organizations", org, "issues"), None, "index", what, Meaning(), params=with_cursor(params, cursor)
            )
            if not isinstance(data, list):
                raise self._transport.responses.wrong_shape(what, data, "a list of issues")
            return data, next_cursor(headers.get("link"))

        async for data in cursor_pages(read, max_pages=MAX_INDEX_PAGES):
            foreign = False
            for item in data:
                item_id = str(item.get("id")) if isinstance(item, dict) else None
                if item_id in wanted and isinstance(item, dict):
                    found[item_id] = item
                else:
                    foreign = True
            # A server that ignores group= would page through every issue of the organisation: stop early.
            if foreign:
                self.index_ignores_groups = True
                break
            if len(found) == len(wanted):
                break
        return found

    async def search_issues(
        self,
        org: str,
        query: str,
        *,
        projects: Sequence[str] = (),
        period: str | None = None,
        sort: str | None = None,
        limit: int = 25,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """The first ``limit`` issues Sentry's search finds, in its order, and how many match in all (``X-Hits``).

        Pages follow the ``Link`` header's ``rel="next"`` cursor only while ``results="true"``, and the walk always
        ends: at a cursor seen before (a server stuck on one page), at a page that adds no new issue (the same
        issues again, or items without an id; then the count is of what was found), and after ``limit // 25 + 2``
        pages. Issues are told apart by the id the server gives. A query Sentry rejects raises a ``FetchError``
        with Sentry's own words. The issue list is the same route on GlitchTip.
        """
        what = f"the {IssueSearch(query)} in organisation {org}" if query else f"the issues of organisation {org}"
        params = [("query", query), ("limit", str(min(INDEX_PAGE_SIZE, max(limit, 1))))]
        params += [("project", project) for project in projects] or [("project", "-1")]
        params += [(name, value) for name, value in (("statsPeriod", period), ("sort", sort)) if value]
        path = ("organizations", org, "issues")
        hits: int | None = None

        async def read(cursor: str | None) -> tuple[list[Any], str | None]:
            nonlocal hits
            try:
                data, headers = await self._scoped_or_legacy(
                    path, path, "index", what, Meaning(ORG_GONE), params=with_cursor(params, cursor)
                )
            except RouteMissing:
                raise FetchError(
                    f"{self.origin} has no issue search (it answered 405 or a web page for {what}); export the "
                    "issues by number or URL instead."
                ) from None
            if not isinstance(data, list):
                raise self._transport.responses.wrong_shape(what, data, "a list of issues")
            if hits is None:
                hits = whole_number(headers.get("x-hits"))
            return data, next_cursor(headers.get("link"))

        found: dict[str, dict[str, Any]] = {}
        async for data in cursor_pages(read, max_pages=limit // SMALLEST_PAGE + 2):
            before = len(found)
            for item in data:
                issue_id = str(item.get("id")) if isinstance(item, dict) else ""
                if whole_number(issue_id) is not None:
                    found.setdefault(issue_id, item)
            if len(found) >= limit or not data:
                break
            if len(found) == before:  # a page of nothing new: the server repeats itself or sends junk
                log.debug("%s: a page of %s added no new issue; the search stops there", self.origin, what)
                hits = len(found)  # its count is of the same broken list
                break
        return list(found.values())[:limit], hits

    async def get_event(self, issue_id: str, org: str | None = None, event_id: str = "latest") -> dict[str, Any]:
        """One event of an issue: a 32-hex id, ``latest``, ``oldest`` or ``recommended``.

        A 404 for ``latest`` means the issue has no event left in retention (``NotFoundError``).
        """
        org = org or self.org
        what = (
            f"the {event_id} event of issue {issue_id}"
            if event_id in EVENT_KEYWORDS
            else f"event {event_id} of issue {issue_id}"
        )
        meaning = Meaning(NO_EVENT if event_id == "latest" else EVENT_GONE)
        scoped = ("organizations", org, "issues", issue_id, "events", event_id) if org else None
        legacy = self._legacy(("issues", issue_id, "events", event_id), issue_id, org)
        try:
            data, _ = await self._scoped_or_legacy(scoped, legacy, "event", what, meaning)
        except RouteMissing:
            raise self._no_scoped_api(issue_id) from None
        return self._expect_object(data, what)

    async def get_issue_tags(self, issue_id: str, org: str | None = None, *, values: int = 5) -> list[dict[str, Any]]:
        """The issue's tags across all its events, each key with its ``values`` most frequent values.

        Sentry answers ``[{key, name, totalValues, topValues: [{value, name, count, firstSeen, lastSeen}]}]``;
        GlitchTip ignores ``limit`` and lists every value, so each key is cut here to its ``values`` most frequent.
        """
        org = org or self.org
        what = f"the tags of issue {issue_id}"
        data = await self._issue_part(issue_id, org, "tags", "tags", what, [("limit", str(values))])
        if not isinstance(data, list):
            raise self._transport.responses.wrong_shape(what, data, "a list of tags")
        tags = [tag for tag in data if isinstance(tag, dict)]
        for tag in tags:
            top = [value for value in tag.get("topValues") or [] if isinstance(value, dict)]
            top.sort(key=lambda value: -value["count"] if isinstance(value.get("count"), int) else 0)
            tag["topValues"] = top[:values]
        return tags

    async def get_issue_events(self, issue_id: str, org: str | None = None, *, limit: int = 5) -> list[dict[str, Any]]:
        """The issue's ``limit`` most recent events, newest first, in the events list's light shape (one page;
        Sentry's pages hold up to 100, and ``per_page`` asks for fewer)."""
        org = org or self.org
        what = f"the events of issue {issue_id}"
        params = [("per_page", str(limit))]
        data = await self._issue_part(issue_id, org, "events", "events", what, params)
        if not isinstance(data, list):
            raise self._transport.responses.wrong_shape(what, data, "a list of events")
        return [event for event in data if isinstance(event, dict)][:limit]

    async def get_issue_activity(self, issue_id: str, org: str | None = None) -> list[dict[str, Any]]:
        """The issue's activity (notes, regressions, assignments ...), newest first, at most 100: what issue
        details carry as ``activity``, for an issue read from the index, which leaves it out."""
        org = org or self.org
        what = f"the activity of issue {issue_id}"
        # Only Sentry has this route: a server without the scoped routes (GlitchTip) is not asked again.
        data = await self._issue_part(issue_id, org, "activities", "activity", what, legacy=org is None)
        activity = data.get("activity") if isinstance(data, dict) else None
        if not isinstance(activity, list):
            raise self._transport.responses.wrong_shape(what, data, "an object with the issue's activity")
        return [entry for entry in activity if isinstance(entry, dict)]

    async def _issue_part(
        self,
        issue_id: str,
        org: str | None,
        part: str,
        kind: EndpointClass,
        what: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        legacy: bool = True,
    ) -> Any:
        """GET ``…/issues/{id}/{part}/``, organisation-scoped or (when ``legacy``) on the legacy path."""
        scoped = ("organizations", org, "issues", issue_id, part) if org else None
        legacy_path = self._legacy(("issues", issue_id, part), issue_id, org) if legacy else None
        try:
            data, _ = await self._scoped_or_legacy(scoped, legacy_path, kind, what, Meaning(ISSUE_GONE), params=params)
        except RouteMissing:
            if legacy:
                raise self._no_scoped_api(issue_id) from None
            raise FetchError(f"{self.origin} has no route for {what} (it answered 405 or a web page).") from None
        return data

    async def resolve_short_id(self, org: str, short_id: str) -> dict[str, Any]:
        """Sentry's short-id lookup: ``organizationSlug``, ``projectSlug``, ``groupId`` and ``group``."""
        what = f"short id {short_id} in organisation {org}"
        path = ("organizations", org, "shortids", short_id)
        try:
            data, _ = await self._scoped_or_legacy(path, None, "other", what, Meaning(ISSUE_GONE, NO_ORG_READ))
        except RouteMissing:
            raise self._no_scoped_api(short_id) from None
        return self._expect_object(data, what)

    async def check_access(self, project: str | None = None) -> str:
        """Prove the token can do what exports do, with the fewest requests; returns what it can and cannot do.

        Exports read issues and events, which needs ``event:read``, so that is what is checked: one issue list
        with ``limit=1`` (the project's when ``project`` is given, else the organisation's). ``org:read`` is
        checked separately, since only short-id lookups need it: its absence is reported, not refused. Reading
        the organisation alone would refuse a good ``event:read`` token and accept one that can read no event.

        Raises ``AuthError`` (401), ``PermissionDeniedError`` (403: no ``event:read``), ``NotFoundError``
        (unknown organisation or project), ``NetworkError`` (unreachable) or ``InvalidResponseError`` (not a
        Sentry API).
        """
        org = self.org
        if not org:
            return await self._check_root()
        await self._check_issue_list(org, project)
        can = f"The token can read the issues of organisation {org}" + (f", project {project}" if project else "")
        try:
            data, _ = await self._scoped_or_legacy(
                ("organizations", org), None, "other", f"organisation {org}", Meaning(ORG_GONE, NO_ORG_READ)
            )
        except PermissionDeniedError:
            return (
                f"{can} (event:read). It lacks org:read: issue numbers and URLs export, but short ids such as "
                "PROJ-1A will not resolve until the token has org:read."
            )
        except (RouteMissing, FetchError):
            return f"{can} (event:read)."
        name = data.get("name") if isinstance(data, dict) else None
        return f"{can} (event:read) and read the organisation{f' {name}' if name else ''} (org:read)."

    async def _check_issue_list(self, org: str, project: str | None) -> None:
        """One page of one issue: the request that proves ``event:read``."""
        page = [("limit", "1")]
        if project:
            what = f"the issues of project {project} in organisation {org}"
            path: Segments = ("projects", org, project, "issues")
            data, _ = await self._transport.get_json(
                path, kind="index", what=what, params=page, meaning=Meaning(PROJECT_GONE, NO_EVENT_READ)
            )
        else:
            what = f"the issues of organisation {org}"
            try:
                data, _ = await self._transport.get_json(
                    ("organizations", org, "issues"),
                    kind="index",
                    what=what,
                    params=page,
                    meaning=Meaning(ORG_GONE, NO_EVENT_READ),
                    route_may_be_missing=True,
                )
            except RouteMissing:
                raise InvalidResponseError(
                    f"{self.origin} has no issue list for organisation {org} (it answered 405 or a web page), so "
                    "the token could not be checked: give the project too (a URL such as "
                    "https://sentry.example.com/organizations/ORG/projects/PROJECT/), or check the base URL."
                ) from None
        if not isinstance(data, list):
            raise self._transport.responses.wrong_shape(what, data, "a list of issues")

    async def _check_root(self) -> str:
        """Without an organisation only the token itself can be checked, at the API root."""
        data, _ = await self._transport.get_json((), kind="other", what="the API root")
        root = self._expect_object(data, "the API root")
        if "auth" in root and not root["auth"]:
            raise AuthError(
                f"{self.origin} did not accept the token: it is invalid, expired or revoked. Create a new one "
                f"with the event:read scope and save it with {TOKEN_HELP}."
            )
        user = root.get("user")
        who = (user.get("email") or user.get("username") or user.get("name")) if isinstance(user, dict) else None
        return f"user {who}" if who else f"the Sentry API at {self.origin}"

    # --- routes -------------------------------------------------------------------------------------------------

    async def _scoped_or_legacy(
        self,
        scoped: Segments | None,
        legacy: Segments | None,
        kind: EndpointClass,
        what: str,
        meaning: Meaning,
        *,
        params: Sequence[tuple[str, str]] = (),
    ) -> tuple[Any, httpx.Headers]:
        """GET the organisation-scoped path, or the legacy one on a server without scoped routes.

        ``scoped`` is ``None`` when no organisation is known; ``legacy`` is ``None`` when the request has no
        legacy form, and then a server without scoped routes raises ``RouteMissing``. The first request of each
        route shape goes alone: the others wait for it to show whether the route exists, so a server without it
        (GlitchTip answers a web page) is asked once, not once per issue in flight.
        """
        if scoped is not None and self._scoped_routes:
            shape = "/".join(segment if segment in _ROUTE_WORDS else "*" for segment in scoped)
            probe = self._route_probes.get(shape)
            if probe is not None:
                await probe.wait()
            else:
                self._route_probes[shape] = probe = asyncio.Event()
            try:
                if self._scoped_routes:
                    return await self._transport.get_json(
                        scoped, kind=kind, what=what, params=params, meaning=meaning, route_may_be_missing=True
                    )
            except RouteMissing:
                self._scoped_routes = False  # GlitchTip and similar: legacy paths from now on
            finally:
                probe.set()
        if legacy is None:
            raise RouteMissing(what)
        return await self._transport.get_json(legacy, kind=kind, what=what, params=params, meaning=meaning)

    def _legacy(self, path: Segments, issue_id: str, org: str | None) -> Segments | None:
        """The legacy path, which takes numeric ids only; for a short id, raise what to do instead."""
        if issue_id.isdigit():
            return path
        if org is None:
            raise FetchError(short_id_needs_org(issue_id))
        if not self._scoped_routes:
            raise self._no_scoped_api(issue_id)
        return None

    def _no_scoped_api(self, issue_id: str) -> FetchError:
        return FetchError(
            f"{self.origin} does not offer Sentry's organisation-scoped API (it answered 405 or an HTML page, "
            f"as GlitchTip does), so the short id {issue_id} cannot be looked up: use the numeric issue id or paste "
            "the issue's URL instead."
        )

    def _expect_object(self, data: Any, what: str) -> dict[str, Any]:
        return self._transport.responses.expect_object(data, what)
