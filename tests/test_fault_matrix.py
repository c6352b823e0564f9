"""Fault injection over real sockets, end to end through the exporter.

Three issues are exported in one batch from the fake Sentry while one of them (or every request, for storms and
bursts) meets a fault. Each issue must be either exported completely or reported failed with a precise reason,
and the batch must go on. The table below is the fault matrix: the fault, how often it strikes, and what the
user must see.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sentry_issue_export import Settings, export_issues_sync, hookimpl
from sentry_issue_export.plugins import Registry, build_registry, make_plugin_manager
from sentry_issue_export.sentry.client import SentryClient
from sentry_issue_export.sources.sentry import SentrySource
from tests.fake_sentry import ORG, TOKEN, FakeSentry

PERSISTENT = 99

# fault, times it strikes the second issue, words the failure must contain (None: the issue is exported)
FAULT_MATRIX = [
    (401, PERSISTENT, ["401", "token", "event:read"]),
    (403, PERSISTENT, ["403", "event:read", "member"]),
    (429, PERSISTENT, ["429", "rate-limiting", "after 2 retries"]),
    (500, PERSISTENT, ["status 500", "try again later"]),
    (502, PERSISTENT, ["status 502", "after 2 retries"]),
    (503, 1, None),
    ("html", PERSISTENT, ["HTML page", "status 200", "base URL"]),
    ("html500", PERSISTENT, ["HTML page", "status 500"]),
    ("malformed", PERSISTENT, ["malformed or truncated JSON"]),
    ("truncated", PERSISTENT, ["malformed or truncated JSON"]),
    ("wrong_shape", PERSISTENT, ["a list where an object was expected"]),
    ("drop", PERSISTENT, ["connection broke", "after 2 retries"]),
    ("drop", 1, None),
    ("hang", PERSISTENT, ["did not answer within 0.5 s"]),
    ("drip", PERSISTENT, ["did not answer within 0.5 s, the deadline of one request", "--timeout"]),
    ("slow", 1, None),
    ("oversized", PERSISTENT, ["larger than the limit of 1,048,576 bytes"]),
    ("unsized", PERSISTENT, ["larger than the limit of 1,048,576 bytes"]),
]


class FastRetries:
    """Replaces the built-in Sentry source with one whose backoff is short, so the matrix runs in seconds."""

    @hookimpl
    def register_sources(self, register):
        register(SentrySource(lambda settings: SentryClient.from_settings(settings, backoff_base=0.01)))


@pytest.fixture(scope="module")
def fast_registry() -> Registry:
    registry = build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[FastRetries()]))
    assert registry.problems == []
    return registry


def settings_for(fake: FakeSentry, output_dir: Path, **overrides) -> Settings:
    values = {"retries": 2, "timeout": 0.5, "max_response_bytes": 1024 * 1024, **overrides}
    return Settings(base_url=fake.url, org=ORG, token=TOKEN, output_dir=output_dir, **values)


@pytest.mark.parametrize(("fault", "times", "expected"), FAULT_MATRIX, ids=lambda v: str(v))
def test_one_faulty_issue_never_sinks_the_batch(fault, times, expected, fast_registry, tmp_path):
    with FakeSentry() as fake:
        fake.slow_seconds = 0.3
        fake.drip_seconds = 0.05  # a byte well within every read's timeout: only the whole-request deadline ends it
        ids = fake.add_synthetic_issues(3)
        fake.inject(fault, times=times, path_contains=f"/issues/{ids[1]}/")
        result = export_issues_sync(" ".join(ids), settings_for(fake, tmp_path), registry=fast_registry)

    exported = [report.issue.id for report in result.reports]
    if expected is None:
        assert exported == ids and result.failures == ()
        assert all(report.event is not None for report in result.reports)
    else:
        assert exported == [ids[0], ids[2]]
        [failure] = result.failures
        assert failure.ref_text == ids[1]
        for words in expected:
            assert words in failure.message
        assert TOKEN not in failure.message
    assert result.path is not None
    text = result.path.read_text(encoding="utf-8")
    for issue_id in exported:
        assert issue_id in text


def test_event_404_exports_the_issue_and_says_there_is_no_event(fast_registry, tmp_path):
    with FakeSentry() as fake:
        ids = fake.add_synthetic_issues(2)
        fake.inject(404, times=PERSISTENT, path_contains=f"/issues/{ids[0]}/events/")
        result = export_issues_sync(" ".join(ids), settings_for(fake, tmp_path), registry=fast_registry)
    assert result.failures == ()
    assert [report.event is None for report in result.reports] == [True, False]


def test_429_storm_is_waited_out(fast_registry, tmp_path):
    with FakeSentry(rate_limits={"issue": 5, "event": 15, "index": 5}) as fake:
        ids = fake.add_synthetic_issues(6)
        fake.inject(429, times=6)
        started = time.monotonic()
        result = export_issues_sync(" ".join(ids), settings_for(fake, tmp_path, retries=6), registry=fast_registry)
        elapsed = time.monotonic() - started
    assert result.failures == () and len(result.reports) == 6
    assert elapsed < 15


def test_5xx_burst_is_retried_for_every_issue(fast_registry, tmp_path):
    with FakeSentry() as fake:
        ids = fake.add_synthetic_issues(5)
        fake.inject(503, times=4)
        fake.inject(502, times=3)
        result = export_issues_sync(" ".join(ids), settings_for(fake, tmp_path, retries=8), registry=fast_registry)
        assert fake.count(status=503) + fake.count(status=502) == 7
    assert result.failures == () and len(result.reports) == 5


def test_unreachable_server_fails_every_issue_clearly(fast_registry, tmp_path):
    with FakeSentry() as fake:
        ids = fake.add_synthetic_issues(2)
        url = fake.url
    settings = Settings(base_url=url, org=ORG, token=TOKEN, output_dir=tmp_path, retries=1, timeout=0.5)
    result = export_issues_sync(" ".join(ids), settings, registry=fast_registry)
    assert result.reports == () and result.path is None
    assert [f.ref_text for f in result.failures] == ids
    assert all("Could not reach Sentry" in f.message for f in result.failures)
