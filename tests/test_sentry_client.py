"""The Sentry client and the ``sentry`` source, proven over real sockets against ``FakeSentry``.

A few pure pieces (Link parsing, origins, URL building) are also tested on their own; everything else goes
through HTTP on loopback, quirks included. Pacing arithmetic is tested in ``test_rate_limits.py`` and which hosts
count as one Sentry in ``test_sentry_urls.py``.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentry_issue_export.errors import (
    AuthError,
    ConfigError,
    FetchError,
    HostMismatchError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from sentry_issue_export.hookspecs import FetchFailure, RawIssue
from sentry_issue_export.refs import IssueRef, parse_ref
from sentry_issue_export.sentry.client import SentryClient, next_cursor
from sentry_issue_export.settings import Settings
from sentry_issue_export.sources.sentry import SentrySource
from sentry_issue_export.web.origin import origin_of
from tests.fake_sentry import TOKEN, FakeSentry, synthetic_issue

FAST: dict[str, Any] = {"retries": 2, "timeout": 2.0, "backoff_base": 0.01}


@pytest.fixture
def sentry() -> Iterator[FakeSentry]:
    with FakeSentry() as fake:
        yield fake


def make_client(
    fake: FakeSentry, *, token: str | None = TOKEN, org: str | None = "acme", **options: Any
) -> SentryClient:
    return SentryClient(fake.url, token, org=org, **{**FAST, **options})


def run(client: SentryClient, call: str, *args: Any) -> Any:
    """Call one client method in a fresh event loop, closing the client afterwards."""

    async def go() -> Any:
        async with client:
            return await getattr(client, call)(*args)

    return asyncio.run(go())


def fetch(refs: Sequence[IssueRef], settings: Settings) -> dict[IssueRef, RawIssue | FetchFailure]:
    source = SentrySource(lambda s: SentryClient.from_settings(s, backoff_base=0.01))

    async def go() -> list[RawIssue | FetchFailure]:
        return [result async for result in source.fetch(refs, settings)]

    results = asyncio.run(go())
    assert len(results) == len(refs), "exactly one result per reference"
    return {result.ref: result for result in results}


def settings_for(fake: FakeSentry, **changes: Any) -> Settings:
    return Settings(**{"base_url": fake.url, "org": "acme", "token": TOKEN, "retries": 2, **changes})


def paths(fake: FakeSentry) -> list[str]:
    return [r.path for r in fake.requests]


def error_of(call: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        call()
    return caught.value


# --- fetching ---------------------------------------------------------------------------------------------------


def test_scoped_issue_and_latest_event_carry_the_token(sentry: FakeSentry) -> None:
    issue_id = sentry.add_synthetic_issues(1)[0]
    issue = run(make_client(sentry), "get_issue", issue_id)
    event = run(make_client(sentry), "get_event", issue_id)
    assert issue["id"] == issue_id and issue["tags"]  # the details shape, not the index's lighter one
    assert event["groupID"] == issue_id
    assert paths(sentry) == [
        f"/api/0/organizations/acme/issues/{issue_id}/",
        f"/api/0/organizations/acme/issues/{issue_id}/events/latest/",
    ]
    assert {r.authorization for r in sentry.requests} == {f"Bearer {TOKEN}"}


def test_short_id_goes_through_the_scoped_issue_path(sentry: FakeSentry) -> None:
    issue, event = synthetic_issue(77)
    sentry.add_issue(issue, event)
    found = run(make_client(sentry), "get_issue", issue["shortId"])
    assert found["id"] == "77"
    assert paths(sentry) == [f"/api/0/organizations/acme/issues/{issue['shortId']}/"]


def test_short_id_falls_back_to_the_short_id_endpoint(sentry: FakeSentry) -> None:
    issue, event = synthetic_issue(78)
    sentry.add_issue(issue, event)
    sentry.inject(404, path_contains="/issues/BACKEND-")  # a server that takes only numeric ids on that path
    found = run(make_client(sentry), "get_issue", issue["shortId"])
    assert found["id"] == "78"
    assert paths(sentry)[-1] == f"/api/0/organizations/acme/shortids/{issue['shortId']}/"


def test_source_exports_the_event_a_url_names(sentry: FakeSentry) -> None:
    issue, latest = synthetic_issue(5)
    older = dict(latest, id="a" * 32, eventID="a" * 32, title="the older one")
    sentry.add_issue(issue, latest, events=[older])
    ref = IssueRef("5", org="acme", origin=sentry.url, event_id="a" * 32, text=f"{sentry.url}/issues/5/events/...")
    result = fetch([ref], settings_for(sentry))[ref]
    assert isinstance(result, RawIssue)
    assert result.event is not None and result.event["title"] == "the older one"
    assert f"/api/0/organizations/acme/issues/5/events/{'a' * 32}/" in paths(sentry)
    assert "/api/0/organizations/acme/issues/5/events/latest/" not in paths(sentry)


def test_issue_without_an_event_in_retention_is_exported_without_one(sentry: FakeSentry) -> None:
    issue, _ = synthetic_issue(6)
    sentry.add_issue(issue, None)
    ref = IssueRef("6")
    result = fetch([ref], settings_for(sentry))[ref]
    assert isinstance(result, RawIssue) and result.event is None and result.issue["id"] == "6"


def test_a_missing_named_event_is_a_failure(sentry: FakeSentry) -> None:
    sentry.add_synthetic_issues(1, start=7)
    ref = IssueRef("7", event_id="b" * 32)
    result = fetch([ref], settings_for(sentry))[ref]
    assert isinstance(result, FetchFailure) and isinstance(result.error, NotFoundError)
    assert f"event {'b' * 32} of issue 7" in str(result.error) and "retention" in str(result.error)


def test_merged_issue_answers_with_its_new_id_and_that_id_fetches_the_event(sentry: FakeSentry) -> None:
    sentry.add_synthetic_issues(2, start=10)  # 10 and 11
    sentry.merge("10", into="11")
    refs = [IssueRef("10"), IssueRef("11")]
    results = fetch(refs, settings_for(sentry))
    merged = results[refs[0]]
    assert isinstance(merged, RawIssue) and merged.issue["id"] == "11" and merged.event is not None
    # 10 is missing from the index's answer, so it was fetched on its own; its event by the id that came back.
    assert "/api/0/organizations/acme/issues/10/" in paths(sentry)
    assert "/api/0/organizations/acme/issues/10/events/latest/" not in paths(sentry)


def test_every_bundled_sample_is_fetched_intact(sentry: FakeSentry) -> None:
    from sentry_issue_export.samples import SAMPLE_NAMES, load_sample

    ids = sentry.add_samples()
    results = fetch([IssueRef(i) for i in ids], settings_for(sentry))
    for issue_id, name in zip(ids, SAMPLE_NAMES, strict=True):
        result = results[IssueRef(issue_id)]
        assert isinstance(result, RawIssue), result
        assert result.issue["id"] == issue_id and result.event == load_sample(name)["event"]


# --- GlitchTip and other servers without scoped routes ----------------------------------------------------------


def test_glitchtip_falls_back_to_legacy_paths_and_remembers() -> None:
    with FakeSentry(glitchtip=True) as glitchtip:
        client = make_client(glitchtip)

        async def go() -> list[dict[str, Any]]:
            async with client:
                ids = glitchtip.add_synthetic_issues(3, start=20)
                issues = [await client.get_issue(i) for i in ids]
                return issues + [await client.get_event(i) for i in ids]

        answers = asyncio.run(go())
        assert [a["id"] for a in answers[:3]] == ["20", "21", "22"]
        assert "assignedTo" not in answers[0]  # GlitchTip's shape
        assert paths(glitchtip)[:2] == ["/api/0/organizations/acme/issues/20/", "/api/0/issues/20/"]
        assert glitchtip.requests[0].status == 405
        scoped = [p for p in paths(glitchtip) if p.startswith("/api/0/organizations/")]
        assert len(scoped) == 1, "after the first 405 the client goes straight to the legacy paths"
        assert not client.scoped_routes


@pytest.mark.parametrize("html_status", [200, 500])
def test_glitchtip_html_on_scoped_event_path_falls_back(html_status: int) -> None:
    with FakeSentry(glitchtip=True) as glitchtip:
        glitchtip.glitchtip_html_status = html_status
        issue_id = glitchtip.add_synthetic_issues(1, start=30)[0]
        event = run(make_client(glitchtip), "get_event", issue_id)
        assert event["groupID"] == issue_id
        assert paths(glitchtip) == [
            f"/api/0/organizations/acme/issues/{issue_id}/events/latest/",
            f"/api/0/issues/{issue_id}/events/latest/",
        ]
        assert glitchtip.requests[0].status == html_status


def test_source_against_glitchtip_uses_one_scoped_request_in_total() -> None:
    with FakeSentry(glitchtip=True) as glitchtip:
        ids = glitchtip.add_synthetic_issues(4, start=40)
        refs = [IssueRef(i) for i in ids]
        results = fetch(refs, settings_for(glitchtip, tag_values=0, recent_events=0))
        assert all(isinstance(r, RawIssue) and r.event is not None for r in results.values())
        scoped = [p for p in paths(glitchtip) if p.startswith("/api/0/organizations/")]
        # GlitchTip's issue list answers (ignoring group=), so the issues come from it; the first scoped event
        # request finds a web page, and the other three events, which waited for it, go to the legacy paths.
        # With no tags or recent events asked for, nothing else is asked either.
        assert scoped == [
            "/api/0/organizations/acme/issues/",
            f"/api/0/organizations/acme/issues/{ids[0]}/events/latest/",
        ]
        assert sorted(p for p in paths(glitchtip) if p.startswith("/api/0/issues/")) == [
            f"/api/0/issues/{i}/events/latest/" for i in ids
        ]
        first = results[refs[0]]
        assert isinstance(first, RawIssue) and "GlitchTip's API gives no activity" in first.unavailable["activity"]


def test_glitchtip_batches_ask_for_activity_once_and_learn_there_is_none() -> None:
    with FakeSentry(glitchtip=True) as glitchtip:
        ids = glitchtip.add_synthetic_issues(4, start=40)
        refs = [IssueRef(i) for i in ids]
        results = fetch(refs, settings_for(glitchtip))
        assert all(isinstance(r, RawIssue) and r.event is not None and r.tags for r in results.values())
        # The activity, which the index leaves out, is asked for once at most: the first web page GlitchTip answers
        # for an organisation route shows it has none of Sentry's, and no issue asks again.
        activity = [p for p in paths(glitchtip) if "activities" in p]
        assert len(activity) <= 1 and not any(p.startswith("/api/0/issues/") for p in activity)
        assert all("GlitchTip's API gives no activity" in r.unavailable["activity"] for r in results.values())
        # Of the organisation routes: the two index reads, and at most one probe per route shape (an event, the
        # tags, the events list, the activity).
        assert len([p for p in paths(glitchtip) if p.startswith("/api/0/organizations/acme/issues/")]) <= 2 + 4


def test_without_an_organisation_numeric_ids_use_the_legacy_path(sentry: FakeSentry) -> None:
    issue_id = sentry.add_synthetic_issues(1, start=50)[0]
    ref = IssueRef(issue_id)
    result = fetch([ref], settings_for(sentry, org=None))[ref]
    assert isinstance(result, RawIssue)
    assert paths(sentry)[0] == f"/api/0/issues/{issue_id}/"
    legacy = [f"/api/0/issues/{issue_id}/{part}/" for part in ("events/latest", "events", "tags")]
    assert sorted(paths(sentry)[1:]) == sorted(legacy)  # the event, the events list and the tags, at once


def test_without_an_organisation_a_short_id_fails_before_any_request(sentry: FakeSentry) -> None:
    ref = IssueRef("BACKEND-1A", text="BACKEND-1A")
    result = fetch([ref], settings_for(sentry, org=None))[ref]
    assert isinstance(result, FetchFailure)
    assert "organisation" in str(result.error) and "URL" in str(result.error)
    assert sentry.requests == []


# --- batches through the issue index ----------------------------------------------------------------------------


def test_several_issues_of_one_org_come_from_the_index(sentry: FakeSentry) -> None:
    ids = sentry.add_synthetic_issues(5, start=200)
    results = fetch([IssueRef(i) for i in ids], settings_for(sentry))
    assert all(isinstance(r, RawIssue) and r.event is not None for r in results.values())
    index = [r for r in sentry.requests if r.endpoint == "index"]
    assert len(index) == 2  # the issues with their hourly stats, then their daily ones
    assert all(sorted(r.query["group"]) == sorted(ids) and r.query["project"] == ["-1"] for r in index)
    assert sorted(r.query.get("groupStatsPeriod", ["(default)"])[0] for r in index) == ["(default)", "14d"]
    assert sentry.count(endpoint="issue") == 0 and sentry.count(endpoint="event") == 5
    # The index leaves out the activity, which each issue reads from its own endpoint.
    assert sentry.count(endpoint="activity") == 5
    first = results[IssueRef(ids[0])]
    assert isinstance(first, RawIssue) and "firstRelease" not in first.issue  # the index's lighter shape
    assert sorted(first.issue["stats"]) == ["14d", "24h"] and first.issue["activity"][0]["type"] == "first_seen"


def test_index_asks_for_at_most_100_issues_per_call(sentry: FakeSentry) -> None:
    ids = sentry.add_synthetic_issues(130, start=1000)
    found = run(make_client(sentry), "get_issues_batch", "acme", ids)
    assert sorted(found) == sorted(ids)
    assert sorted(len(r.query["group"]) for r in sentry.requests) == [30, 100]


def test_unsupported_index_falls_back_to_one_request_per_issue(sentry: FakeSentry) -> None:
    sentry.index_supported = False
    ids = sentry.add_synthetic_issues(3, start=300)
    results = fetch([IssueRef(i) for i in ids], settings_for(sentry))
    assert all(isinstance(r, RawIssue) for r in results.values())
    assert sentry.count(endpoint="index") == 1 and sentry.count(endpoint="issue") == 3


def test_one_forbidden_issue_fails_alone(sentry: FakeSentry) -> None:
    ids = sentry.add_synthetic_issues(3, start=400)
    sentry.forbid(ids[1])  # Sentry then refuses the whole index call with 403
    results = fetch([IssueRef(i) for i in ids], settings_for(sentry))
    failure = results[IssueRef(ids[1])]
    assert isinstance(failure, FetchFailure) and isinstance(failure.error, PermissionDeniedError)
    assert all(isinstance(results[IssueRef(i)], RawIssue) for i in (ids[0], ids[2]))


def test_one_result_per_reference_whatever_fails(sentry: FakeSentry) -> None:
    good = sentry.add_synthetic_issues(2, start=500)
    refs = [IssueRef(good[0]), IssueRef("999"), IssueRef(good[1]), IssueRef("1", origin="https://other.example")]
    results = fetch(refs, settings_for(sentry))
    assert [type(results[r]).__name__ for r in refs] == ["RawIssue", "FetchFailure", "RawIssue", "FetchFailure"]


# --- statuses become errors that say what to do -----------------------------------------------------------------


def test_invalid_token_is_an_auth_error_and_is_not_sent_again(sentry: FakeSentry) -> None:
    ids = sentry.add_synthetic_issues(2, start=600)
    client = make_client(sentry, token="sntryu_" + "0" * 64)

    async def go() -> list[BaseException | dict[str, Any]]:
        async with client:
            return await asyncio.gather(*(client.get_issue(i) for i in ids), return_exceptions=True)

    errors = asyncio.run(go())
    assert all(isinstance(e, AuthError) for e in errors)
    message = str(errors[0])
    assert "(401)" in message and "event:read" in message and "config init" in message
    assert 'Sentry said: "Invalid token"' in message
    assert sentry.count(status=401) == 1, "a rejected token is not sent again"


def test_missing_scope_is_a_permission_error(sentry: FakeSentry) -> None:
    sentry.tokens["sntryu_noscopes"] = frozenset({"org:read"})
    issue_id = sentry.add_synthetic_issues(1, start=700)[0]
    error = error_of(lambda: run(make_client(sentry, token="sntryu_noscopes"), "get_issue", issue_id))
    assert isinstance(error, PermissionDeniedError) and error.status == 403
    assert "event:read" in str(error) and "member" in str(error) and f"issue {issue_id}" in str(error)
    assert "You do not have permission" in str(error)


def test_unknown_issue_is_not_found_with_the_likely_reasons(sentry: FakeSentry) -> None:
    error = error_of(lambda: run(make_client(sentry), "get_issue", "123456"))
    assert isinstance(error, NotFoundError)
    text = str(error)
    assert "issue 123456 in organisation acme (404)" in text
    assert all(word in text for word in ("organisation slug", "deleted", "merged", "region"))
    assert 'Sentry said: "The requested resource does not exist"' in text


def test_5xx_burst_is_retried_then_succeeds(sentry: FakeSentry) -> None:
    issue_id = sentry.add_synthetic_issues(1, start=800)[0]
    sentry.inject(502)
    sentry.inject(503)
    assert run(make_client(sentry), "get_issue", issue_id)["id"] == issue_id
    assert [r.status for r in sentry.requests] == [502, 503, 200]


def test_5xx_forever_is_a_server_error(sentry: FakeSentry) -> None:
    sentry.inject(503, times=10)
    error = error_of(lambda: run(make_client(sentry), "get_issue", "1"))
    assert isinstance(error, ServerError) and error.status == 503
    assert "status 503" in str(error) and "even after 2 retries" in str(error)
    assert len(sentry.requests) == 3


def test_gateway_pages_after_every_retry_are_a_server_error_not_a_missing_route(sentry: FakeSentry) -> None:
    sentry.inject(502, times=10)  # a load balancer's HTML page, on an organisation-scoped path
    client = make_client(sentry)
    error = error_of(lambda: run(client, "get_issue", "1"))
    assert isinstance(error, ServerError) and error.status == 502
    assert client.scoped_routes, "a gateway error says nothing about which routes the server has"


def test_500_is_not_retried(sentry: FakeSentry) -> None:
    sentry.inject(500, times=10)
    error = error_of(lambda: run(make_client(sentry), "get_issue", "1"))
    assert isinstance(error, ServerError) and len(sentry.requests) == 1


def test_429_forever_is_a_rate_limit_error(sentry: FakeSentry) -> None:
    sentry.inject(429, times=10)
    error = error_of(lambda: run(make_client(sentry), "get_issue", "1"))
    assert isinstance(error, RateLimitedError) and "(429)" in str(error) and "Limit is 5 requests" in str(error)
    assert len(sentry.requests) == 3


def test_timeout_is_a_network_error(sentry: FakeSentry) -> None:
    sentry.inject("hang", times=5)
    started = time.monotonic()
    error = error_of(lambda: run(make_client(sentry, timeout=0.2, retries=1), "get_issue", "1"))
    assert isinstance(error, NetworkError)
    assert "did not answer within 0.2 s" in str(error) and "even after 1 retry" in str(error)
    assert len(sentry.requests) == 2 and time.monotonic() - started < 5  # 2 x 0.2 s timeouts, not forever


def test_refused_connection_is_a_network_error() -> None:
    with FakeSentry() as gone:
        url = gone.url
    error = error_of(lambda: run(SentryClient(url, TOKEN, org="acme", **FAST), "get_issue", "1"))
    assert isinstance(error, NetworkError) and "refused" in str(error) and url in str(error)


def test_dropped_connection_is_retried(sentry: FakeSentry) -> None:
    issue_id = sentry.add_synthetic_issues(1, start=900)[0]
    sentry.inject("drop")
    assert run(make_client(sentry), "get_issue", issue_id)["id"] == issue_id
    assert len(sentry.requests) == 2


def test_connection_dropped_every_time_is_a_network_error(sentry: FakeSentry) -> None:
    issue_id = sentry.add_synthetic_issues(1, start=901)[0]
    sentry.inject("drop", times=10)
    error = error_of(lambda: run(make_client(sentry), "get_issue", issue_id))
    assert isinstance(error, NetworkError) and "connection broke" in str(error)


# --- answers that are not what they should be --------------------------------------------------------------------


def test_html_page_with_200_is_an_invalid_response(sentry: FakeSentry) -> None:
    sentry.inject("html", times=2)  # the scoped path, then the legacy one
    error = error_of(lambda: run(make_client(sentry), "get_issue", "1"))
    assert isinstance(error, InvalidResponseError)
    assert "HTML page instead of JSON" in str(error) and "https://sentry.io" in str(error)
    assert paths(sentry) == ["/api/0/organizations/acme/issues/1/", "/api/0/issues/1/"]


@pytest.mark.parametrize("fault", ["truncated", "malformed"])
def test_broken_json_is_an_invalid_response(sentry: FakeSentry, fault: str) -> None:
    issue_id = sentry.add_synthetic_issues(1, start=950)[0]
    sentry.inject(fault)
    error = error_of(lambda: run(make_client(sentry), "get_issue", issue_id))
    assert isinstance(error, InvalidResponseError) and "malformed or truncated JSON" in str(error)


def test_json_of_the_wrong_shape_is_an_invalid_response(sentry: FakeSentry) -> None:
    issue_id = sentry.add_synthetic_issues(1, start=960)[0]
    sentry.inject("wrong_shape")
    error = error_of(lambda: run(make_client(sentry), "get_issue", issue_id))
    assert isinstance(error, InvalidResponseError) and "a list where an object was expected" in str(error)


@pytest.mark.parametrize("fault", ["oversized", "unsized"])
def test_oversized_answer_is_refused(sentry: FakeSentry, fault: str) -> None:
    issue_id = sentry.add_synthetic_issues(1, start=970)[0]
    sentry.oversized_bytes = 300_000
    sentry.inject(fault)
    error = error_of(lambda: run(make_client(sentry, max_response_bytes=100_000), "get_issue", issue_id))
    assert isinstance(error, InvalidResponseError) and "larger than the limit of 100,000 bytes" in str(error)


# --- rate limits ------------------------------------------------------------------------------------------------


def _early_in_a_window(latest_fraction: float = 0.6) -> None:
    """Sleep into the next one-second window when the current one is nearly over."""
    now = time.time()
    if now % 1 > latest_fraction:
        time.sleep(1 - now % 1 + 0.01)


def test_pacing_keeps_12_requests_under_5_per_second_without_a_429(sentry: FakeSentry) -> None:
    sentry.rate_limits = {"issue": 5}
    ids = sentry.add_synthetic_issues(12, start=2000)
    client = make_client(sentry)

    async def go() -> list[dict[str, Any]]:
        async with client:
            return await asyncio.gather(*(client.get_issue(i) for i in ids))

    assert sorted(issue["id"] for issue in asyncio.run(go())) == sorted(ids)
    assert sentry.rate_limited == 0
    per_window: dict[int, int] = {}
    for request in sentry.requests:
        per_window[int(request.started)] = per_window.get(int(request.started), 0) + 1
    assert max(per_window.values()) <= 5 and len(per_window) >= 3


def test_429_without_retry_after_waits_until_the_reset(sentry: FakeSentry) -> None:
    sentry.rate_limits = {"issue": 2}
    issue_id = sentry.add_synthetic_issues(1, start=3000)[0]
    _early_in_a_window()
    for _ in range(2):  # another program with the same token used up this window
        urllib.request.urlopen(
            urllib.request.Request(
                f"{sentry.url}/api/0/issues/{issue_id}/", headers={"Authorization": f"Bearer {TOKEN}"}
            )
        ).read()
    assert run(make_client(sentry), "get_issue", issue_id)["id"] == issue_id
    limited, succeeded = sentry.requests[2], sentry.requests[3]
    assert limited.status == 429 and succeeded.status == 200 and len(sentry.requests) == 4
    assert int(succeeded.started) == int(limited.started) + 1, "retried in the next window, not before"
    assert succeeded.started - (int(limited.started) + 1) < 0.3, "and without waiting longer than needed"


def test_retry_after_from_a_proxy_is_honoured(sentry: FakeSentry) -> None:
    issue_id = sentry.add_synthetic_issues(1, start=3100)[0]
    sentry.retry_after = 0.4
    sentry.inject(429)
    assert run(make_client(sentry), "get_issue", issue_id)["id"] == issue_id
    limited, succeeded = sentry.requests
    assert limited.status == 429 and succeeded.status == 200
    assert succeeded.started - limited.started >= 0.4


def test_concurrent_remaining_keeps_requests_in_flight_under_the_cap(sentry: FakeSentry) -> None:
    sentry.rate_limits = {"issue": 100}
    sentry.concurrent_limit = 2
    sentry.latency = 0.05
    ids = sentry.add_synthetic_issues(8, start=3200)
    client = make_client(sentry, max_concurrency=8)

    async def go() -> list[dict[str, Any]]:
        async with client:
            return await asyncio.gather(*(client.get_issue(i) for i in ids))

    assert len(asyncio.run(go())) == 8
    assert sentry.rate_limited == 0


def test_benchmark_shape_sentry_io_limits_end_to_end(sentry: FakeSentry) -> None:
    """20 issues under sentry.io's limits: no 429, every issue and event fetched, issue data from the index."""
    sentry.rate_limits = {"issue": 5, "event": 15, "index": 5}
    ids = sentry.add_synthetic_issues(20, start=5000)
    results = fetch([IssueRef(i) for i in ids], settings_for(sentry))
    assert all(isinstance(r, RawIssue) and r.event is not None for r in results.values())
    assert sentry.rate_limited == 0 and sentry.count(endpoint="issue") == 0


