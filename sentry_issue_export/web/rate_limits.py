"""Staying within Sentry's rate limits: pacing requests before a 429, and how long to wait after one.

Sentry limits each caller per endpoint in fixed windows and reports where a caller stands in the
``X-Sentry-Rate-Limit-*`` headers of every answer (self-hosted installs send none). :class:`RateLimitPacer` reads
those reports and holds requests back so the server rarely has to refuse one; when it still answers 429,
:func:`wait_after_429` says how long to wait, and :class:`Backoff` spaces out retries the server gave no time for.
Nothing here sends a request: the Sentry client calls in before and after each one.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Literal

import attrs
import httpx

__all__ = ["RESET_MARGIN", "Backoff", "EndpointClass", "RateLimitPacer", "RateLimitReport", "wait_after_429"]

log = logging.getLogger(__name__)

RESET_MARGIN = 0.05
"""Seconds waited past a rate-limit reset, for clock skew and timer granularity."""

EndpointClass = Literal["issue", "event", "index", "tags", "events", "activity", "other"]
"""Sentry limits each endpoint separately; requests are paced per class: issue details, event details, the
issue index, an issue's tags (10 a second on sentry.io), its events list and its activity."""


@attrs.frozen
class RateLimitReport:
    """The ``X-Sentry-Rate-Limit-*`` headers of one answer (self-hosted servers send none)."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    """UTC epoch seconds at which the current window ends."""
    concurrent_limit: int | None = None
    concurrent_remaining: int | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> RateLimitReport | None:
        """The report in ``headers``, or ``None`` when they carry no readable rate-limit header at all."""

        def number(name: str) -> float | None:
            try:
                return float(headers[f"x-sentry-rate-limit-{name}"])
            except (KeyError, ValueError):
                return None

        values = {
            "limit": number("limit"),
            "remaining": number("remaining"),
            "reset": number("reset"),
            "concurrent_limit": number("concurrentlimit"),
            "concurrent_remaining": number("concurrentremaining"),
        }
        if all(v is None for v in values.values()):
            return None
        return cls(
            limit=_as_int(values["limit"]),
            remaining=_as_int(values["remaining"]),
            reset=values["reset"],
            concurrent_limit=_as_int(values["concurrent_limit"]),
            concurrent_remaining=_as_int(values["concurrent_remaining"]),
        )


def _as_int(value: float | None) -> int | None:
    return None if value is None else int(value)


# --- pacing -----------------------------------------------------------------------------------------------------


@attrs.define
class _Window:
    """What the server last said about one endpoint class, and our requests it may not have counted yet."""

    probed: bool = False
    """False until one answer arrived: until then only one request of the class is in flight."""
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None
    hold_until: float = 0.0
    in_flight: int = 0
    concurrent_cap: int | None = None
    changed: asyncio.Event = attrs.field(factory=asyncio.Event)


class RateLimitPacer:
    """Holds requests back so that Sentry's fixed-window limits are not exceeded in the first place.

    Per endpoint class: the first request goes alone (its answer tells the limit); afterwards a request may go
    while ``remaining - in_flight > 0`` in the current window, else it waits for the window's reset. Requests in
    flight are counted against the window even when the server may have counted them already: pacing errs on the
    slow side. ``ConcurrentRemaining`` caps the requests in flight. A class without headers is not paced.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        margin: float = RESET_MARGIN,
        max_wait: float = 60.0,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._margin = margin
        self._max_wait = max_wait
        self._windows: dict[str, _Window] = {}

    def _window(self, kind: str) -> _Window:
        return self._windows.setdefault(kind, _Window())

    async def acquire(self, kind: str) -> None:
        """Wait until a request of ``kind`` may be sent, and count it as in flight."""
        window = self._window(kind)
        while True:
            wait = self._wait_needed(window)
            if wait == 0:
                window.in_flight += 1
                return
            if wait is None:
                await window.changed.wait()
            elif wait > self._max_wait:
                log.debug("rate limit for %s resets in %.1f s; probing again after %.0f s", kind, wait, self._max_wait)
                await self._sleep(self._max_wait)
                self._windows[kind] = window = _Window(in_flight=window.in_flight, changed=window.changed)
            else:
                await self._sleep(wait)

    def _wait_needed(self, w: _Window) -> float | None:
        """0 to go now, seconds to sleep, or ``None`` to wait for an answer in flight."""
        now = self._clock()
        if w.hold_until > now:
            return w.hold_until - now
        if w.reset_at is not None and now >= w.reset_at + self._margin:
            w.reset_at = None
            w.remaining = w.limit
            w.probed = w.limit is not None
        if not w.probed:
            return 0 if w.in_flight == 0 else None
        if w.concurrent_cap is not None and w.in_flight >= w.concurrent_cap:
            return None
        if w.remaining is None or w.remaining - w.in_flight > 0:
            return 0
        if w.reset_at is not None:
            return w.reset_at + self._margin - now
        if w.in_flight:
            return None
        w.probed, w.remaining = False, None  # exhausted with no reset known: let one request find out
        return 0

    def release(self, kind: str, report: RateLimitReport | None, *, answered: bool) -> None:
        """A request of ``kind`` finished; ``report`` is what its answer said about the limits."""
        w = self._window(kind)
        w.in_flight = max(0, w.in_flight - 1)
        if answered:
            w.probed = True
        if report is not None:
            self._apply(w, report)
        elif answered and w.remaining is not None:
            w.remaining -= 1  # an answer without headers (a proxy's 502): assume it was counted
        w.changed.set()
        w.changed = asyncio.Event()

    def _apply(self, w: _Window, report: RateLimitReport) -> None:
        now = self._clock()
        if report.limit is not None:
            w.limit = report.limit
        if report.remaining is not None and report.reset is not None and report.reset + self._margin > now:
            if w.reset_at is None or report.reset > w.reset_at:
                w.remaining, w.reset_at = report.remaining, report.reset
            elif report.reset == w.reset_at:
                w.remaining = report.remaining if w.remaining is None else min(w.remaining, report.remaining)
        if report.concurrent_remaining is not None:
            # This answer's request was counted in flight by the server and has now finished.
            cap = w.in_flight + 1 + report.concurrent_remaining
            if report.concurrent_limit is not None:
                cap = min(cap, report.concurrent_limit)
            w.concurrent_cap = max(1, cap)

    def hold(self, kind: str, seconds: float) -> None:
        """Send nothing of ``kind`` for ``seconds`` (after a 429)."""
        w = self._window(kind)
        w.hold_until = max(w.hold_until, self._clock() + seconds)


