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
  is a :class:`~sentry_issue_export.errors.FetchError` whose message says what to do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import attrs
import httpx

from .errors import (
    AuthError,
    ConfigError,
    FetchError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from .rate_limits import Backoff, EndpointClass, RateLimitPacer, RateLimitReport, wait_after_429
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


# --- answers ----------------------------------------------------------------------------------------------------


@attrs.frozen
class _Answer:
    status: int
    headers: httpx.Headers
    body: bytes
    content_type: str
    html: bool


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


def _detail(body: bytes) -> str | None:
    """Sentry's explanation in an error body: ``{"detail": ...}`` or a bare JSON string."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict):
        data = data.get("detail", data.get("message"))
        if isinstance(data, dict):
            data = data.get("message") or data.get("detail")
    if not isinstance(data, str) or not data.strip():
        return None
    text = " ".join(data.split())
    return text if len(text) <= 300 else text[:297] + "..."


def _describe_broken_connection(exc: Exception, timeout: float) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connecting took longer than {timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"it did not answer within {timeout:g} s"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        cause = _root_os_error(exc)
        if isinstance(cause, socket.gaierror) or "name or service" in text.lower():
            return "its host name could not be resolved (DNS)"
        if isinstance(cause, ConnectionRefusedError) or "refused" in text.lower():
            return "the connection was refused (is the server running, and is the port right?)"
        return f"the connection failed ({cause or text})"
    return f"the connection broke before the answer was complete ({text})"


def _root_os_error(exc: BaseException) -> OSError | None:
    """httpx reports "All connection attempts failed"; the reason is the deepest ``OSError`` in the chain."""
    seen: set[int] = set()
    deepest: OSError | None = None
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            deepest = current
        current = current.__cause__ or current.__context__
    return deepest


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
        if self._token and len(self._token) >= 4:
            text = text.replace(self._token, "[Filtered]")
        return text

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
        data, _ = await self._get_json(("issues", issue_id), kind="issue", what=what, not_found=_ISSUE_GONE)
        return self._expect_object(data, what)

    async def _get_scoped_issue(self, issue_id: str, org: str, what: str) -> dict[str, Any]:
        path = ("organizations", org, "issues", issue_id)
        try:
            data, _ = await self._get_json(path, kind="issue", what=what, scoped=True, not_found=_ISSUE_GONE)
        except NotFoundError:
            if issue_id.isdigit():
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
                raise InvalidResponseError(self._shape_message(what, data, "a list of issues"))
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
        gone = _NO_EVENT if event_id == "latest" else _EVENT_GONE
        if org and self._scoped_routes:
            scoped = ("organizations", org, "issues", issue_id, "events", event_id)
            try:
                data, _ = await self._get_json(scoped, kind="event", what=what, scoped=True, not_found=gone)
                return self._expect_object(data, what)
            except _NoScopedRoute:
                pass
        self._require_legacy_id(issue_id, org)
        path = ("issues", issue_id, "events", event_id)
        data, _ = await self._get_json(path, kind="event", what=what, not_found=gone)
        return self._expect_object(data, what)

    async def resolve_short_id(self, org: str, short_id: str) -> dict[str, Any]:
        """Sentry's short-id lookup: ``organizationSlug``, ``projectSlug``, ``groupId`` and ``group``."""
        what = f"short id {short_id} in organisation {org}"
        if not self._scoped_routes:
            raise self._no_scoped_api(short_id)
        path = ("organizations", org, "shortids", short_id)
        try:
            data, _ = await self._get_json(path, kind="other", what=what, scoped=True, not_found=_ISSUE_GONE)
        except _NoScopedRoute:
            raise self._no_scoped_api(short_id) from None
        return self._expect_object(data, what)

    async def check_access(self) -> str:
        """One cheap authenticated request that proves the base URL and token work; returns what it reached.

        Raises ``AuthError`` (401), ``PermissionDeniedError`` (403), ``NotFoundError`` (unknown organisation),
        ``NetworkError`` (unreachable) or ``InvalidResponseError`` (not a Sentry API).
        """
        if self.org and self._scoped_routes:
            what = f"organisation {self.org}"
            try:
                data, _ = await self._get_json(
                    ("organizations", self.org), kind="other", what=what, scoped=True, not_found=_ORG_GONE
                )
            except _NoScopedRoute:
                pass
            else:
                org = self._expect_object(data, what)
                return f"organisation {org.get('name') or self.org} ({org.get('slug') or self.org})"
        data, _ = await self._get_json((), kind="other", what="the API root")
        root = self._expect_object(data, "the API root")
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
                raise NetworkError(
                    self.scrub(
                        f"Could not reach Sentry at {self._origin} for {what}: {broken}"
                        f"{self._after_retries(attempt)}. Check the base URL, your network and any proxy or VPN, "
                        "then try again."
                    )
                ) from None
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
                raise InvalidResponseError(
                    f"{self._origin} answered with an HTML page instead of JSON (status {status}) for {what}: is "
                    "the base URL the Sentry root, e.g. https://sentry.io?",
                    status=status,
                )
            if 200 <= status < 300:
                return self._parse_json(answer, what), answer.headers
            raise self._status_error(status, what, answer, not_found, attempts=attempt)

    async def _exchange(self, url: httpx.URL, kind: EndpointClass, what: str) -> _Answer:
        """Send one GET (following same-origin redirects) within the pacing and concurrency limits."""
        await self._pacer.acquire(kind)
        answer: _Answer | None = None
        try:
            if self._token_rejected:  # checked after the wait: another request may have just been refused
                raise self._status_error(401, what, None, "", repeated=True)
            async with self._slots:
                started = time.monotonic()
                answer = await self._send(url, what)
                log.debug("GET %s -> %s (%.0f ms)", url.path, answer.status, (time.monotonic() - started) * 1000)
                return answer
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Broken(_describe_broken_connection(exc, self._timeout)) from None
        finally:
            report = RateLimitReport.from_headers(answer.headers) if answer is not None else None
            self._pacer.release(kind, report, answered=answer is not None)

    async def _send(self, url: httpx.URL, what: str) -> _Answer:
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

    async def _read(self, response: httpx.Response, what: str) -> _Answer:
        """The body, read no further than the size limit; an HTML page is never read."""
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if "html" in content_type:
            return _Answer(response.status_code, response.headers, b"", content_type, html=True)
        success = response.is_success
        limit = self._max_bytes if success else ERROR_BODY_BYTES
        declared = response.headers.get("content-length", "")
        if success and declared.isdigit() and int(declared) > limit:
            raise self._too_large(what)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > limit:
                if success:
                    raise self._too_large(what)
                break
        html = not content_type and bytes(body[:200]).lstrip().startswith(b"<")
        return _Answer(response.status_code, response.headers, bytes(body), content_type, html=html)

    # --- interpreting answers -----------------------------------------------------------------------------------

    def _parse_json(self, answer: _Answer, what: str) -> Any:
        if answer.content_type and "json" not in answer.content_type:
            raise InvalidResponseError(
                f"{self._origin} answered {what} with {answer.content_type} instead of JSON: is the base URL the "
                "Sentry root, e.g. https://sentry.io?",
                status=answer.status,
            )
        try:
            return json.loads(answer.body)
        except json.JSONDecodeError as exc:
            problem = f"{exc.msg} at byte {exc.pos} of {len(answer.body)}"
        except (ValueError, RecursionError) as exc:
            problem = type(exc).__name__
        raise InvalidResponseError(
            f"Sentry answered {what} with malformed or truncated JSON ({problem}). Try again; if it keeps "
            "happening, a proxy between you and Sentry may be cutting answers short.",
            status=answer.status,
        )

    def _expect_object(self, data: Any, what: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise InvalidResponseError(self._shape_message(what, data, "an object"))
        return data

    def _shape_message(self, what: str, data: Any, expected: str) -> str:
        names: dict[type, str] = {list: "a list", str: "a string", dict: "an object"}
        got = names.get(type(data), type(data).__name__)
        return (
            f"Sentry answered {what} with {got} where {expected} was expected: is the base URL the Sentry root, "
            "e.g. https://sentry.io, and the server a Sentry version this tool supports?"
        )

    def _too_large(self, what: str) -> InvalidResponseError:
        return InvalidResponseError(
            f"Sentry's answer for {what} is larger than the limit of {self._max_bytes:,} bytes, so it was not "
            "read. Raise max_response_bytes if this issue is really that large."
        )

    def _status_error(
        self,
        status: int,
        what: str,
        answer: _Answer | None,
        not_found: str,
        *,
        attempts: int = 0,
        wait: float = 0.0,
        repeated: bool = False,
    ) -> FetchError:
        detail = _detail(answer.body) if answer is not None else None
        said = f' Sentry said: "{detail}"' + ("" if detail.endswith((".", "!", "?")) else ".") if detail else ""
        kind: type[FetchError] = FetchError
        if status == 401:
            self._token_rejected = True
            again = " (not sent again: it was rejected for an earlier request)" if repeated else ""
            kind, message = (
                AuthError,
                (
                    f"Sentry rejected the token (401) when fetching {what}{again}: it is invalid, expired or revoked. "
                    f"Create a new one with the event:read scope (Sentry: Settings > Auth Tokens) and save it with "
                    f"{TOKEN_HELP}."
                ),
            )
        elif status == 403:
            kind, message = (
                PermissionDeniedError,
                (
                    f"Sentry refused access (403) to {what}: the token lacks the event:read or project:read scope, "
                    "or its user is not a member of the issue's project. Use a token with event:read, project:read "
                    "and org:read, or ask an organisation owner for access to the project."
                ),
            )
        elif status == 404:
            kind, message = NotFoundError, f"Sentry could not find {what} (404): {not_found or _NOT_FOUND}"
        elif status == 429:
            tail = f" and asks to wait {wait:.0f} s more" if wait > self._max_wait else self._after_retries(attempts)
            kind, message = (
                RateLimitedError,
                (
                    f"Sentry kept rate-limiting the requests for {what} (429){tail}. Wait a minute and try again, or "
                    "export fewer issues at once."
                ),
            )
        elif status >= 500:
            kind, message = (
                ServerError,
                (
                    f"Sentry failed with status {status} for {what}{self._after_retries(attempts)}. The server is "
                    "having trouble: try again later, and check its status page if it persists."
                ),
            )
        else:
            message = f"Sentry answered status {status} for {what}, which this tool does not know how to handle."
        return kind(self.scrub(message + said), status=status)

    def _after_retries(self, attempts: int) -> str:
        if attempts == 0:
            return ""
        return f", even after {attempts} {'retry' if attempts == 1 else 'retries'}"


_NOT_FOUND = "check the organisation slug and the issue id."
_ISSUE_GONE = (
    "check the organisation slug and the issue id. The issue may have been deleted or merged into another, or it "
    "lives in another region (on sentry.io, set the base URL to the region, e.g. https://de.sentry.io)."
)
_NO_EVENT = "the issue has no event left in its retention period."
_EVENT_GONE = "the event may be past its retention period, or belong to another issue; check the event id."
_ORG_GONE = (
    "check the organisation slug: it is the ORG in https://ORG.sentry.io or in /organizations/ORG/ of your Sentry URLs."
)
