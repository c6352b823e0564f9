"""A fake Sentry API on 127.0.0.1 for tests and benchmarks: real sockets, real paths, real quirks.

``FakeSentry`` serves issues and events you add, on the organisation-scoped and legacy paths, with Sentry's
bodies for 401/403/404, its rate-limit headers and 429s (per endpoint class, fixed one-second windows aligned to
epoch seconds), and a GlitchTip mode. Besides issue and event details it answers what Sentry says about an issue
across its events: its tags with their top values (``key=``, ``limit=``; counted from the issue's events unless
given), its events list (newest first, the light shape, ``per_page`` and cursor pages), its activity, and its
``stats`` in the details (24 hourly and 30 daily buckets) and in the index (``groupStatsPeriod``: 24h by
default, 14d, or none). Faults are injected per request with :meth:`FakeSentry.inject`::

    with FakeSentry(rate_limits=SENTRY_IO_LIMITS, latency=0.01) as sentry:
        issue_id = sentry.add_synthetic_issues(1)[0]
        sentry.inject(502, times=2)           # the next two requests fail with 502
        ...
        assert all(r.authorization == f"Bearer {TOKEN}" for r in sentry.requests)

Every request is logged in ``requests`` (method, path, query, headers, arrival time, status, endpoint class).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

TOKEN = "sntryu_" + "5e" * 32
"""The token a ``FakeSentry`` accepts unless told otherwise."""
ORG = "acme"
SENTRY_IO_LIMITS: dict[str, int] = {"issue": 5, "event": 15, "index": 5, "tags": 10, "events": 40, "activity": 40}
"""sentry.io's limits per second: issue details, event details, the issue index, an issue's tags (Sentry's own
override); an issue's events list and activity have no override, so the default applies, which sentry.io does
not publish: 40 stands in for it, well below what it allows."""
SENTRY_IO_CONCURRENCY: dict[str, int] = {"tags": 10}
"""Concurrent limits per endpoint class where sentry.io sets one below the general 25."""
ALL_SCOPES = frozenset({"event:read", "project:read", "org:read", "member:read", "team:read"})

FAULTS = frozenset(
    {
        "html",
        "html500",
        "malformed",
        "truncated",
        "wrong_shape",
        "drop",
        "drip",
        "hang",
        "slow",
        "oversized",
        "unsized",
    }
)
"""Injectable faults besides plain HTTP statuses (ints): see :meth:`FakeSentry.inject`."""

LIGHT_ISSUE_DROPS = (
    "activity",
    "seenBy",
    "participants",
    "pluginActions",
    "pluginIssues",
    "pluginContexts",
    "userReportCount",
    "firstRelease",
    "lastRelease",
    "tags",
)
"""Keys the issue index leaves out compared with the issue details endpoint."""

NO_EVENT_DETAIL = "No matching event found, try changing the environments, date range, or query."
HTML_PAGE = (
    b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>GlitchTip</title></head>"
    b"<body><app-root></app-root><script src='/main.js'></script></body></html>"
)
GATEWAY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


@dataclass
class RecordedRequest:
    """One request as the fake received it. ``headers`` keys are lower-case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    started: float
    """Arrival time, epoch seconds."""
    endpoint: str = "other"
    """``issue``, ``event``, ``index`` or ``other``: the rate-limit class."""
    status: int | None = None
    """The status answered; ``None`` for a dropped or unanswered request."""

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    mode: str = "normal"
    """``normal``, ``drop`` (close mid-body), ``drip`` (a byte at a time), ``unsized`` (no Content-Length,
    close-delimited) or ``silent``."""


@dataclass
class _Fault:
    kind: str | int
    times: int
    path_contains: str | None
    path_endswith: str | None = None

    def matches(self, path: str) -> bool:
        return (self.path_contains is None or self.path_contains in path) and (
            self.path_endswith is None or path.endswith(self.path_endswith)
        )


def _json(status: int, value: Any, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, json.dumps(value).encode(), headers=headers or {})