# --- waiting to retry -------------------------------------------------------------------------------------------


@attrs.frozen
class Backoff:
    """Exponential backoff with jitter, for failures that do not say how long to wait (5xx, broken connections)."""

    base: float = 0.5
    cap: float = 8.0
    jitter: Callable[[], float] = random.random
    """Returns a number in [0, 1); the delay is scaled by 0.5 + jitter / 2 so retries of many requests spread."""

    def delay(self, attempt: int) -> float:
        """Seconds before retry number ``attempt`` (1 for the first): about base, 2*base, 4*base... up to cap."""
        delay = min(self.cap, self.base * 2 ** (attempt - 1))
        return delay * (0.5 + self.jitter() / 2)


def wait_after_429(headers: httpx.Headers, attempt: int, *, now: float, backoff: Backoff) -> float:
    """How long a 429 asks us to wait: until the window's reset, else ``Retry-After``, else backoff.

    Sentry's own 429 carries no ``Retry-After`` but does carry the reset time; a proxy in front of a self-hosted
    Sentry may send ``Retry-After`` instead.
    """
    report = RateLimitReport.from_headers(headers)
    if report is not None and report.reset is not None:
        until_reset = report.reset - now
        if until_reset > 0:
            return until_reset + RESET_MARGIN
    retry_after = _retry_after_seconds(headers.get("retry-after"), now)
    if retry_after is not None:
        return retry_after
    return backoff.delay(attempt)


def _retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` in seconds (it may be a number or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)
