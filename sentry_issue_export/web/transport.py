"""HTTP to one API server: the token pinned to its origin, pacing, retries, redirects and size caps.

One :class:`ApiTransport` serves one export. It knows nothing of endpoints; :mod:`.client` (Sentry's API) and the
Bugsink source build paths and read the JSON. What a caller may rely on:

- The token is only ever sent to the configured origin (scheme, host, port). URLs are built from that origin,
  redirects are never followed to another origin, and no message, log line or ``repr`` contains the token.
- Requests are paced by Sentry's ``X-Sentry-Rate-Limit-*`` headers per endpoint class before the server has to
  answer 429 (see :mod:`.rate_limits`); a 429, a 502/503/504, a timeout or a broken connection is retried with a
  wait. After one 401 the token is not sent again.
- Every response is checked before it is trusted: status, content type, size and JSON syntax. Each failure is a
  :class:`~sentry_issue_export.errors.FetchError` whose message says what to do (worded in :mod:`.responses`).
- A request may declare that the route might not exist on this server (``route_may_be_missing``): a 405 or a
  web page then raises :class:`RouteMissing`, so the caller can fall back to another route.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from ..errors import FetchError, InvalidResponseError
from ..settings import TIMEOUT_VARIABLE
from ..textsafe import whole_number
from .network import AsyncioTransport
from .origin import Origin, origin_of
from .rate_limits import Backoff, EndpointClass, RateLimitPacer, RateLimitReport, wait_after_429
from .responses import Meaning, ResponseJudge, ServerResponse, describe_broken_connection

log = logging.getLogger(__name__)

USER_AGENT = "export-sentry-issue-mcp"
RETRIED_STATUSES = frozenset({502, 503, 504})
MAX_REDIRECTS = 5
ERROR_BODY_BYTES = 64 * 1024
"""An error response is only read this far: enough for the server's ``detail``."""


class RouteMissing(Exception):
    """The server has no such route (it answered 405 or a web page): the caller may try another one."""


class _Broken(Exception):
    """The connection failed before a complete response arrived (retried)."""


def _origin_of_url(url: httpx.URL) -> Origin:
    """The origin of a URL httpx has parsed already (every request's): its host as httpx connects to it."""
    return Origin(url.scheme, url.raw_host.decode("ascii").lower(), url.port)


def path_prefix(base_url: str, api_path: str = "/api/0") -> str:
    """The path a server is served under (``/sentry`` in ``https://example.com/sentry``), usually empty.

    An API path suffix (``/api/0``) is dropped, and so is the path of a web page pasted as the base URL.
    """
    path = httpx.URL(base_url.strip()).path
    api_marker = "/" + api_path.strip("/").split("/", 1)[0] + "/"
    if api_marker in path + "/":
        return path.split(api_marker.rstrip("/"), 1)[0].rstrip("/")
    if any(part in path for part in ("/issues/", "/organizations/", "/settings/")):
        return ""
    return path.rstrip("/")


DEFAULT_CONCURRENCY = 8
"""Requests in flight at once for a server that advertises no concurrency limit."""
AUTO_CONCURRENCY_CEILING = 32
"""The most requests in flight an advertised limit may raise the default to (sentry.io advertises about 25)."""


