"""The async Sentry REST client: endpoints, authentication, host pinning, retries and the legacy-path fallback.

One :class:`SentryClient` serves one export. What a caller may rely on:

- The token is only ever sent to the configured origin (scheme, host, port). URLs are built from that origin,
  redirects are never followed to another origin, and no message, log line or ``repr`` contains the token.
- Organisation-scoped endpoints come first. A server without them (GlitchTip answers 405 or an HTML page) is
  remembered, and the client uses the legacy ``/api/0/issues/{id}/`` paths from then on.
- Requests are paced by Sentry's ``X-Sentry-Rate-Limit-*`` headers per endpoint class before the server has to
  answer 429 (see :mod:`~sentry_issue_export.rate_limits`); a 429, a 502/503/504, a timeout or a broken
  connection is retried with a wait.
- Every answer is checked before it is trusted: status, content type, size, JSON syntax and shape. Each failure
  is a :class:`~sentry_issue_export.errors.FetchError` whose message says what to do; what an answer means and
  how each failure is worded live in :mod:`~sentry_issue_export.sentry_answers`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from .errors import (
    AuthError,
    ConfigError,
    FetchError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)
from .rate_limits import Backoff, EndpointClass, RateLimitPacer, RateLimitReport, wait_after_429
from .sentry_answers import (
    EVENT_GONE,
    ISSUE_GONE,
    NO_EVENT,
    ORG_GONE,
    Answer,
    AnswerJudge,
    describe_broken_connection,
)
from .sentry_urls import DEFAULT_BASE_URL, TOKEN_HELP, same_sentry
from .settings import Settings

# Rate limiting and server identity live in their own modules; their names stay importable from here.
__all__ = [
    "DEFAULT_BASE_URL",
    "EndpointClass",
    "RateLimitPacer",
    "RateLimitReport",
    "SentryClient",
    "next_cursor",
    "origin_of",
    "same_sentry",
]

log = logging.getLogger(__name__)

USER_AGENT = "export-sentry-issue-mcp"
INDEX_PAGE_SIZE = 100
"""Sentry's issue index answers at most 100 ``group`` ids per call."""
RETRIED_STATUSES = frozenset({502, 503, 504})
MAX_REDIRECTS = 5
MAX_INDEX_PAGES = 10
ERROR_BODY_BYTES = 64 * 1024
"""An error answer is only read this far: enough for Sentry's ``detail``."""