# --- host pinning and the token ---------------------------------------------------------------------------------


def test_host_mismatch_makes_no_request(sentry: FakeSentry) -> None:
    ref = IssueRef("1", org="acme", origin="https://sentry.other.example", text="https://sentry.other.example/...")
    result = fetch([ref], settings_for(sentry))[ref]
    assert isinstance(result, FetchFailure) and isinstance(result.error, HostMismatchError)
    text = str(result.error)
    assert "https://sentry.other.example" in text and sentry.url in text and "base_url" in text
    assert sentry.requests == []


def test_an_issue_on_another_port_of_the_same_host_makes_no_request(sentry: FakeSentry) -> None:
    with FakeSentry() as other_port:
        other_port.add_synthetic_issues(1, start=1)
        ref = parse_ref(f"{other_port.url}/organizations/acme/issues/1/")
        result = fetch([ref], settings_for(sentry))[ref]
        assert isinstance(result, FetchFailure) and isinstance(result.error, HostMismatchError)
        assert other_port.requests == [] and sentry.requests == []


def sentry_io_source(seen: list[httpx.Request]) -> SentrySource:
    """A source configured for https://sentry.io whose client answers every request from memory."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        issue, event = synthetic_issue(7)
        return httpx.Response(200, json=event if "/events/" in request.url.path else issue)

    def client(settings: Settings) -> SentryClient:
        return SentryClient.from_settings(settings, transport=httpx.MockTransport(handler), backoff_base=0.01)

    return SentrySource(client)


def fetch_from_sentry_io(pasted: str, seen: list[httpx.Request]) -> RawIssue | FetchFailure:
    ref = parse_ref(pasted)
    settings = Settings(base_url="https://sentry.io", token=TOKEN, retries=0)

    async def go() -> list[RawIssue | FetchFailure]:
        return [result async for result in sentry_io_source(seen).fetch([ref], settings)]

    [result] = asyncio.run(go())
    return result


@pytest.mark.parametrize(
    "pasted",
    [
        pytest.param("https://acme.sentry.io:8443/issues/7/", id="org-host"),
        pytest.param("https://sentry.io:8443/organizations/acme/issues/7/", id="apex"),
        pytest.param("http://de.sentry.io:8080/acme/issues/7/", id="region-over-http"),
    ],
)
def test_a_sentry_io_link_with_another_port_is_refused_before_any_request(pasted: str) -> None:
    seen: list[httpx.Request] = []
    result = fetch_from_sentry_io(pasted, seen)
    assert isinstance(result, FetchFailure) and isinstance(result.error, HostMismatchError)
    assert "https://sentry.io" in str(result.error) and seen == []


@pytest.mark.parametrize(
    "pasted",
    [
        pytest.param("https://acme.sentry.io/issues/7/", id="org-host"),
        pytest.param("https://acme.sentry.io:443/issues/7/", id="explicit-default-port"),
        pytest.param("http://de.sentry.io/acme/issues/7/", id="region-over-http"),
    ],
)
def test_a_sentry_io_link_on_the_standard_port_is_fetched_from_the_configured_origin(pasted: str) -> None:
    seen: list[httpx.Request] = []
    result = fetch_from_sentry_io(pasted, seen)
    assert isinstance(result, RawIssue) and result.issue["id"] == "7"
    assert seen and {(r.url.scheme, r.url.host, r.url.port) for r in seen} == {("https", "sentry.io", None)}
    assert {r.headers["authorization"] for r in seen} == {f"Bearer {TOKEN}"}


def test_no_token_fails_every_reference_before_any_request(sentry: FakeSentry) -> None:
    refs = [IssueRef("1"), IssueRef("2")]
    results = fetch(refs, settings_for(sentry, token=None))
    for ref in refs:
        failure = results[ref]
        assert isinstance(failure, FetchFailure)
        assert "config init" in str(failure.error) and "SENTRY_AUTH_TOKEN" in str(failure.error)
    assert sentry.requests == []


def test_redirect_to_another_origin_is_not_followed_with_the_token(sentry: FakeSentry) -> None:
    with FakeSentry() as elsewhere:
        elsewhere.add_synthetic_issues(1, start=1)
        sentry.redirect_to = elsewhere.url
        error = error_of(lambda: run(make_client(sentry), "get_issue", "1"))
        assert isinstance(error, InvalidResponseError) and elsewhere.url in str(error)
        assert all(r.authorization is None for r in elsewhere.requests)
        assert elsewhere.requests == []


def test_same_origin_redirect_is_followed_with_the_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/0/issues/1/":
            return httpx.Response(301, headers={"Location": "/api/0/issues/2/"})
        return httpx.Response(200, json={"id": "2"})

    client = SentryClient("https://sentry.example.com", TOKEN, transport=httpx.MockTransport(handler), **FAST)
    assert run(client, "get_issue", "1") == {"id": "2"}
    assert [r.headers.get("authorization") for r in seen] == [f"Bearer {TOKEN}"] * 2


def test_token_never_appears_in_messages_or_reprs(sentry: FakeSentry) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        header = request.headers["authorization"]
        return httpx.Response(404, json={"detail": f"no issue for {header}"})

    messages = [
        str(
            error_of(
                lambda: run(
                    SentryClient("https://s.example", TOKEN, transport=httpx.MockTransport(echo), **FAST),
                    "get_issue",
                    "1",
                )
            )
        )
    ]
    sentry.inject(502, times=5)
    messages.append(str(error_of(lambda: run(make_client(sentry), "get_issue", "1"))))
    messages.append(str(error_of(lambda: run(make_client(sentry, token="sntryu_wrong"), "get_issue", "1"))))
    assert "[Filtered]" in messages[0]
    client = make_client(sentry)
    for text in [*messages, repr(client), repr(settings_for(sentry))]:
        assert TOKEN not in text and "sntryu_wrong" not in text
    asyncio.run(client.aclose())


# --- check_access -----------------------------------------------------------------------------------------------


def test_check_access_proves_event_read_and_reports_org_read(sentry: FakeSentry) -> None:
    assert run(make_client(sentry), "check_access") == (
        "The token can read the issues of organisation acme (event:read) and read the organisation Acme (org:read)."
    )
    assert [(r.path, r.query.get("limit")) for r in sentry.requests] == [
        ("/api/0/organizations/acme/issues/", ["1"]),
        ("/api/0/organizations/acme/", None),
    ]


def test_check_access_reads_the_projects_list_when_a_project_is_known(sentry: FakeSentry) -> None:
    assert run(make_client(sentry), "check_access", "backend").startswith(
        "The token can read the issues of organisation acme, project backend (event:read)"
    )
    assert paths(sentry)[0] == "/api/0/projects/acme/backend/issues/"


LEAST = "sntryu_" + "1e" * 32
NO_EVENTS = "sntryu_" + "0e" * 32


@pytest.mark.parametrize("glitchtip", [False, True], ids=["sentry", "glitchtip"])
def test_a_least_privilege_token_is_accepted_and_told_what_it_lacks(glitchtip: bool) -> None:
    with FakeSentry(tokens={LEAST: {"event:read"}}, glitchtip=glitchtip) as server:
        said = run(make_client(server, token=LEAST), "check_access")
        assert said == (
            "The token can read the issues of organisation acme (event:read). It lacks org:read: issue numbers and "
            "URLs export, but short ids such as PROJ-1A will not resolve until the token has org:read."
        )


@pytest.mark.parametrize("glitchtip", [False, True], ids=["sentry", "glitchtip"])
def test_a_token_that_cannot_read_events_is_refused_naming_the_scope(glitchtip: bool) -> None:
    with FakeSentry(tokens={NO_EVENTS: {"org:read", "project:read"}}, glitchtip=glitchtip) as server:
        error = error_of(lambda: run(make_client(server, token=NO_EVENTS), "check_access"))
        assert isinstance(error, PermissionDeniedError) and "lacks the event:read scope" in str(error)


def test_a_short_id_without_org_read_says_that_scope_is_missing() -> None:
    with FakeSentry(tokens={LEAST: {"event:read"}}) as server:
        [issue_id] = server.add_synthetic_issues(1)
        short_id = run(make_client(server, token=LEAST), "get_issue", issue_id)["shortId"]  # by number: fine
        error = error_of(lambda: run(make_client(server, token=LEAST), "get_issue", short_id))
        assert isinstance(error, PermissionDeniedError)
        assert "org:read" in str(error) and "numeric issue id" in str(error)


def test_check_access_without_organisation_uses_the_api_root(sentry: FakeSentry) -> None:
    assert run(make_client(sentry, org=None), "check_access") == "user dev@example.com"


@pytest.mark.parametrize(
    ("token", "org", "expected"),
    [("bad", "acme", AuthError), ("bad", None, AuthError), (TOKEN, "nope", NotFoundError)],
)
def test_check_access_failures(sentry: FakeSentry, token: str, org: str | None, expected: type[FetchError]) -> None:
    error = error_of(lambda: run(make_client(sentry, token=token, org=org), "check_access"))
    assert isinstance(error, expected)


def test_check_access_of_an_unreachable_server_is_a_network_error() -> None:
    with FakeSentry() as gone:
        url = gone.url
    error = error_of(lambda: run(SentryClient(url, TOKEN, org="acme", **{**FAST, "retries": 0}), "check_access"))
    assert isinstance(error, NetworkError)


# --- pure pieces ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "cursor"),
    [
        (
            '<https://sentry.io/api/0/x/?cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", '
            '<https://sentry.io/api/0/x/?cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"',
            "0:100:0",
        ),
        ('<https://s/x/?cursor=0:100:0>; rel="next"; results="false"; cursor="0:100:0"', None),
        ('(<https://gt.example/api/0/x/?cursor=cD0yMA%3D%3D>; rel="next")', "cD0yMA=="),
        ("", None),
        ("garbage", None),
    ],
)
def test_next_cursor(link: str, cursor: str | None) -> None:
    assert next_cursor(link) == cursor


def test_base_url_must_be_http() -> None:
    assert str(origin_of("https://Sentry.Example.com/api/0/")) == "https://sentry.example.com"
    with pytest.raises(Exception, match="not an http"):
        origin_of("sentry.example.com")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://sentry.example.com", "https://sentry.example.com/api/0/issues/1/"),
        ("https://sentry.example.com/api/0/", "https://sentry.example.com/api/0/issues/1/"),
        ("https://example.com/sentry/", "https://example.com/sentry/api/0/issues/1/"),
        ("https://acme.sentry.io/issues/5/", "https://acme.sentry.io/api/0/issues/1/"),
    ],
)
def test_api_urls_are_built_from_the_base_url(base_url: str, expected: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"id": "1"})

    run(SentryClient(base_url, TOKEN, transport=httpx.MockTransport(handler), **FAST), "get_issue", "1")
    assert seen == [expected]


def test_content_type_is_checked_before_parsing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=json.dumps({"id": "1"}), headers={"Content-Type": "text/plain"})

    client = SentryClient("https://sentry.example.com", TOKEN, transport=httpx.MockTransport(handler), **FAST)
    error = error_of(lambda: run(client, "get_issue", "1"))
    assert isinstance(error, InvalidResponseError) and "text/plain instead of JSON" in str(error)


# an answer whose Content-Length exceeds the cap is refused without reading its body.
class _CountingStream(httpx.AsyncByteStream):
    def __init__(self) -> None:
        self.chunks_read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.chunks_read += 1
        yield b'{"id": "1"}'


def test_declared_oversized_answer_is_refused_unread() -> None:
    stream = _CountingStream()

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"Content-Type": "application/json", "Content-Length": "200000"}
        return httpx.Response(200, headers=headers, stream=stream)

    async def go() -> BaseException | None:
        async with SentryClient(
            "https://sentry.example.com",
            UNUSED_TOKEN,
            transport=httpx.MockTransport(handler),
            retries=0,
            max_response_bytes=100_000,
        ) as client:
            try:
                await client.get_issue("1")
            except Exception as exc:
                return exc
        return None

    error = asyncio.run(go())
    assert isinstance(error, InvalidResponseError) and "larger than the limit of 100,000 bytes" in str(error)
    assert stream.chunks_read == 0


UNUSED_TOKEN = "sntryu_" + "a1" * 32


# an unexpected exception while fetching one reference fails that reference only.
class _ExplodingClient:
    index_ignores_groups = False

    async def __aenter__(self) -> _ExplodingClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def scrub(self, text: str) -> str:
        return text

    scoped_routes = True

    async def get_issues_batch(self, org: str, ids: list[str], *, daily_stats: bool = False) -> dict:
        return {}

    async def get_issue(self, issue_id: str, org: str | None = None) -> dict:
        if issue_id == "2":
            raise RuntimeError("unexpected shape")
        return {"id": issue_id}

    async def get_event(self, issue_id: str, org: str | None, event_id: str) -> dict:
        return {"eventID": "a" * 32}

    async def get_issue_tags(self, issue_id: str, org: str | None = None, *, values: int = 5) -> list:
        if issue_id == "3":
            raise RuntimeError("unexpected tags")
        return []

    async def get_issue_events(self, issue_id: str, org: str | None = None, *, limit: int = 5) -> list:
        return []


def test_an_unexpected_error_fails_one_reference_only() -> None:
    from sentry_issue_export.hookspecs import FetchFailure, RawIssue
    from sentry_issue_export.refs import parse_refs
    from sentry_issue_export.settings import Settings
    from sentry_issue_export.sources.sentry import SentrySource

    source = SentrySource(client_factory=lambda settings: _ExplodingClient())  # type: ignore[arg-type,return-value]
    refs = parse_refs("1 2 3").refs

    async def go() -> list:
        return [item async for item in source.fetch(refs, Settings(token=UNUSED_TOKEN, org="acme"))]

    results = {item.ref.issue_id: item for item in asyncio.run(go())}
    assert sorted(results) == ["1", "2", "3"]
    assert isinstance(results["1"], RawIssue) and isinstance(results["3"], RawIssue)
    assert isinstance(results["2"], FetchFailure) and "please report this bug" in str(results["2"].error)
    # A bug in reading one issue-wide part costs that part only, and says so.
    assert results["3"].event is not None and results["3"].tags is None
    assert results["3"].unavailable == {"tags": "Not read: reading it failed unexpectedly (RuntimeError)."}


def test_a_sentry_named_only_by_the_environment_is_asked_once_whether_it_is_another_kind(monkeypatch) -> None:
    """Once per holder of a ServerKinds (an MCP server keeps one for its life), once per export otherwise: no
    process-wide memory, so a port reused by another server is asked again."""
    from fastmcp import Client

    from sentry_issue_export import export_issues_sync, resolve_settings
    from sentry_issue_export.mcp.server import ServerOptions, make_server
    from sentry_issue_export.selection import ServerKinds

    with FakeSentry() as sentry:
        [issue_id] = sentry.add_synthetic_issues(1)
        monkeypatch.setenv("SENTRY_URL", f"{sentry.url}/organizations/acme/")
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
        kinds = ServerKinds()
        for _ in range(2):
            result = export_issues_sync(issue_id, resolve_settings(), write=False, server_kinds=kinds)
            assert result.failures == () and result.reports[0].issue.id == issue_id
        assert paths(sentry).count("/api/canonical/0/") == 1  # the Bugsink source's one question
        export_issues_sync(issue_id, resolve_settings(), write=False)  # a call of its own asks afresh
        assert paths(sentry).count("/api/canonical/0/") == 2

        async def two_calls(out: str) -> None:
            async with Client(make_server(ServerOptions(output_dir=Path(out)))) as client:
                for _ in range(2):
                    assert not (await client.call_tool("view_sentry_issue", {"issue_url_or_id": issue_id})).is_error

        with tempfile.TemporaryDirectory() as out:
            asyncio.run(two_calls(out))
        assert paths(sentry).count("/api/canonical/0/") == 3  # one question for the server's life


def test_a_server_forced_to_glitchtip_gets_the_legacy_routes_from_the_first_request(monkeypatch) -> None:
    from sentry_issue_export import export_issues_sync, resolve_settings

    with FakeSentry(glitchtip=True) as glitchtip:
        [issue_id] = glitchtip.add_synthetic_issues(1, start=70)
        env = {"SENTRY_URL": glitchtip.url, "SENTRY_ORG": "acme", "SENTRY_AUTH_TOKEN": TOKEN}
        settings = resolve_settings(env={**env, "EXPORT_SENTRY_ISSUE_SERVER": "glitchtip"})
        assert (settings.source, settings.server, settings.detect_source) == ("sentry", "glitchtip", False)
        assert export_issues_sync(issue_id, settings, write=False).failures == ()
        assert paths(glitchtip)[0] == f"/api/0/issues/{issue_id}/"
        legacy = [f"/api/0/issues/{issue_id}/{part}/" for part in ("events/latest", "events", "tags")]
        assert sorted(paths(glitchtip)[1:]) == sorted(legacy)
    with pytest.raises(ConfigError, match="EXPORT_SENTRY_ISSUE_SERVER must be one of sentry, glitchtip, bugsink"):
        resolve_settings(env={"EXPORT_SENTRY_ISSUE_SERVER": "gitlab"})


# --- how many requests fly at once ------------------------------------------------------------------------------

GENEROUS = {"issue": 1000, "event": 1000, "index": 1000}
"""Rate limits no export here reaches: the server sends its headers, ConcurrentLimit among them."""


def peak_in_flight(fake: FakeSentry, **changes: Any) -> int:
    fake.latency = 0.05
    ids = fake.add_synthetic_issues(80)
    results = fetch([IssueRef(issue_id) for issue_id in ids], settings_for(fake, **changes))
    assert all(isinstance(result, RawIssue) for result in results.values())
    return fake.peak_in_flight


def test_eight_requests_fly_at_once_for_a_server_that_advertises_no_limit(sentry: FakeSentry) -> None:
    assert peak_in_flight(sentry) == 8


def test_an_advertised_concurrency_limit_is_used_up_to_it(sentry: FakeSentry) -> None:
    sentry.rate_limits = dict(GENEROUS)
    sentry.concurrent_limit = 20
    assert 8 < peak_in_flight(sentry) <= 20
    assert sentry.rate_limited == 0


def test_a_concurrency_given_by_the_user_is_kept_whatever_the_server_advertises(sentry: FakeSentry) -> None:
    sentry.rate_limits = dict(GENEROUS)
    sentry.concurrent_limit = 20
    assert peak_in_flight(sentry, max_concurrency=3) == 3


def test_the_issue_index_is_read_a_page_at_a_time_as_its_issues_start(sentry: FakeSentry) -> None:
    """Events of the first page start before the last index page is asked for: no wait for the whole index."""
    ids = sentry.add_synthetic_issues(350)
    results = fetch([IssueRef(issue_id) for issue_id in ids], settings_for(sentry))
    assert all(isinstance(result, RawIssue) for result in results.values())
    order = [r.endpoint for r in sentry.requests if r.endpoint in {"index", "event"}]
    assert order.count("index") == 8 and order.count("event") == 350  # each page twice: hourly and daily stats
    last_index = len(order) - 1 - order[::-1].index("index")
    assert "event" in order[:last_index]
    assert not any(r.endpoint == "issue" for r in sentry.requests)  # every issue came from the index


def test_the_next_index_page_is_read_before_its_issues_need_it(sentry: FakeSentry) -> None:
    """Each page's index request starts before the last event of the page before it: no stall between pages."""
    sentry.latency = 0.01
    ids = sentry.add_synthetic_issues(300)
    results = fetch([IssueRef(issue_id) for issue_id in ids], settings_for(sentry))
    assert all(isinstance(result, RawIssue) for result in results.values())
    by_group = {r.query["group"][0]: r.started for r in sentry.requests if r.endpoint == "index"}
    event_started = {
        r.path.split("/issues/")[1].split("/")[0]: r.started for r in sentry.requests if r.endpoint == "event"
    }
    for page in (1, 2):
        last_event_before = max(event_started[issue_id] for issue_id in ids[(page - 1) * 100 : page * 100])
        assert by_group[ids[page * 100]] < last_event_before, f"index page {page + 1} waited for page {page}"