class FakeSentry:
    """A Sentry API server on a free loopback port. Use as a context manager, or call ``close()``.

    Attributes a test may change at any time: ``latency`` (seconds per answer), ``rate_limits``
    (endpoint class -> requests per second; empty means unlimited and no headers), ``concurrent_limit``,
    ``retry_after`` (seconds sent with each 429, like a proxy; ``None`` for none, as Sentry does),
    ``rate_limit_headers``, ``glitchtip``, ``glitchtip_html_status``, ``index_supported`` (False: the
    index answers 404), ``index_ignores_group`` (the index lists every issue, as GlitchTip's does),
    ``redirect_to`` (answer every request with a 302 to this origin), ``oversized_bytes``, ``slow_seconds``,
    ``repeat_cursor`` (the search's next page link keeps naming the same cursor), ``endless_search`` (``junk``:
    every search page holds one issue without an id, ``same``: every page holds the same issue; either way with a
    fresh cursor and ``results="true"`` forever), ``x_hits`` (the search's ``X-Hits`` header as given),
    ``drip_seconds`` (the pause between the bytes of a ``drip`` answer), ``max_page`` (the most items a page
    holds; Sentry's is 100), ``concurrent_limits`` (endpoint class -> concurrent limit, overriding
    ``concurrent_limit``; SENTRY_IO_CONCURRENCY for sentry.io's). ``peak_in_flight`` is the most requests it
    answered at once.
    """

    def __init__(
        self,
        *,
        org: str = ORG,
        tokens: Iterable[str] | Mapping[str, Iterable[str]] = (TOKEN,),
        rate_limits: Mapping[str, int] | None = None,
        latency: float = 0.0,
        glitchtip: bool = False,
        retry_after: float | None = None,
        concurrent_limit: int = 25,
    ) -> None:
        self.org = org
        self.tokens: dict[str, frozenset[str]] = (
            {t: frozenset(s) for t, s in tokens.items()}
            if isinstance(tokens, Mapping)
            else dict.fromkeys(tokens, ALL_SCOPES)
        )
        self.rate_limits: dict[str, int] = dict(rate_limits or {})
        self.latency = latency
        self.glitchtip = glitchtip
        self.glitchtip_html_status = 200
        self.retry_after = retry_after
        self.concurrent_limit = concurrent_limit
        self.concurrent_limits: dict[str, int] = dict(SENTRY_IO_CONCURRENCY) if rate_limits else {}
        self.rate_limit_headers = True
        self.index_supported = True
        self.index_ignores_group = glitchtip  # GlitchTip's organisation issue list ignores group=
        self.repeat_cursor = False
        self.endless_search: str | None = None
        self.x_hits: str | None = None
        self.drip_seconds = 1.0
        self.max_page = 100
        self.redirect_to: str | None = None
        self.oversized_bytes = 2 * 1024 * 1024
        self.slow_seconds = 1.0
        self.requests: list[RecordedRequest] = []
        self.peak_in_flight = 0
        """The most requests it was answering at once."""

        self._issues: dict[str, dict[str, Any]] = {}
        self._issue_org: dict[str, str] = {}
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._tags: dict[str, list[dict[str, Any]]] = {}
        self._short_ids: dict[str, str] = {}
        self._forbidden: set[str] = set()
        self._merged: dict[str, str] = {}
        self._faults: list[_Fault] = []
        self._window_counts: dict[tuple[str, int], int] = {}
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-sentry", daemon=True
        )
        self._thread.start()

    # --- lifecycle ------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The origin, e.g. ``http://127.0.0.1:54321``: what a user configures as the base URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSentry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- data -----------------------------------------------------------------------------------------------

    def add_issue(
        self,
        issue: Mapping[str, Any],
        event: Mapping[str, Any] | None = None,
        *,
        events: Iterable[Mapping[str, Any]] = (),
        org: str | None = None,
        tags: Iterable[Mapping[str, Any]] | None = None,
    ) -> str:
        """Serve ``issue`` with its events (oldest first; ``event`` is appended as the latest). Returns its id.

        ``tags`` is what ``…/tags/`` answers, in Sentry's shape; by default it is counted from the events' tags.
        """
        stored = copy.deepcopy(dict(issue))
        issue_id = str(stored["id"])
        all_events = [copy.deepcopy(dict(e)) for e in events] + ([copy.deepcopy(dict(event))] if event else [])
        for item in all_events:
            item.setdefault("groupID", issue_id)
        with self._lock:
            self._issues[issue_id] = stored
            self._issue_org[issue_id] = org or self.org
            self._events[issue_id] = all_events
            self._tags[issue_id] = copy.deepcopy(list(tags)) if tags is not None else _count_tags(all_events)
            if stored.get("shortId"):
                self._short_ids[str(stored["shortId"]).upper()] = issue_id
        return issue_id

    def add_samples(self) -> list[str]:
        """Serve every bundled sample payload (with its tags and recent events when it has them); returns their
        issue ids."""
        from sentry_issue_export.samples import SAMPLE_NAMES, load_sample

        ids = []
        for name in SAMPLE_NAMES:
            sample = load_sample(name)
            latest = sample.get("event")
            latest_id = (latest or {}).get("eventID")
            older = [item for item in reversed(sample.get("events") or []) if item.get("eventID") != latest_id]
            ids.append(self.add_issue(sample["issue"], latest, events=older, tags=sample.get("tags")))
        return ids

    def add_synthetic_issues(self, count: int, *, start: int = 4_100_000_000) -> list[str]:
        """Serve ``count`` generated issues, each with one event; returns their ids."""
        return [self.add_issue(*synthetic_issue(start + n, org=self.org)) for n in range(count)]

    def forbid(self, issue_id: str) -> None:
        """Answer 403 for this issue (its project is one the token's user is not a member of)."""
        self._forbidden.add(str(issue_id))

    def merge(self, issue_id: str, into: str) -> None:
        """Merge ``issue_id`` into ``into``: the old id keeps answering, with the surviving issue."""
        with self._lock:
            self._merged[str(issue_id)] = str(into)
            self._issues.pop(str(issue_id), None)

    # --- faults and statistics ------------------------------------------------------------------------------

    def inject(
        self, fault: str | int, *, times: int = 1, path_contains: str | None = None, path_endswith: str | None = None
    ) -> None:
        """Break the next ``times`` requests (whose path contains ``path_contains`` and ends with
        ``path_endswith``, when given).

        ``fault`` is an HTTP status (502 and 504 come as a gateway's HTML page, others as Sentry JSON) or one of
        ``FAULTS``: ``html`` / ``html500`` (a web page with status 200 / 500), ``malformed`` (not JSON),
        ``truncated`` (the JSON cut in half, with a matching Content-Length), ``wrong_shape`` (the answer
        wrapped in a list), ``drop`` (the connection closes mid-body), ``drip`` (the body one byte per
        ``drip_seconds``), ``hang`` (never answers), ``slow`` (answers after ``slow_seconds``), ``oversized``
        (padded to ``oversized_bytes``, with Content-Length) and ``unsized`` (padded, without Content-Length).
        Injected answers skip authentication and rate limits.
        """
        if not isinstance(fault, int) and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose an HTTP status or one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.append(_Fault(fault, times, path_contains, path_endswith))

    def count(self, *, status: int | None = None, endpoint: str | None = None, path_contains: str = "") -> int:
        """How many logged requests match."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (status is None or r.status == status)
                and (endpoint is None or r.endpoint == endpoint)
                and path_contains in r.path
            )

    @property
    def rate_limited(self) -> int:
        """How many 429s the server sent."""
        return self.count(status=429)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # --- serving --------------------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        segments = [s for s in split.path.split("/") if s]
        api = segments[2:] if segments[:2] == ["api", "0"] else None
        record = RecordedRequest(
            method=handler.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in handler.headers.items()},
            started=time.time(),
            endpoint=_endpoint_class(api or []),
        )
        with self._lock:
            self.requests.append(record)
            self._in_flight[record.endpoint] = self._in_flight.get(record.endpoint, 0) + 1
            self.peak_in_flight = max(self.peak_in_flight, sum(self._in_flight.values()))
        try:
            reply = self._reply(handler, record, api, split.query)
            record.status = reply.status if reply.mode in {"normal", "unsized"} else None
            _write(handler, reply)
        finally:
            with self._lock:
                self._in_flight[record.endpoint] -= 1

    def _reply(
        self, handler: BaseHTTPRequestHandler, record: RecordedRequest, api: list[str] | None, query: str
    ) -> _Reply:
        fault = self._take_fault(record.path)
        if fault == "hang":
            self._stopping.wait(60)
            return _Reply(0, mode="silent")
        if self.redirect_to:
            location = self.redirect_to.rstrip("/") + record.path + (f"?{query}" if query else "")
            return _Reply(302, b"", "text/plain", {"Location": location})
        if fault is not None:
            return self._faulty_reply(fault, record, api)
        refusal = self._refuse(record, api)
        limit_headers, over = ({}, None) if refusal else self._count_rate_limit(record.endpoint)
        if self.latency:
            time.sleep(self.latency)
        reply = refusal or over or self._route(record, api)
        if self.rate_limit_headers:
            reply.headers.update(limit_headers)
        return reply

    def _take_fault(self, path: str) -> str | int | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(path):
                    fault.times -= 1
                    return fault.kind
        return None

    def _faulty_reply(self, fault: str | int, record: RecordedRequest, api: list[str] | None) -> _Reply:
        if self.latency:
            time.sleep(self.latency)
        if isinstance(fault, int):
            if fault in {502, 504}:
                return _Reply(fault, GATEWAY_PAGE, "text/html")
            if fault == 429:
                return _json(429, _too_many(5), {"Retry-After": str(self.retry_after)} if self.retry_after else {})
            return _json(fault, {"detail": "Internal Error" if fault >= 500 else "Fault injected by the test"})
        if fault in {"html", "html500"}:
            return _Reply(500 if fault == "html500" else 200, HTML_PAGE, "text/html; charset=utf-8")
        if fault == "malformed":
            return _Reply(200, b'{"id": "1", "title": }')
        if fault == "slow":
            time.sleep(self.slow_seconds)
        reply = self._route(record, api)
        if fault == "truncated":
            reply.body = reply.body[: len(reply.body) // 2]
        elif fault == "wrong_shape":
            reply.body = b"[" + reply.body + b"]"
        elif fault in {"drop", "drip"}:
            reply.mode = fault
        elif fault in {"oversized", "unsized"}:
            value = json.loads(reply.body)
            padded = {"padding": "x" * self.oversized_bytes, "value": value}
            reply.body = json.dumps(padded).encode()
            reply.mode = "unsized" if fault == "unsized" else "normal"
        return reply

    def _refuse(self, record: RecordedRequest, api: list[str] | None) -> _Reply | None:
        """401 or 403 for the token, with Sentry's (or GlitchTip's) bodies; ``None`` when it may pass."""
        if api == []:
            return None  # the API root answers anyone, with "auth": null for no token
        scheme, _, token = (record.authorization or "").partition(" ")
        if not record.authorization:
            detail = "Unauthorized" if self.glitchtip else "Authentication credentials were not provided."
            return _json(401, {"detail": detail})
        if scheme.lower() != "bearer" or token not in self.tokens:
            return _json(401, {"detail": "Unauthorized" if self.glitchtip else "Invalid token"})
        if not _scopes_needed(api or []) <= self.tokens[token]:
            return self._forbidden_reply()
        return None

    def _forbidden_reply(self) -> _Reply:
        detail = "Permission denied" if self.glitchtip else "You do not have permission to perform this action."
        return _json(403, {"detail": detail})

    def _count_rate_limit(self, endpoint: str) -> tuple[dict[str, str], _Reply | None]:
        """Count a request in its fixed one-second window; headers to send, and a 429 when over the limit."""
        limit = None if self.glitchtip else self.rate_limits.get(endpoint)
        if not limit:
            return {}, None
        window = int(time.time())
        concurrent_limit = self.concurrent_limits.get(endpoint, self.concurrent_limit)
        with self._lock:
            used = self._window_counts[(endpoint, window)] = self._window_counts.get((endpoint, window), 0) + 1
            concurrent = self._in_flight.get(endpoint, 0)
        headers = {
            "X-Sentry-Rate-Limit-Limit": str(limit),
            "X-Sentry-Rate-Limit-Remaining": str(max(0, limit - used)),
            "X-Sentry-Rate-Limit-Reset": str(window + 1),
            "X-Sentry-Rate-Limit-ConcurrentLimit": str(concurrent_limit),
            "X-Sentry-Rate-Limit-ConcurrentRemaining": str(max(0, concurrent_limit - concurrent)),
        }
        if used <= limit and concurrent <= concurrent_limit:
            return headers, None
        extra = {"Retry-After": f"{self.retry_after:g}"} if self.retry_after is not None else {}
        body = (
            _too_many(limit)
            if used > limit
            else "You are attempting to go above the allowed concurrency for this endpoint. "
            f"Concurrency limit is {concurrent_limit}"
        )
        return headers, _json(429, body, extra)

    # --- routes ---------------------------------------------------------------------------------------------

    def _route(self, record: RecordedRequest, api: list[str] | None) -> _Reply:
        if record.method != "GET":
            return _json(405, {"detail": f'Method "{record.method}" not allowed.'})
        if api is None:
            return _Reply(200, HTML_PAGE, "text/html; charset=utf-8")  # the web front end
        if self.glitchtip and api[:1] == ["organizations"] and len(api) >= 3:
            return self._glitchtip_scoped(record, api)
        q = record.query
        match api:
            case []:
                return self._root(record)
            case ["organizations"]:
                return _json(200, [self._organization()])
            case ["organizations", org]:
                return _json(200, self._organization()) if org == self.org else self._not_found()
            case ["organizations", org, "issues"]:
                return self._index(org, q)
            case ["organizations", org, "issues", key]:
                return self._issue(key, org)
            case ["organizations", org, "issues", key, "events"]:
                return self._event_list(key, org, q)
            case ["organizations", org, "issues", key, "tags"]:
                return self._tag_list(key, org, q)
            case ["organizations", org, "issues", key, "activities"]:
                return self._activity(key, org)
            case ["organizations", org, "issues", key, "events", event_id]:
                return self._event(key, org, event_id)
            case ["organizations", org, "shortids", short_id]:
                return self._short_id(org, short_id)
            case ["issues", key] if key.isdigit():
                return self._issue(key, None)
            case ["issues", key, "events"] if key.isdigit():
                return self._event_list(key, None, q)
            case ["issues", key, "tags"] if key.isdigit():
                return self._tag_list(key, None, q)
            case ["issues", key, "activities"] if key.isdigit() and not self.glitchtip:
                return self._activity(key, None)
            case ["issues", key, "events", event_id] if key.isdigit():
                return self._event(key, None, event_id)
            case ["projects", org, project, "issues"]:
                found = [i for i in self._org_issues(org) if (i.get("project") or {}).get("slug") == project]
                return self._page(record.path, q, [self._light(i) for i in found], 25)
        return self._not_found()

    def _glitchtip_scoped(self, record: RecordedRequest, api: list[str]) -> _Reply:
        match api:
            case ["organizations", _org, "issues", _key]:
                return _json(405, {"detail": 'Method "GET" not allowed.'})
            case ["organizations", org, "issues"] if self.index_ignores_group:
                # GlitchTip's list ignores group= but searches with query=, as Sentry does
                found = self._search(org, {k: v for k, v in record.query.items() if k != "group"})
                if isinstance(found, _Reply):
                    return found
                return self._page(record.path, record.query, [self._shape(i) for i in found], 25)
        return _Reply(self.glitchtip_html_status, HTML_PAGE, "text/html; charset=utf-8")

    def _root(self, record: RecordedRequest) -> _Reply:
        scheme, _, token = (record.authorization or "").partition(" ")
        if not record.authorization:
            return _json(200, {"version": "0", "auth": None, "user": None})
        if scheme.lower() != "bearer" or token not in self.tokens:
            return _json(401, {"detail": "Unauthorized" if self.glitchtip else "Invalid token"})
        user = {"id": "1", "email": "dev@example.com", "username": "dev", "name": "Dev"}
        return _json(200, {"version": "0", "auth": {"scopes": sorted(self.tokens[token])}, "user": user})

    def _organization(self) -> dict[str, Any]:
        return {
            "id": "1",
            "slug": self.org,
            "name": self.org.title(),
            "links": {"organizationUrl": self.url, "regionUrl": self.url},
        }

    def _not_found(self, detail: str = "The requested resource does not exist") -> _Reply:
        return _json(404, {"detail": "Not Found" if self.glitchtip else detail})

    def _lookup(self, key: str, org: str | None) -> tuple[str, dict[str, Any]] | _Reply:
        """The issue for a numeric id (following merges) or, on scoped paths, a short id; or the error reply."""
        with self._lock:
            issue_id = key if key.isdigit() else (self._short_ids.get(key.upper()) if org else None)
            issue_id = self._merged.get(issue_id or "", issue_id)
            issue = self._issues.get(issue_id or "")
            issue_org = self._issue_org.get(issue_id or "")
        if issue is None or issue_id is None or (org is not None and org != issue_org):
            return self._not_found()
        if issue_id in self._forbidden:
            return self._forbidden_reply()
        return issue_id, issue

    def _shape(self, issue: dict[str, Any]) -> dict[str, Any]:
        issue = copy.deepcopy(issue)
        if self.glitchtip:
            for key in ("assignedTo", "substatus", "priority"):
                issue.pop(key, None)
            slug = (issue.get("project") or {}).get("slug", "project")
            issue["permalink"] = f"{self.url}/{slug}/issues/{issue['id']}"
        return issue

    def _light(self, issue: dict[str, Any], stats_period: str | None = None) -> dict[str, Any]:
        """The index's shape of an issue: without activity or releases, and with ``stats`` for one period only
        (``groupStatsPeriod``: 24 hourly buckets by default, the last 14 daily ones for ``14d``, none for
        ``""``)."""
        light = self._shape(issue)
        for key in LIGHT_ISSUE_DROPS:
            light.pop(key, None)
        stats = light.pop("stats", None)
        if not isinstance(stats, dict) or self.glitchtip:
            return light
        if stats_period in (None, "24h") and "24h" in stats:
            light["stats"] = {"24h": stats["24h"]}
        elif stats_period == "14d" and "30d" in stats:
            light["stats"] = {"14d": stats["30d"][-14:]}
        return light

    def _issue(self, key: str, org: str | None) -> _Reply:
        found = self._lookup(key, org)
        return found if isinstance(found, _Reply) else _json(200, self._shape(found[1]))

    def _org_issues(self, org: str) -> list[dict[str, Any]]:
        with self._lock:
            ids = [i for i, o in self._issue_org.items() if o == org and i in self._issues]
            return [self._issues[i] for i in sorted(ids, key=int, reverse=True)]

    def _index(self, org: str, query: dict[str, list[str]]) -> _Reply:
        if not self.index_supported:
            return self._not_found()
        if org != self.org:
            return self._not_found()
        groups = query.get("group", [])
        period = (query.get("groupStatsPeriod") or [None])[0]
        if period not in (None, "", "24h", "14d", "auto"):
            return _json(400, {"detail": "Invalid groupStatsPeriod. Valid choices are '', '24h', '14d', and 'auto'."})
        if not groups:
            if self.endless_search:
                return self._endless_page(org, query, period)
            found = self._search(org, query)
            if isinstance(found, _Reply):
                return found
            light = [self._light(issue, period) for issue in found]
            reply = self._page(f"/api/0/organizations/{org}/issues/", query, light, 25)
            if self.x_hits is not None:
                reply.headers["X-Hits"] = self.x_hits
            return reply
        if len(groups) > 100:
            return _json(400, {"detail": "Too many groups requested."})
        with self._lock:
            found = [self._issues[g] for g in groups if g in self._issues and self._issue_org.get(g) == org]
        if any(str(issue["id"]) in self._forbidden for issue in found):
            return self._forbidden_reply()  # Sentry refuses the whole call
        return _json(200, [self._light(issue, period) for issue in found])

    def _endless_page(self, org: str, query: Mapping[str, list[str]], period: str | None) -> _Reply:
        """A search that never ends: a fresh cursor and ``results="true"`` on every page, and pages that hold
        nothing usable (``junk``) or the same issue again (``same``)."""
        offset = _decode_cursor((query.get("cursor") or [""])[0], self.glitchtip) + 1
        if self.endless_search == "junk":
            page: list[dict[str, Any]] = [{"id": None, "title": "no id"}]
        else:
            page = [self._light(self._org_issues(org)[0], period)]
        token = _encode_cursor(offset, self.glitchtip)
        url = f"{self.url}/api/0/organizations/{org}/issues/?{urlencode({'cursor': token})}"
        link = f'<{url}>; rel="next"; results="true"; cursor="{token}"'
        return _json(200, page, {"Link": link, "X-Hits": self.x_hits or "200"})

    def _search(self, org: str, query: Mapping[str, list[str]]) -> list[dict[str, Any]] | _Reply:
        """Sentry's issue search, as far as tests need it: ``is:``, ``level:``, ``project:`` and free text in the
        query, numeric ``project`` ids, ``statsPeriod`` and ``sort``; a query it cannot parse is a 400."""
        period = (query.get("statsPeriod") or [""])[0]
        if period and not re.fullmatch(r"\d+[smhdw]", period):
            return _json(
                400, {"detail": f"Invalid stats_period. Valid choices are '', '24h', and '14d'. Got {period!r}."}
            )
        issues = self._org_issues(org)
        projects = set(query.get("project", [])) - {"-1"}
        if projects:
            issues = [i for i in issues if str((i.get("project") or {}).get("id")) in projects]
        for token in " ".join(query.get("query", [])).split():
            name, colon, value = token.partition(":")
            if not colon:
                issues = [i for i in issues if token.lower() in str(i.get("title", "")).lower()]
            elif name == "is" and value in ("unresolved", "resolved", "ignored"):
                issues = [i for i in issues if i.get("status") == value]
            elif name == "level":
                issues = [i for i in issues if i.get("level") == value]
            elif name == "project":
                slugs = set(value.strip("[]").split(","))
                issues = [i for i in issues if (i.get("project") or {}).get("slug") in slugs]
            else:
                return _json(400, {"detail": f"Error parsing search query: invalid value for {name!r}: {value!r}"})
        keys = {"date": "lastSeen", "new": "firstSeen", "freq": "count", "user": "userCount"}
        sort = (query.get("sort") or ["date"])[0]
        if sort not in keys:
            return _json(400, {"detail": f"Invalid sort: {sort!r}."})
        if sort in ("freq", "user"):
            return sorted(issues, key=lambda i: (-int(i.get(keys[sort]) or 0), -int(i["id"])))
        return sorted(issues, key=lambda i: (str(i.get(keys[sort]) or ""), int(i["id"])), reverse=True)

    def _event_list(self, key: str, org: str | None, query: dict[str, list[str]]) -> _Reply:
        """An issue's events, newest first, in the events list's light shape (``full=true``: whole events), in
        pages of ``per_page`` (at most 100; GlitchTip ignores it and pages by 50)."""
        found = self._lookup(key, org)
        if isinstance(found, _Reply):
            return found
        events = list(reversed(self._events.get(found[0], [])))  # newest first, as Sentry lists them
        if query.get("full", [""])[0] != "true":
            events = [_light_event(event) for event in events]
        path = f"/api/0/issues/{found[0]}/events/"
        size, size_param = (50, None) if self.glitchtip else (100, "per_page")
        return self._page(path, query, events, size, size_param=size_param)

    def _tag_list(self, key: str, org: str | None, query: dict[str, list[str]]) -> _Reply:
        """An issue's tags across its events: every key (or the ``key=`` ones) with its top ``limit`` values (10,
        or 9 when keys are named, as Sentry does). GlitchTip lists every value, with ``uniqueValues`` and without
        the values' dates."""
        found = self._lookup(key, org)
        if isinstance(found, _Reply):
            return found
        with self._lock:
            tags = copy.deepcopy(self._tags.get(found[0], []))
        keys = [name for name in query.get("key", []) if name]
        if keys:
            tags = [tag for tag in tags if tag.get("key") in keys]
        if self.glitchtip:
            for tag in tags:
                tag["uniqueValues"] = len(tag.get("topValues") or [])
                for value in tag.get("topValues") or []:
                    value.pop("firstSeen", None)
                    value.pop("lastSeen", None)
            return _json(200, tags)
        try:
            limit = int((query.get("limit") or ["9" if keys else "10"])[0])
        except ValueError:
            return _json(400, {"detail": "Invalid limit"})
        for tag in tags:
            tag["topValues"] = (tag.get("topValues") or [])[: max(limit, 0)]
        return _json(200, tags)

    def _activity(self, key: str, org: str | None) -> _Reply:
        found = self._lookup(key, org)
        if isinstance(found, _Reply):
            return found
        return _json(200, {"activity": copy.deepcopy(found[1].get("activity") or [])})

    def _event(self, key: str, org: str | None, event_id: str) -> _Reply:
        found = self._lookup(key, org)
        if isinstance(found, _Reply):
            return found
        events = self._events.get(found[0], [])
        chosen: dict[str, Any] | None
        if event_id in {"latest", "recommended"}:
            chosen = events[-1] if events else None
        elif event_id == "oldest":
            chosen = events[0] if events else None
        else:
            chosen = next((e for e in events if event_id in {e.get("id"), e.get("eventID")}), None)
        if chosen is None:
            return self._not_found(
                NO_EVENT_DETAIL if event_id in {"latest", "oldest", "recommended"} else "Event not found"
            )
        event = copy.deepcopy(chosen)
        return _json(200, _as_glitchtip_event(event) if self.glitchtip else event)

    def _short_id(self, org: str, short_id: str) -> _Reply:
        found = self._lookup(short_id, org)
        if isinstance(found, _Reply):
            return found
        issue = self._shape(found[1])
        return _json(
            200,
            {
                "organizationSlug": org,
                "projectSlug": (issue.get("project") or {}).get("slug"),
                "groupId": found[0],
                "shortId": issue.get("shortId"),
                "group": issue,
            },
        )

    def _page(
        self,
        path: str,
        query: Mapping[str, list[str]],
        items: list[Any],
        default_size: int,
        *,
        size_param: str | None = "limit",
    ) -> _Reply:
        """One page of ``items`` with a Sentry ``Link`` header (GlitchTip: opaque cursors). The page size is the
        ``size_param`` query parameter (the issue index's ``limit``, a list's ``per_page``), else the default."""
        asked = query.get(size_param) if size_param else None
        size = min(self.max_page, int((asked or [str(default_size)])[0]))
        cursor = (query.get("cursor") or [""])[0]
        offset = _decode_cursor(cursor, self.glitchtip)
        page = items[offset : offset + size]
        links = []
        following = offset if self.repeat_cursor and offset else offset + size  # a server stuck on one cursor
        for rel, at, results in (
            ("previous", max(0, offset - size), offset > 0),
            ("next", following, offset + size < len(items)),
        ):
            token = _encode_cursor(at, self.glitchtip)
            url = f"{self.url}{path}?{urlencode({'cursor': token})}"
            links.append(f'<{url}>; rel="{rel}"; results="{str(results).lower()}"; cursor="{token}"')
        return _json(200, page, {"Link": ", ".join(links), "X-Hits": str(len(items))})