# --- origins ----------------------------------------------------------------------------------------------------


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (default ports dropped), or ``ConfigError`` for a URL without one.

    This is the origin the HTTP client connects to (httpx's reading of the URL, international host names in
    their ASCII form), so it is what the token is pinned to; whether two origins are the same Sentry is
    :func:`~sentry_issue_export.sentry_urls.same_sentry`'s question.
    """
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.scheme not in {"http", "https"} or not parsed.host:
        raise ConfigError(
            f"The Sentry base URL {url!r} is not an http(s) address: use the Sentry root, e.g. https://sentry.io "
            "or https://sentry.example.com."
        )
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii').lower()}"


def _path_prefix(base_url: str) -> str:
    """The path a Sentry is served under (``/sentry`` in ``https://example.com/sentry``), usually empty.

    An ``/api/0`` suffix is dropped, and so is the path of a web page pasted as the base URL.
    """
    path = httpx.URL(base_url.strip()).path
    if "/api/0" in path:
        return path.split("/api/0", 1)[0].rstrip("/")
    if any(part in path for part in ("/issues/", "/organizations/", "/settings/")):
        return ""
    return path.rstrip("/")


# --- pagination and control flow --------------------------------------------------------------------------------


class _Broken(Exception):
    """The connection failed before a complete answer arrived (retried)."""


class _NoScopedRoute(Exception):
    """The server has no organisation-scoped route for this request (GlitchTip and similar)."""


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


# --- the client -------------------------------------------------------------------------------------------------


class SentryClient:
    """Sentry's REST API for one export. Use as ``async with SentryClient(...) as client``."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        org: str | None = None,
        max_concurrency: int = 8,
        timeout: float = 30.0,
        retries: int = 4,
        max_response_bytes: int = 50 * 1024 * 1024,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_wait: float = 60.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._origin = origin_of(base_url)
        self._api_root = f"{self._origin}{_path_prefix(base_url)}/api/0"
        self._token = token or None
        self.org = org or None
        self._timeout = timeout
        self._retries = max(0, retries)
        self._max_bytes = max_response_bytes
        self._sleep = sleep
        self._clock = clock
        self._backoff = Backoff(base=backoff_base, cap=backoff_cap, jitter=jitter)
        self._max_wait = max_wait
        self._slots = asyncio.Semaphore(max(1, max_concurrency))
        self._pacer = RateLimitPacer(clock=clock, sleep=sleep, max_wait=max_wait)
        self._scoped_routes = True
        """Set to False once the server shows it has no organisation-scoped routes."""
        self._token_rejected = False
        self._answers = AnswerJudge(self._origin, self._token, max_response_bytes, max_wait)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max(1, max_concurrency)),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> SentryClient:
        """A client configured from a :class:`~sentry_issue_export.settings.Settings`; ``options`` override."""
        kwargs: dict[str, Any] = {
            "org": settings.org,
            "max_concurrency": settings.max_concurrency,
            "timeout": settings.timeout,
            "retries": settings.retries,
            "max_response_bytes": settings.max_response_bytes,
        }
        kwargs.update(options)
        return cls(settings.base_url or DEFAULT_BASE_URL, settings.token, **kwargs)

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def scoped_routes(self) -> bool:
        """False once the server has shown it only answers the legacy unscoped paths."""
        return self._scoped_routes

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"SentryClient(base_url={self._api_root!r}, org={self.org!r}, token={token})"

    async def __aenter__(self) -> SentryClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def scrub(self, text: str) -> str:
        """``text`` with the token replaced, for any message built from foreign text."""
        return self._answers.scrub(text)

    # --- public endpoints ---------------------------------------------------------------------------------------

    async def get_issue(self, issue_id: str, org: str | None = None) -> dict[str, Any]:
        """One issue by numeric id or short id. The answer's ``id`` may differ from ``issue_id`` (merged issue)."""
        org = org or self.org
        what = f"issue {issue_id}" + (f" in organisation {org}" if org else "")
        if org and self._scoped_routes:
            try:
                return await self._get_scoped_issue(issue_id, org, what)
            except _NoScopedRoute:
                pass
        self._require_legacy_id(issue_id, org)
        data, _ = await self._get_json(("issues", issue_id), kind="issue", what=what, not_found=ISSUE_GONE)
        return self._answers.expect_object(data, what)

    async def _get_scoped_issue(self, issue_id: str, org: str, what: str) -> dict[str, Any]:
        path = ("organizations", org, "issues", issue_id)
        try:
            data, _ = await self._get_json(path, kind="issue", what=what, scoped=True, not_found=ISSUE_GONE)
        except NotFoundError:
            if issue_id.isdigit():
                raise
            # Some servers take short ids only through the short-id endpoint.
            issue = await self._issue_by_short_id_lookup(org, issue_id)
            if issue is None:
                raise
            return issue
        return self._answers.expect_object(data, what)

    async def _issue_by_short_id_lookup(self, org: str, short_id: str) -> dict[str, Any] | None:
        try:
            found = await self.resolve_short_id(org, short_id)
        except (AuthError, NetworkError, RateLimitedError, ServerError):
            raise
        except FetchError:
            return None  # the issue path's 404 says more than this lookup's failure
        group = found.get("group")
        if isinstance(group, dict) and group.get("id"):
            return group
        group_id = str(found.get("groupId") or "")
        return await self.get_issue(group_id, org) if group_id.isdigit() else None

    async def get_issues_batch(self, org: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Issues by numeric id through the organisation's issue index, keyed by the ``id`` each answer carries.

        The index answers a lighter issue shape than :meth:`get_issue`. Ids it does not return (merged, deleted,
        not numeric) are simply absent. Raises ``FetchError`` when the server has no usable index.
        """
        wanted = list(dict.fromkeys(i for i in ids if i.isdigit()))
        chunks = [wanted[i : i + INDEX_PAGE_SIZE] for i in range(0, len(wanted), INDEX_PAGE_SIZE)]
        tasks = [asyncio.ensure_future(self._index_chunk(org, chunk)) for chunk in chunks]
        try:
            pages = await asyncio.gather(*tasks)
        except BaseException as exc:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if isinstance(exc, _NoScopedRoute):
                raise InvalidResponseError(
                    f"{self._origin} has no organisation issue index (it answered 405 or an HTML page)."
                ) from None
            raise
        found: dict[str, dict[str, Any]] = {}
        for page in pages:
            found.update(page)
        return found

    async def _index_chunk(self, org: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not self._scoped_routes:
            raise _NoScopedRoute
        what = f"the issue index of organisation {org} ({len(ids)} issues)"
        params = [("group", i) for i in ids] + [("project", "-1")]
        wanted, found = set(ids), {}
        cursor: str | None = None
        for _page in range(MAX_INDEX_PAGES):
            page = params + ([("cursor", cursor)] if cursor else [])
            data, headers = await self._get_json(
                ("organizations", org, "issues"), kind="index", what=what, params=page, scoped=True
            )
            if not isinstance(data, list):
                raise self._answers.wrong_shape(what, data, "a list of issues")
            foreign = False
            for item in data:
                item_id = str(item.get("id")) if isinstance(item, dict) else None
                if item_id in wanted and isinstance(item, dict):
                    found[item_id] = item
                else:
                    foreign = True
            # A server that ignores group= would page through every issue of the organisation: stop early.
            if foreign or len(found) == len(wanted):
                break
            cursor = next_cursor(headers.get("link"))
            if cursor is None:
                break
        return found

    async def get_event(self, issue_id: str, org: str | None = None, event_id: str = "latest") -> dict[str, Any]:
        """One event of an issue: a 32-hex id, ``latest``, ``oldest`` or ``recommended``.

        A 404 for ``latest`` means the issue has no event left in retention (``NotFoundError``).
        """
        org = org or self.org
        what = (
            f"the {event_id} event of issue {issue_id}"
            if event_id in {"latest", "oldest", "recommended"}
            else f"event {event_id} of issue {issue_id}"
        )
        gone = NO_EVENT if event_id == "latest" else EVENT_GONE
        if org and self._scoped_routes:
            scoped = ("organizations", org, "issues", issue_id, "events", event_id)
            try:
                data, _ = await self._get_json(scoped, kind="event", what=what, scoped=True, not_found=gone)
                return self._answers.expect_object(data, what)
            except _NoScopedRoute:
                pass
        self._require_legacy_id(issue_id, org)
        path = ("issues", issue_id, "events", event_id)
        data, _ = await self._get_json(path, kind="event", what=what, not_found=gone)
        return self._answers.expect_object(data, what)

    async def resolve_short_id(self, org: str, short_id: str) -> dict[str, Any]:
        """Sentry's short-id lookup: ``organizationSlug``, ``projectSlug``, ``groupId`` and ``group``."""
        what = f"short id {short_id} in organisation {org}"
        if not self._scoped_routes:
            raise self._no_scoped_api(short_id)
        path = ("organizations", org, "shortids", short_id)
        try:
            data, _ = await self._get_json(path, kind="other", what=what, scoped=True, not_found=ISSUE_GONE)
        except _NoScopedRoute:
            raise self._no_scoped_api(short_id) from None
        return self._answers.expect_object(data, what)

    async def check_access(self) -> str:
        """One cheap authenticated request that proves the base URL and token work; returns what it reached.

        Raises ``AuthError`` (401), ``PermissionDeniedError`` (403), ``NotFoundError`` (unknown organisation),
        ``NetworkError`` (unreachable) or ``InvalidResponseError`` (not a Sentry API).
        """
        if self.org and self._scoped_routes:
            what = f"organisation {self.org}"
            try:
                data, _ = await self._get_json(
                    ("organizations", self.org), kind="other", what=what, scoped=True, not_found=ORG_GONE
                )
            except _NoScopedRoute:
                pass
            else:
                org = self._answers.expect_object(data, what)
                return f"organisation {org.get('name') or self.org} ({org.get('slug') or self.org})"
        data, _ = await self._get_json((), kind="other", what="the API root")
        root = self._answers.expect_object(data, "the API root")
        if "auth" in root and not root["auth"]:
            raise AuthError(
                f"{self._origin} did not accept the token: it is invalid, expired or revoked. Create a new one "
                f"with the event:read scope and save it with {TOKEN_HELP}."
            )
        user = root.get("user")
        who = (user.get("email") or user.get("username") or user.get("name")) if isinstance(user, dict) else None
        return f"user {who}" if who else f"the Sentry API at {self._origin}"

    # --- requests -----------------------------------------------------------------------------------------------

    def _require_legacy_id(self, issue_id: str, org: str | None) -> None:
        """The legacy paths take numeric ids only; say what to do instead of a short id."""
        if issue_id.isdigit():
            return
        if org is None:
            raise FetchError(
                f"{issue_id} is a short id, and short ids can only be looked up inside an organisation: set the "
                "organisation (`export-sentry-issue config init`, or SENTRY_ORG) or paste the issue's URL instead."
            )
        raise self._no_scoped_api(issue_id)

    def _no_scoped_api(self, issue_id: str) -> FetchError:
        return FetchError(
            f"{self._origin} does not offer Sentry's organisation-scoped API (it answered 405 or an HTML page, "
            f"as GlitchTip does), so the short id {issue_id} cannot be looked up: use the numeric issue id or paste "
            "the issue's URL instead."
        )

    def _url(self, segments: Sequence[str], params: Sequence[tuple[str, str]] = ()) -> httpx.URL:
        path = "/".join(quote(segment, safe="") for segment in segments)
        return httpx.URL(f"{self._api_root}/{path}/" if path else f"{self._api_root}/", params=list(params) or None)

    async def _get_json(
        self,
        segments: Sequence[str],
        *,
        kind: EndpointClass,
        what: str,
        params: Sequence[tuple[str, str]] = (),
        scoped: bool = False,
        not_found: str = "",
    ) -> tuple[Any, httpx.Headers]:
        """GET one API path and parse its JSON, retrying what is worth retrying. Raises ``FetchError``."""
        url = self._url(segments, params)
        attempt = 0
        while True:
            try:
                answer = await self._exchange(url, kind, what)
            except _Broken as broken:
                if attempt < self._retries:
                    attempt += 1
                    await self._sleep(self._backoff.delay(attempt))
                    continue
                raise self._answers.unreachable(what, str(broken), attempt) from None
            status = answer.status
            if status == 429:
                wait = wait_after_429(answer.headers, attempt + 1, now=self._clock(), backoff=self._backoff)
                if attempt < self._retries and wait <= self._max_wait:
                    attempt += 1
                    log.debug("429 for %s; waiting %.2f s", what, wait)
                    self._pacer.hold(kind, wait)
                    continue
                raise self._status_error(status, what, answer, not_found, attempts=attempt, wait=wait)
            if status in RETRIED_STATUSES:
                if attempt < self._retries:
                    attempt += 1
                    await self._sleep(self._backoff.delay(attempt))
                    continue
                raise self._status_error(status, what, answer, not_found, attempts=attempt)
            if scoped and (status == 405 or answer.html):
                log.debug("%s has no organisation-scoped route (%s); using legacy paths", self._origin, status)
                self._scoped_routes = False
                raise _NoScopedRoute
            if answer.html:
                raise self._answers.html_page(status, what)
            if 200 <= status < 300:
                return self._answers.json_of(answer, what), answer.headers
            raise self._status_error(status, what, answer, not_found, attempts=attempt)

    async def _exchange(self, url: httpx.URL, kind: EndpointClass, what: str) -> Answer:
        """Send one GET (following same-origin redirects) within the pacing and concurrency limits."""
        await self._pacer.acquire(kind)
        answer: Answer | None = None
        try:
            if self._token_rejected:  # checked after the wait: another request may have just been refused
                raise self._status_error(401, what, None, "", repeated=True)
            async with self._slots:
                started = time.monotonic()
                answer = await self._send(url, what)
                log.debug("GET %s -> %s (%.0f ms)", url.path, answer.status, (time.monotonic() - started) * 1000)
                return answer
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Broken(describe_broken_connection(exc, self._timeout)) from None
        finally:
            report = RateLimitReport.from_headers(answer.headers) if answer is not None else None
            self._pacer.release(kind, report, answered=answer is not None)

    async def _send(self, url: httpx.URL, what: str) -> Answer:
        for _hop in range(MAX_REDIRECTS + 1):
            if origin_of(str(url)) != self._origin:  # never reached for URLs built here; a guard for redirects
                raise AssertionError("refusing to send a request outside the pinned origin")
            headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
            response = await self._http.send(self._http.build_request("GET", url, headers=headers), stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    target = url.join(response.headers["location"])
                    if origin_of(str(target)) != self._origin:
                        raise InvalidResponseError(
                            f"{self._origin} redirected the request for {what} to {origin_of(str(target))}. The "
                            "token is only sent to the configured server, so the redirect was not followed: if "
                            f"Sentry now lives at {origin_of(str(target))}, set that as the base URL.",
                            status=response.status_code,
                        )
                    url = target
                    continue
                return await self._read(response, what)
            finally:
                await response.aclose()
        raise InvalidResponseError(f"{self._origin} redirected the request for {what} more than {MAX_REDIRECTS} times.")

    async def _read(self, response: httpx.Response, what: str) -> Answer:
        """The body, read no further than the size limit; an HTML page is never read."""
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if "html" in content_type:
            return Answer(response.status_code, response.headers, b"", content_type, html=True)
        success = response.is_success
        limit = self._max_bytes if success else ERROR_BODY_BYTES
        declared = response.headers.get("content-length", "")
        if success and declared.isdigit() and int(declared) > limit:
            raise self._answers.too_large(what)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > limit:
                if success:
                    raise self._answers.too_large(what)
                break
        html = not content_type and bytes(body[:200]).lstrip().startswith(b"<")
        return Answer(response.status_code, response.headers, bytes(body), content_type, html=html)

    # --- failed answers ----------------------------------------------------------------------------------------

    def _status_error(
        self,
        status: int,
        what: str,
        answer: Answer | None,
        not_found: str,
        *,
        attempts: int = 0,
        wait: float = 0.0,
        repeated: bool = False,
    ) -> FetchError:
        """The error for a failed status; a 401 also stops the token from being sent again by this client."""
        if status == 401:
            self._token_rejected = True
        body = answer.body if answer is not None else None
        return self._answers.status_error(
            status, what, body, not_found, attempts=attempts, wait=wait, repeated=repeated
        )
