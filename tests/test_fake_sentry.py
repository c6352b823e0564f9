"""The fake Sentry behaves like the real one where the client's tests depend on it (see SENTRY_API.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fake_sentry import NO_EVENT_DETAIL, TOKEN, FakeSentry, synthetic_issue

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def sentry() -> Iterator[FakeSentry]:
    with FakeSentry() as fake:
        yield fake


def get(fake: FakeSentry, path: str, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    return httpx.get(f"{fake.url}/api/0/{path}", headers=AUTH if headers is None else headers, params=params)


def test_issue_on_scoped_legacy_and_short_id_paths(sentry: FakeSentry) -> None:
    issue, event = synthetic_issue(123)
    sentry.add_issue(issue, event)
    for path in ("organizations/acme/issues/123/", "issues/123/", f"organizations/acme/issues/{issue['shortId']}/"):
        assert get(sentry, path).json()["id"] == "123"
    assert get(sentry, f"issues/{issue['shortId']}/").status_code == 404  # legacy paths take numeric ids only
    short = get(sentry, f"organizations/acme/shortids/{issue['shortId']}/").json()
    assert short["groupId"] == "123" and short["group"]["id"] == "123" and short["organizationSlug"] == "acme"
    assert get(sentry, "organizations/other/issues/123/").status_code == 404


def test_events_latest_oldest_by_id_and_none_in_retention(sentry: FakeSentry) -> None:
    issue, latest = synthetic_issue(1)
    older = dict(latest, id="e" * 32, eventID="e" * 32)
    sentry.add_issue(issue, latest, events=[older])
    base = "organizations/acme/issues/1/events"
    assert get(sentry, f"{base}/latest/").json()["id"] == latest["id"]
    assert get(sentry, f"{base}/oldest/").json()["id"] == "e" * 32
    assert get(sentry, f"{base}/{'e' * 32}/").json()["id"] == "e" * 32
    sentry.add_issue(synthetic_issue(2)[0], None)
    missing = get(sentry, "organizations/acme/issues/2/events/latest/")
    assert missing.status_code == 404 and missing.json() == {"detail": NO_EVENT_DETAIL}


def test_index_with_group_ignores_the_query_and_is_lighter(sentry: FakeSentry) -> None:
    ids = sentry.add_synthetic_issues(3, start=10)
    answer = httpx.get(
        f"{sentry.url}/api/0/organizations/acme/issues/",
        params=[("group", ids[0]), ("group", ids[2]), ("query", "is:resolved"), ("project", "-1")],
        headers=AUTH,
    ).json()
    assert sorted(i["id"] for i in answer) == [ids[0], ids[2]]
    assert "tags" not in answer[0] and "title" in answer[0]


def test_pagination_link_header(sentry: FakeSentry) -> None:
    sentry.add_synthetic_issues(30, start=100)
    first = get(sentry, "organizations/acme/issues/", limit="25")
    assert len(first.json()) == 25
    assert 'rel="next"; results="true"; cursor="0:25:0"' in first.headers["link"]
    second = get(sentry, "organizations/acme/issues/", limit="25", cursor="0:25:0")
    assert len(second.json()) == 5 and 'rel="next"; results="false"' in second.headers["link"]


def test_auth_bodies(sentry: FakeSentry) -> None:
    assert get(sentry, "issues/1/", headers={}).json() == {"detail": "Authentication credentials were not provided."}
    wrong = get(sentry, "issues/1/", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json() == {"detail": "Invalid token"}
    sentry.add_synthetic_issues(1, start=5)
    sentry.forbid("5")
    assert get(sentry, "issues/5/").status_code == 403
    assert sentry.requests[0].authorization is None and sentry.requests[-1].authorization == AUTH["Authorization"]


def test_rate_limit_headers_and_429_in_fixed_windows(sentry: FakeSentry) -> None:
    sentry.rate_limits = {"issue": 2}
    sentry.add_synthetic_issues(1, start=7)
    if time.time() % 1 > 0.7:
        time.sleep(1 - time.time() % 1 + 0.01)
    answers = [get(sentry, "issues/7/") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-sentry-rate-limit-remaining"] for a in answers] == ["1", "0", "0"]
    assert int(answers[0].headers["x-sentry-rate-limit-reset"]) == int(sentry.requests[0].started) + 1
    assert "retry-after" not in answers[2].headers
    assert (
        answers[2].json() == "You are attempting to use this endpoint too frequently. Limit is 2 requests in 1 seconds"
    )
    assert "x-sentry-rate-limit-remaining" not in get(sentry, "organizations/acme/").headers  # other class: unlimited


def test_glitchtip_mode(sentry: FakeSentry) -> None:
    sentry.glitchtip = True
    sentry.rate_limits = {"issue": 1}
    sentry.add_synthetic_issues(1, start=9)
    assert get(sentry, "organizations/acme/issues/9/").status_code == 405
    page = get(sentry, "organizations/acme/issues/9/events/latest/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    legacy = [get(sentry, "issues/9/") for _ in range(3)]
    assert all(a.status_code == 200 and "x-sentry-rate-limit-limit" not in a.headers for a in legacy)
    assert "assignedTo" not in legacy[0].json() and legacy[0].json()["permalink"].endswith("/backend/issues/9")
    event = get(sentry, "issues/9/events/latest/").json()
    frame = event["entries"][0]["data"]["values"][0]["stacktrace"]["frames"][0]
    assert event["projectID"] == 42 and event["errors"] is None
    assert frame["context_line"] == "    return int(text)" and "colNo" not in frame
    assert get(sentry, "issues/404/").json() == {"detail": "Not Found"}
    assert get(sentry, "issues/9/", headers={}).json() == {"detail": "Unauthorized"}


@pytest.mark.parametrize(("fault", "status"), [(502, 502), ("html500", 500), ("truncated", 200)])
def test_injected_faults_hit_only_the_next_matching_requests(sentry: FakeSentry, fault: str | int, status: int) -> None:
    sentry.add_synthetic_issues(1, start=3)
    sentry.inject(fault, path_contains="/issues/3/")
    assert get(sentry, "organizations/acme/").status_code == 200
    assert get(sentry, "issues/3/").status_code == status
    assert get(sentry, "issues/3/").json()["id"] == "3"


def test_dropped_connection_breaks_the_body(sentry: FakeSentry) -> None:
    sentry.add_synthetic_issues(1, start=4)
    sentry.inject("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        get(sentry, "issues/4/")