def _as_glitchtip_event(event: dict[str, Any]) -> dict[str, Any]:
    """GlitchTip's variant of Sentry's event JSON: integer projectID, null errors, snake_case context lines."""
    if str(event.get("projectID", "")).isdigit():
        event["projectID"] = int(event["projectID"])
    event["errors"] = event.get("errors") or None
    for entry in event.get("entries") or []:
        if not isinstance(entry, dict) or entry.get("type") != "exception":
            continue
        for value in (entry.get("data") or {}).get("values") or []:
            value.pop("module", None)
            for frame in ((value.get("stacktrace") or {}).get("frames")) or []:
                frame.pop("colNo", None)
                lines = dict((n, text) for n, text in frame.get("context") or [] if isinstance(n, int))
                frame["context_line"] = lines.get(frame.get("lineNo"))
    return event


def _scopes_needed(api: list[str]) -> frozenset[str]:
    """The scopes Sentry's permission classes ask of a token for this API path.

    Issues, their events and issue lists need ``event:read``; the organisation itself and short-id lookups need
    ``org:read`` (an issue path keyed by a short id needs both); project details need ``project:read``.
    """
    match api:
        case ["organizations"] | ["organizations", _] | ["organizations", _, "shortids", *_]:
            return frozenset({"org:read"})
        case ["organizations", _, "issues", key, *_] if not key.isdigit():
            return frozenset({"event:read", "org:read"})
        case ["projects", _, _]:
            return frozenset({"project:read"})
        case ["organizations", _, "issues", *_] | ["issues", *_] | ["projects", _, _, "issues", *_]:
            return frozenset({"event:read"})
    return frozenset()


