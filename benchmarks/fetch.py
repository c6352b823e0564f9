"""Fetch throughput against sentry.io's rate limits: ``python -m benchmarks fetch [--issues N] [--latency S]``.

Exports (fetches the issue, its latest event, and what it says across all its events: its tags and recent
events with the default settings, and its activity when it came from the issue index) N issues from a fake
Sentry on loopback with a fixed latency per request, through the ``sentry`` source and the real client:

- normal: sentry.io's limits (issue details 5/s, event details 15/s, issue index 5/s, an issue's tags 10/s and
  10 at once; its events list and activity 40/s; fixed one-second windows; 429 without Retry-After). Floor: the
  slowest bucket, N tags at 10/s.
- lean: the same with ``--events 0 --tag-values 0`` (no tags, no events list): N events at 15/s.
- no index: the issue index answers 404, so every issue is fetched on its own. Floor: N issues at 5/s.
- no limits: a self-hosted server without rate limits. Floor: latency x (1 + requests per issue x N /
  concurrency): the event, the tags, the events list and the activity of each issue after the index.
- search: sentry.io's limits, the N issues found by a search (``is:unresolved``, pages of 100) rather than
  named. Floor: one search page per 100 issues at the index's 5/s, then N tags at 10/s.

Prints each time, its ratio to the floor, successes and failures, and how many 429s the server sent. The
target of each scenario is 1.1 times its floor (1.2 for the latency-bound one, whose floor assumes no time
between a request and the next).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

import attrs

from sentry_issue_export.hookspecs import FetchFailure
from sentry_issue_export.refs import IssueRef, IssueSearch
from sentry_issue_export.settings import Settings
from sentry_issue_export.sources.sentry import SentrySource
from tests.fake_sentry import SENTRY_IO_CONCURRENCY, SENTRY_IO_LIMITS, TOKEN, FakeSentry


@attrs.frozen
class Scenario:
    name: str
    prepare: Callable[[FakeSentry], None]
    floor: Callable[[int, float, int], float]
    """(issues, latency, concurrency) -> the least time the limits allow."""
    search: bool = False
    """Find the issues by searching instead of naming them."""
    lean: bool = False
    """``--events 0 --tag-values 0``: no tags or events list."""
    margin: float = 1.1
    """The target is this many times the floor."""


def _limited(fake: FakeSentry) -> None:
    fake.rate_limits = dict(SENTRY_IO_LIMITS)
    fake.concurrent_limits = dict(SENTRY_IO_CONCURRENCY)


def _no_index(fake: FakeSentry) -> None:
    _limited(fake)
    fake.index_supported = False


def _unlimited(fake: FakeSentry) -> None:
    fake.rate_limits = {}


SCENARIOS = (
    Scenario("normal", _limited, lambda n, latency, c: n / SENTRY_IO_LIMITS["tags"]),
    Scenario("lean", _limited, lambda n, latency, c: n / SENTRY_IO_LIMITS["event"], lean=True),
    Scenario("no index", _no_index, lambda n, latency, c: n / SENTRY_IO_LIMITS["issue"]),
    Scenario("no limits", _unlimited, lambda n, latency, c: latency * (1 + 4 * n / c), margin=1.2),
    Scenario(
        "search",
        _limited,
        lambda n, latency, c: -(-n // 100) / SENTRY_IO_LIMITS["index"] + n / SENTRY_IO_LIMITS["tags"],
        search=True,
    ),
)


async def _export(
    fake: FakeSentry, ids: list[str], concurrency: int, search: bool, lean: bool
) -> tuple[float, int, int]:
    settings = Settings(base_url=fake.url, org=fake.org, token=TOKEN, max_concurrency=concurrency)
    if lean:
        settings = attrs.evolve(settings, tag_values=0, recent_events=0)
    started = time.perf_counter()
    if search:
        found = await SentrySource().search(IssueSearch("is:unresolved"), settings, len(ids))
        refs = list(found.refs)
    else:
        refs = [IssueRef(issue_id) for issue_id in ids]
    ok = failed = 0
    async for result in SentrySource().fetch(refs, settings):
        if isinstance(result, FetchFailure):
            failed += 1
            print(f"    failed: {result.ref}: {result.error}")
        else:
            ok += 1
    return time.perf_counter() - started, ok, failed


def run(scenario: Scenario, issues: int, latency: float, concurrency: int) -> bool:
    with FakeSentry(latency=latency) as fake:
        scenario.prepare(fake)
        ids = fake.add_synthetic_issues(issues)
        seconds, ok, failed = asyncio.run(_export(fake, ids, concurrency, scenario.search, scenario.lean))
        floor = scenario.floor(issues, latency, concurrency)
        target = scenario.margin * floor
        verdict = "ok" if seconds <= target and not failed else "SLOW" if seconds > target else "FAILED"
        print(
            f"{scenario.name:<10} {seconds:6.2f} s  floor {floor:5.2f} s  ratio {seconds / floor:4.2f}  "
            f"target {target:5.1f} s  {ok} ok, {failed} failed  {fake.rate_limited} x 429  "
            f"{len(fake.requests)} requests  {verdict}"
        )
        return verdict == "ok"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks fetch", description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request (default 0.05)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", choices=[s.name for s in SCENARIOS])
    args = parser.parse_args(argv)
    print(f"{args.issues} issues, {args.latency * 1000:.0f} ms latency, concurrency {args.concurrency}")
    results = [
        run(scenario, args.issues, args.latency, args.concurrency)
        for scenario in SCENARIOS
        if args.only in (None, scenario.name)
    ]
    return 0 if all(results) else 1
