"""rate_limits.py: pacing by Sentry's rate-limit headers and the waits before a retry, with an injected clock.

Nothing here opens a socket: the end-to-end behaviour against a rate-limiting server is proven in
``test_sentry_api.py``.
"""

from __future__ import annotations

import asyncio
import email.utils

import httpx
import pytest

from sentry_issue_export.web.rate_limits import (
    RESET_MARGIN,
    Backoff,
    RateLimitPacer,
    RateLimitReport,
    wait_after_429,
)


class FakeClock:
    def __init__(self, now: float = 1000.2) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_pacer_probes_an_unknown_class_with_one_request() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)

    async def go() -> None:
        await pacer.acquire("issue")
        second = asyncio.ensure_future(pacer.acquire("issue"))
        await asyncio.sleep(0)
        assert not second.done(), "nothing else goes until the first answer tells the limit"
        pacer.release("issue", RateLimitReport(limit=5, remaining=4, reset=1001), answered=True)
        await second

    asyncio.run(go())


def test_pacer_waits_for_the_reset_when_the_window_is_spent() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep, margin=0.05)

    async def go() -> None:
        await pacer.acquire("event")
        pacer.release("event", RateLimitReport(limit=2, remaining=1, reset=1001), answered=True)
        await pacer.acquire("event")  # the last one of this window
        pacer.release("event", RateLimitReport(limit=2, remaining=0, reset=1001), answered=True)
        await pacer.acquire("event")
        await pacer.acquire("event")  # the new window holds two

    asyncio.run(go())
    assert clock.slept == [0.85]


def test_pacer_counts_requests_in_flight_against_the_window() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)

    async def go() -> None:
        await pacer.acquire("issue")
        pacer.release("issue", RateLimitReport(limit=3, remaining=2, reset=1001), answered=True)
        await pacer.acquire("issue")
        await pacer.acquire("issue")  # two in flight: the window is spent although no answer said so
        await pacer.acquire("issue")

    asyncio.run(go())
    assert clock.slept == [0.85]


def test_pacer_honours_concurrent_remaining() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)

    async def go() -> None:
        await pacer.acquire("event")
        pacer.release("event", RateLimitReport(concurrent_limit=25, concurrent_remaining=0), answered=True)
        await pacer.acquire("event")  # one may always go
        waiting = asyncio.ensure_future(pacer.acquire("event"))
        await asyncio.sleep(0)
        assert not waiting.done()
        pacer.release("event", RateLimitReport(concurrent_limit=25, concurrent_remaining=1), answered=True)
        await waiting

    asyncio.run(go())


def test_pacer_does_not_pace_a_server_without_headers() -> None:
    clock = FakeClock()
    pacer = RateLimitPacer(clock=clock, sleep=clock.sleep)

    async def go() -> None:
        await pacer.acquire("issue")
        pacer.release("issue", None, answered=True)
        for _ in range(50):
            await pacer.acquire("issue")

    asyncio.run(go())
    assert clock.slept == []


def test_rate_limit_headers_are_parsed_loosely() -> None:
    headers = httpx.Headers({"X-Sentry-Rate-Limit-Remaining": "3", "X-Sentry-Rate-Limit-Reset": "1700000001"})
    assert RateLimitReport.from_headers(headers) == RateLimitReport(remaining=3, reset=1700000001.0)
    assert RateLimitReport.from_headers(httpx.Headers({"X-Sentry-Rate-Limit-Limit": "many"})) is None


def test_rate_limit_headers_with_every_field() -> None:
    headers = httpx.Headers(
        {
            "X-Sentry-Rate-Limit-Limit": "5",
            "X-Sentry-Rate-Limit-Remaining": "4",
            "X-Sentry-Rate-Limit-Reset": "1700000001.5",
            "X-Sentry-Rate-Limit-ConcurrentLimit": "25",
            "X-Sentry-Rate-Limit-ConcurrentRemaining": "24",
        }
    )
    assert RateLimitReport.from_headers(headers) == RateLimitReport(5, 4, 1700000001.5, 25, 24)


# --- waiting to retry -------------------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_and_jitter_scales_it() -> None:
    steady = Backoff(base=0.5, cap=3.0, jitter=lambda: 1.0)
    assert [steady.delay(attempt) for attempt in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 3.0]
    assert Backoff(base=0.5, cap=3.0, jitter=lambda: 0.0).delay(2) == 0.5


def test_429_waits_until_the_reset_and_a_little_past_it() -> None:
    headers = httpx.Headers({"X-Sentry-Rate-Limit-Remaining": "0", "X-Sentry-Rate-Limit-Reset": "1001"})
    wait = wait_after_429(headers, 1, now=1000.25, backoff=Backoff(jitter=lambda: 1.0))
    assert wait == pytest.approx(0.75 + RESET_MARGIN)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        pytest.param("3", 3.0, id="seconds"),
        pytest.param(email.utils.formatdate(1007.0, usegmt=True), 7.0, id="http-date"),
        pytest.param("-4", 0.0, id="negative-is-now"),
    ],
)
def test_429_honours_a_proxys_retry_after(retry_after: str, expected: float) -> None:
    headers = httpx.Headers({"Retry-After": retry_after})
    assert wait_after_429(headers, 1, now=1000.0, backoff=Backoff(jitter=lambda: 1.0)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"Retry-After": "soon"}, id="unreadable-retry-after"),
        pytest.param({"X-Sentry-Rate-Limit-Reset": "999"}, id="reset-already-past"),
    ],
)
def test_429_without_a_usable_time_backs_off(headers: dict[str, str]) -> None:
    backoff = Backoff(base=0.5, cap=8.0, jitter=lambda: 1.0)
    assert wait_after_429(httpx.Headers(headers), 3, now=1000.0, backoff=backoff) == 2.0