def _endpoint_class(api: list[str]) -> str:
    match api:
        case ["organizations", _, "issues", _] | ["issues", _]:
            return "issue"
        case ["organizations", _, "issues", _, "events", _] | ["issues", _, "events", _]:
            return "event"
        case ["organizations", _, "issues"]:
            return "index"
        case ["organizations", _, "issues", _, "tags"] | ["issues", _, "tags"]:
            return "tags"
        case ["organizations", _, "issues", _, "events"] | ["issues", _, "events"]:
            return "events"
        case ["organizations", _, "issues", _, "activities"] | ["issues", _, "activities"]:
            return "activity"
    return "other"


LIGHT_EVENT_KEYS = (
    "id",
    "event.type",
    "groupID",
    "eventID",
    "projectID",
    "message",
    "title",
    "location",
    "culprit",
    "user",
    "tags",
    "platform",
    "dateCreated",
    "crashFile",
    "metadata",
)
"""What the events list holds of each event without ``full=true`` (Sentry's SimpleEventSerializer)."""


def _light_event(event: dict[str, Any]) -> dict[str, Any]:
    light = {key: copy.deepcopy(event.get(key)) for key in LIGHT_EVENT_KEYS}
    light["event.type"] = event.get("event.type") or event.get("type") or "error"
    return light