class ApiTransport:
    """GETs JSON from one server's API for one export. Use as ``async with ApiTransport(...) as transport``."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        api_path: str = "/api/0",
        server: str = "Sentry",
        token_advice: str = "",
        max_concurrency: int | None = None,
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
        self.origin = origin_of(base_url)
        self.api_root = f"{self.origin}{path_prefix(base_url, api_path)}/{api_path.strip('/')}"
        self._token = token or None
        self._timeout = timeout
        self._retries = max(0, retries)
        self._max_bytes = max_response_bytes
        self._sleep = sleep
        self._clock = clock
        self._backoff = Backoff(base=backoff_base, cap=backoff_cap, jitter=jitter)
        self._max_wait = max_wait
        self._fixed_concurrency = max_concurrency is not None
        self._concurrency = max(1, max_concurrency or DEFAULT_CONCURRENCY)
        self._slots = asyncio.Semaphore(self._concurrency)
        self._pacer = RateLimitPacer(clock=clock, sleep=sleep, max_wait=max_wait)
        self._token_rejected = False
        self.responses = ResponseJudge(
            self.origin, self._token, max_response_bytes, max_wait, server=server, token_advice=token_advice
        )
        connections = max(self._concurrency, AUTO_CONCURRENCY_CEILING)
        self.network: AsyncioTransport | None = None
        """The transport on asyncio's sockets, unless a test passed its own ``transport``."""
        if transport is None:
            # No SSL context to build for a plain-HTTP server; for HTTPS, httpx's (system roots, or the
            # SSL_CERT_FILE and SSL_CERT_DIR of the environment).
            context = httpx.create_ssl_context() if self.origin.scheme == "https" else None
            transport = self.network = AsyncioTransport(ssl_context=context, max_connections=connections)
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=connections),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            verify=self.origin.scheme == "https",  # for the proxies httpx mounts from the environment
        )

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return f"ApiTransport(api_root={self.api_root!r}, token={token})"

    async def __aenter__(self) -> ApiTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def scrub(self, text: str) -> str:
        """``text`` with the token replaced, for any message built from foreign text."""
        return self.responses.scrub(text)

    def url(self, segments: Sequence[str], params: Sequence[tuple[str, str]] = ()) -> httpx.URL:
        """The API URL of ``segments`` (each quoted whole, so an id can never add a path segment). ``.``, ``..``
        and an empty id would still change the path once the URL is normalised: ``FetchError``."""
        for segment in segments:
            if segment.strip(".") == "":
                raise FetchError(
                    f"{segment!r} is not an id that can be asked for: it would change the address of the request."
                )
        path = "/".join(quote(segment, safe="") for segment in segments)
        return httpx.URL(f"{self.api_root}/{path}/" if path else f"{self.api_root}/", params=list(params) or None)

    async def get_json(
        self,
        segments: Sequence[str],
        *,
        kind: EndpointClass,
        what: str,
        params: Sequence[tuple[str, str]] = (),
        meaning: Meaning | None = None,
        route_may_be_missing: bool = False,
    ) -> tuple[Any, httpx.Headers]:
        """GET one API path and parse its JSON, retrying what is worth retrying.

        ``what`` names the request in messages ("issue 12 in organisation acme"); ``meaning`` says what a 403 or
        404 most likely means for it. Raises ``FetchError``, or ``RouteMissing`` when ``route_may_be_missing``.
        """
        return await self.get_url_json(
            self.url(segments, params), kind=kind, what=what, meaning=meaning, route_may_be_missing=route_may_be_missing
        )

    async def get_url_json(
        self,
        url: httpx.URL,
        *,
        kind: EndpointClass,
        what: str,
        meaning: Meaning | None = None,
        route_may_be_missing: bool = False,
    ) -> tuple[Any, httpx.Headers]:
        """:meth:`get_json` for a complete URL (a page link the server sent); refused outside the origin."""
        if _origin_of_url(url) != self.origin:
            raise InvalidResponseError(
                f"{self.origin} sent a link for {what} to {_origin_of_url(url)}; the token is only sent to the "
                "configured server, so it was not followed."
            )
        meaning = meaning or Meaning()
        attempt = 0
        while True:
            try:
                received = await self._exchange(url, kind, what, meaning)
            except _Broken as broken:
                if attempt < self._retries:
                    attempt += 1
                    await self._sleep(self._backoff.delay(attempt))
                    continue
                raise self.responses.unreachable(what, str(broken), attempt) from None
            status = received.status
            if status == 429:
                wait = wait_after_429(received.headers, attempt + 1, now=self._clock(), backoff=self._backoff)
                if attempt < self._retries and wait <= self._max_wait:
                    attempt += 1
                    log.debug("429 for %s; waiting %.2f s", what, wait)
                    self._pacer.hold(kind, wait)
                    continue
                raise self._status_error(status, what, received, meaning, attempts=attempt, wait=wait)
            if status in RETRIED_STATUSES:
                if attempt < self._retries:
                    attempt += 1
                    await self._sleep(self._backoff.delay(attempt))
                    continue
                raise self._status_error(status, what, received, meaning, attempts=attempt)
            if route_may_be_missing and (status == 405 or received.html):
                log.debug("%s has no route for %s (%s)", self.origin, what, status)
                raise RouteMissing(what)
            if received.html:
                raise self.responses.html_page(status, what)
            if 200 <= status < 300:
                return self.responses.json_of(received, what), received.headers
            raise self._status_error(status, what, received, meaning, attempts=attempt)

    async def _exchange(self, url: httpx.URL, kind: EndpointClass, what: str, meaning: Meaning) -> ServerResponse:
        """Send one GET (following same-origin redirects) within the pacing and concurrency limits."""
        await self._pacer.acquire(kind)
        received: ServerResponse | None = None
        try:
            if self._token_rejected:  # checked after the wait: another request may have just been refused
                raise self._status_error(401, what, None, meaning, repeated=True)
            async with self._slots:
                started = time.monotonic()
                async with asyncio.timeout(self._timeout):  # connect to last byte: a drip-fed body ends too
                    received = await self._send(url, what)
                log.debug("GET %s -> %s (%.0f ms)", url.path, received.status, (time.monotonic() - started) * 1000)
                return received
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise _Broken(describe_broken_connection(exc, self._timeout)) from None
        except TimeoutError:
            raise _Broken(
                f"it did not answer within {self._timeout:g} s, the deadline of one request from connecting to "
                f"the last byte (set it with --timeout or {TIMEOUT_VARIABLE})"
            ) from None
        finally:
            report = RateLimitReport.from_headers(received.headers) if received is not None else None
            self._pacer.release(kind, report, answered=received is not None)
            if report is not None and report.concurrent_limit:
                self._widen(report.concurrent_limit)

    def _widen(self, advertised: int) -> None:
        """Allow up to ``advertised`` requests in flight (at most the ceiling), unless the number is fixed."""
        wanted = min(advertised, AUTO_CONCURRENCY_CEILING)
        if self._fixed_concurrency or wanted <= self._concurrency:
            return
        for _ in range(wanted - self._concurrency):
            self._slots.release()  # an unbounded semaphore: each release adds one slot for good
        log.debug("%s allows %d requests at once; using up to %d", self.origin, advertised, wanted)
        self._concurrency = wanted

    async def _send(self, url: httpx.URL, what: str) -> ServerResponse:
        for _hop in range(MAX_REDIRECTS + 1):
            if _origin_of_url(url) != self.origin:  # never reached for URLs built here; a guard for redirects
                raise AssertionError("refusing to send a request outside the pinned origin")
            headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
            response = await self._http.send(self._http.build_request("GET", url, headers=headers), stream=True)
            try:
                if response.is_redirect and "location" in response.headers:
                    target = url.join(response.headers["location"])
                    if _origin_of_url(target) != self.origin:
                        raise InvalidResponseError(
                            f"{self.origin} redirected the request for {what} to {_origin_of_url(target)}. The "
                            "token is only sent to the configured server, so the redirect was not followed: if "
                            f"the server now lives at {_origin_of_url(target)}, set that as the base URL.",
                            status=response.status_code,
                        )
                    url = target
                    continue
                return await self._read(response, what)
            finally:
                await response.aclose()
        raise InvalidResponseError(f"{self.origin} redirected the request for {what} more than {MAX_REDIRECTS} times.")

    async def _read(self, response: httpx.Response, what: str) -> ServerResponse:
        """The body, read no further than the size limit; an HTML page is never read."""
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if "html" in content_type:
            return ServerResponse(response.status_code, response.headers, b"", content_type, html=True)
        success = response.is_success
        limit = self._max_bytes if success else ERROR_BODY_BYTES
        declared = whole_number(response.headers.get("content-length"))
        if success and declared is not None and declared > limit:
            raise self.responses.too_large(what)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > limit:
                if success:
                    raise self.responses.too_large(what)
                break
        html = not content_type and bytes(body[:200]).lstrip().startswith(b"<")
        return ServerResponse(response.status_code, response.headers, bytes(body), content_type, html=html)

    def _status_error(
        self,
        status: int,
        what: str,
        received: ServerResponse | None,
        meaning: Meaning,
        *,
        attempts: int = 0,
        wait: float = 0.0,
        repeated: bool = False,
    ) -> Exception:
        """The error for a failed status; a 401 also stops the token from being sent again by this transport."""
        if status == 401:
            self._token_rejected = True
        body = received.body if received is not None else None
        return self.responses.status_error(status, what, body, meaning, attempts=attempts, wait=wait, repeated=repeated)