def _count_tags(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What ``…/tags/`` answers for these events: each key with its values, most frequent first, and when each
    was first and last seen; ``totalValues`` is the number of events carrying the key."""
    counts: dict[str, dict[str, list[Any]]] = {}
    for event in events:
        when = event.get("dateCreated")
        for tag in event.get("tags") or []:
            name, value = (tag.get("key"), tag.get("value")) if isinstance(tag, dict) else (None, None)
            if not name or value is None:
                continue
            seen = counts.setdefault(name, {}).setdefault(value, [0, when, when])
            seen[0] += 1
            if when:
                seen[1] = min(filter(None, [seen[1], when]))
                seen[2] = max(filter(None, [seen[2], when]))
    tags = []
    for name, values in counts.items():
        ordered = sorted(values.items(), key=lambda item: -item[1][0])
        tags.append(
            {
                "key": name,
                "name": name.replace("_", " ").title(),
                "totalValues": sum(count for count, _, _ in values.values()),
                "topValues": [
                    {"key": name, "name": value, "value": value, "count": count, "firstSeen": first, "lastSeen": last}
                    for value, (count, first, last) in ordered
                ],
            }
        )
    return sorted(tags, key=lambda tag: tag["key"])


def _too_many(limit: int) -> str:
    return f"You are attempting to use this endpoint too frequently. Limit is {limit} requests in 1 seconds"


def _encode_cursor(offset: int, opaque: bool) -> str:
    return base64.urlsafe_b64encode(f"o={offset}".encode()).decode() if opaque else f"0:{offset}:0"


def _decode_cursor(cursor: str, opaque: bool) -> int:
    try:
        if opaque:
            return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("o="))
        return int(cursor.split(":")[1])
    except (ValueError, IndexError):
        return 0


def _write(handler: BaseHTTPRequestHandler, reply: _Reply) -> None:
    if reply.mode == "silent":
        handler.close_connection = True
        return
    try:
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", reply.content_type)
        if reply.mode == "unsized":
            handler.send_header("Connection", "close")
            handler.close_connection = True
        else:
            handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        if reply.mode == "drip":
            fake: FakeSentry = handler.server.fake  # type: ignore[attr-defined]
            for byte in reply.body:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                if fake._stopping.wait(fake.drip_seconds):
                    break
            handler.close_connection = True
            return
        if reply.mode == "drop":
            handler.wfile.write(reply.body[: len(reply.body) // 2])
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        handler.wfile.write(reply.body)
        handler.wfile.flush()
    except OSError:
        handler.close_connection = True  # the client went away (it may refuse an oversized answer)


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    """The listen backlog. The default of 5 drops part of a burst of new connections, and each dropped SYN
    waits a second before the client retries it: the benchmarks would measure that, not the client."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stalls

    def do_GET(self) -> None:
        self.server.fake._serve(self)  # type: ignore[attr-defined]

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- synthetic data -------------------------------------------------------------------------------------------

_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _base32(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 32)
        digits = _BASE32[rest] + digits
        if not number:
            return digits


def synthetic_issue(number: int, *, org: str = ORG, project: str = "backend") -> tuple[dict[str, Any], dict[str, Any]]:
    """A small but realistic issue and its latest event, numbered ``number``."""
    issue_id = str(number)
    event_id = f"{number:032x}"
    issue = {
        "id": issue_id,
        "shortId": f"{project.upper()}-{_base32(number % 100_000)}",
        "title": f"ValueError: invalid literal for int() with base 10: 'x{number}'",
        "culprit": "app.views in parse_amount",
        "permalink": f"https://{org}.sentry.io/issues/{issue_id}/",
        "level": "error",
        "status": "unresolved",
        "substatus": "ongoing",
        "platform": "python",
        "project": {"id": "42", "slug": project, "name": project},
        "type": "error",
        "issueCategory": "error",
        "metadata": {"type": "ValueError", "value": f"invalid literal for int() with base 10: 'x{number}'"},
        "count": "3",
        "userCount": 1,
        "firstSeen": "2024-05-01T10:00:00.123456Z",
        "lastSeen": "2024-05-02T11:30:00Z",
        "assignedTo": None,
        "priority": "high",
        "firstRelease": {"version": "1.0.0"},
        "lastRelease": {"version": "1.0.1"},
        "tags": [{"key": "environment", "name": "Environment", "totalValues": 3}],
        "stats": _synthetic_stats(number),
        "activity": [
            {"id": "0", "type": "first_seen", "data": {}, "user": None, "dateCreated": "2024-05-01T10:00:00.123456Z"}
        ],
    }
    event = {
        "id": event_id,
        "eventID": event_id,
        "groupID": issue_id,
        "projectID": "42",
        "title": issue["title"],
        "message": "",
        "type": "error",
        "platform": "python",
        "dateCreated": "2024-05-02T11:30:00Z",
        "tags": [
            {"key": "environment", "value": "production"},
            {"key": "release", "value": "1.0.1"},
            {"key": "server_name", "value": f"web-{number % 3}"},
        ],
        "context": {},
        "contexts": {"runtime": {"type": "runtime", "name": "CPython", "version": "3.11.7"}},
        "sdk": {"name": "sentry.python", "version": "2.0.0"},
        "errors": [],
        "entries": [
            {
                "type": "exception",
                "data": {
                    "values": [
                        {
                            "type": "ValueError",
                            "value": f"invalid literal for int() with base 10: 'x{number}'",
                            "module": "builtins",
                            "mechanism": {"type": "generic", "handled": False},
                            "stacktrace": {
                                "frames": [
                                    {
                                        "filename": "app/views.py",
                                        "absPath": "/srv/app/views.py",
                                        "module": "app.views",
                                        "function": "parse_amount",
                                        "lineNo": 17,
                                        "colNo": None,
                                        "inApp": True,
                                        "context": [[16, "def parse_amount(text):"], [17, "    return int(text)"]],
                                        "vars": {"text": f"'x{number}'"},
                                    }
                                ],
                                "framesOmitted": None,
                                "hasSystemFrames": True,
                            },
                        }
                    ]
                },
            }
        ],
    }
    return issue, event


SYNTHETIC_NOW = 1714647600
"""2024-05-02 11:00 UTC: the hour the synthetic issues were last seen in."""


def _synthetic_stats(number: int) -> dict[str, list[list[int]]]:
    """24 hourly and 30 daily buckets, oldest first, ending at :data:`SYNTHETIC_NOW`; the counts vary by issue."""
    hourly = [[SYNTHETIC_NOW - 3600 * (23 - hour), (number + hour) % 4] for hour in range(24)]
    today = SYNTHETIC_NOW - SYNTHETIC_NOW % 86400
    daily = [[today - 86400 * (29 - day), (number * 7 + day) % 9 if day > 20 else 0] for day in range(30)]
    return {"24h": hourly, "30d": daily}
