"""What an issue says across all its events, end to end over real sockets: Sentry (the fake, with its quirks and
limits) and GlitchTip's variant, in text, markdown, json and the MCP answer; each part's failure is one line."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sentry_issue_export import Settings, export_issues_sync
from sentry_issue_export.mcp.server import ServerOptions, make_server
from sentry_issue_export.samples import load_sample
from tests.fake_sentry import SENTRY_IO_LIMITS, TOKEN, FakeSentry, synthetic_issue

SAMPLE = load_sample("python_chained_exception")
ISSUE_ID = SAMPLE["issue"]["id"]


@pytest.fixture
def sentry() -> Any:
    with FakeSentry() as fake:
        yield fake


def serve_sample(fake: FakeSentry) -> None:
    """The sample issue with its tags, stats, releases, activity and five recent events."""
    latest = SAMPLE["event"]
    older = [event for event in reversed(SAMPLE["events"]) if event["eventID"] != latest["eventID"]]
    fake.add_issue(SAMPLE["issue"], latest, events=older, tags=SAMPLE["tags"])


def settings_for(fake: FakeSentry, **changes: Any) -> Settings:
    return Settings(**{"base_url": fake.url, "org": "acme", "token": TOKEN, "retries": 1, **changes})


FACTS = [
    # each tag's top values with their shares
    "Chrome 122.0.0 888 (69%)",
    "Safari 17.3 347 (27%)",
    "storefront-api@2025.03.2+8c1e4f7 502 (39%)",
    "production 1,284 (>99%)",
    "canary 3 (<1%)",
    "handled",
    "no, all 1,287 events",
    # the trend: the day's total and peak, the month's total
    "131 events; peak 14 in the hour from 2025-03-13 17:00 UTC",
    "1,287 events; peak 207 on 2025-03-13",
    # both releases and the regression
    "storefront-api@2025.02.4+19ab02c",
    "Regressed in",
    # the team's note with its author
    "note by Priya Raman",
    "Happens when the SKU was swapped after a size exchange.",
    # each recent event's id and message
    *[event["eventID"] for event in SAMPLE["events"]],
    *[event["title"] for event in SAMPLE["events"]],
]


def folded(text: str) -> str:
    """Markdown escapes some punctuation with a backslash and a JSON report escapes nothing we look for."""
    return text.replace("\\", "")


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_sentry_issue_shows_every_fact_of_the_issue_across_its_events(sentry: FakeSentry, fmt: str) -> None:
    serve_sample(sentry)
    result = export_issues_sync(ISSUE_ID, settings_for(sentry, format=fmt), write=False)
    assert result.failures == ()
    missing = [fact for fact in FACTS if fact not in folded(result.content)]
    assert missing == []
    # the issue-wide part comes before the event
    assert folded(result.content).index("Happens when the SKU") < folded(result.content).index("KeyError")


def test_json_keeps_the_raw_numbers(sentry: FakeSentry) -> None:
    serve_sample(sentry)
    result = export_issues_sync(ISSUE_ID, settings_for(sentry, format="json"), write=False)
    overview = json.loads(result.content)["reports"][0]["overview"]
    assert [trend["period"] for trend in overview["trends"]] == ["24h", "30d"]
    assert sum(count for _, count in overview["trends"][1]["buckets"]) == 1_287
    browser = next(tag for tag in overview["tags"] if tag["key"] == "browser")
    assert (browser["total"], [value["count"] for value in browser["values"]]) == (1287, [888, 347, 52])
    assert [event["id"] for event in overview["recent_events"]] == [e["eventID"] for e in SAMPLE["events"]]
    assert overview["recent_events"][0]["is_shown"] and overview["recent_events"][3]["differs"] == [
        "title",
        "environment",
    ]


def test_the_mcp_answer_shows_every_fact_within_its_budget(sentry: FakeSentry, tmp_path: Path, monkeypatch) -> None:
    from fastmcp import Client

    serve_sample(sentry)
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("SENTRY_URL", f"{sentry.url}/organizations/acme/")

    async def go() -> str:
        async with Client(make_server(ServerOptions(output_dir=tmp_path))) as client:
            result = await client.call_tool("view_sentry_issue", {"issue_url_or_id": ISSUE_ID})
            return result.content[0].text  # type: ignore[union-attr]

    answer = asyncio.run(go())
    assert len(answer) <= 32_000
    assert [fact for fact in FACTS if fact not in answer] == []


def test_the_parts_go_out_with_the_event_and_ask_for_what_the_settings_say(sentry: FakeSentry) -> None:
    serve_sample(sentry)
    sentry.latency = 0.15
    result = export_issues_sync(ISSUE_ID, settings_for(sentry, recent_events=3, tag_values=2), write=False)
    assert result.failures == ()
    [tags] = [r for r in sentry.requests if r.endpoint == "tags"]
    [events] = [r for r in sentry.requests if r.endpoint == "events"]
    assert tags.query["limit"] == ["2"] and events.query["per_page"] == ["3"]
    # The event, its tags and its events list were in flight together, after the issue.
    assert sentry.peak_in_flight >= 3
    assert sentry.requests[0].endpoint == "issue"
    report = result.reports[0]
    assert len(report.overview.recent_events) == 3 and all(len(tag.values) <= 2 for tag in report.overview.tags)


def test_zero_turns_a_part_off_and_asks_nothing(sentry: FakeSentry) -> None:
    serve_sample(sentry)
    result = export_issues_sync(ISSUE_ID, settings_for(sentry, recent_events=0, tag_values=0), write=False)
    assert sorted(r.endpoint for r in sentry.requests) == ["event", "issue"]
    assert "RECENT EVENTS" not in result.content and "TAGS ACROSS ALL EVENTS" not in result.content
    assert "TREND" in result.content and "ACTIVITY" in result.content  # the issue's own fields stay


@pytest.mark.parametrize(
    ("fault", "path", "heading", "said"),
    [
        (403, "/tags/", "TAGS ACROSS ALL EVENTS", "Not read: Sentry refused"),
        (404, "/events/", "RECENT EVENTS", "Not read: "),
        ("malformed", "/tags/", "TAGS ACROSS ALL EVENTS", "Not read: "),
        (500, "/events/", "RECENT EVENTS", "Not read: "),
        ("html", "/tags/", "TAGS ACROSS ALL EVENTS", "Not read: "),
    ],
)
def test_a_part_that_fails_is_one_line_and_the_rest_is_whole(
    sentry: FakeSentry, fault: Any, path: str, heading: str, said: str
) -> None:
    serve_sample(sentry)
    sentry.inject(fault, times=5, path_endswith=f"/issues/{ISSUE_ID}{path}")
    result = export_issues_sync(ISSUE_ID, settings_for(sentry, retries=0), write=False)
    assert result.failures == () and len(result.issues) == 1
    section = result.content.split(heading + "\n")[1].split("\n\n")[0]
    assert said in section, section
    assert "STACK TRACE" in result.content and "Happens when the SKU" in result.content


def test_a_batch_from_the_index_reads_activity_and_releases_from_their_own_answers(sentry: FakeSentry) -> None:
    ids = []
    for number in (1, 2, 3):
        issue, event = synthetic_issue(4_200_000_000 + number)
        older_id = "a" * 31 + str(number)
        older = dict(event, id=older_id, eventID=older_id, dateCreated="2024-04-30T08:00:00Z")
        older["tags"] = [{"key": "release", "value": "1.0.0"}, {"key": "environment", "value": "staging"}]
        ids.append(sentry.add_issue(issue, event, events=[older]))
    result = export_issues_sync(" ".join(ids), settings_for(sentry), write=False)
    assert result.failures == ()
    assert sentry.count(endpoint="issue") == 0 and sentry.count(endpoint="activity") == 3
    overview = result.reports[0].overview
    assert [entry.type for entry in overview.activity] == ["first_seen"]
    # The index names no releases: they come from the release tag's values, which cover every event here.
    assert (overview.first_release.version, overview.last_release.version) == ("1.0.0", "1.0.1")
    assert overview.releases_from_tags == 2 and overview.releases_complete
    assert [trend.period for trend in overview.trends] == ["24h", "14d"]
    assert "Read from:      the release tag's 2 values" in result.content


def test_glitchtip_says_what_it_does_not_give_and_still_exports() -> None:
    with FakeSentry(glitchtip=True) as glitchtip:
        issue, event = synthetic_issue(77)
        issue["stats"] = {"24h": []}  # GlitchTip's placeholder
        issue["userCount"] = int(issue["count"])  # ... and its user count, which counts events
        issue_id = glitchtip.add_issue(issue, event)
        result = export_issues_sync(issue_id, settings_for(glitchtip, tag_values=1), write=False)
    assert result.failures == ()
    text = result.content
    assert "GlitchTip's issue API gives no event counts over time" in text
    assert "GlitchTip's issue API names no first or last release." in text
    assert "GlitchTip's API gives no activity" in text
    assert result.reports[0].issue.user_count is None  # not shown as a number of users
    tags = result.reports[0].overview.tags
    assert tags and all(len(tag.values) == 1 and tag.unique is not None for tag in tags)  # cut here, to one
    assert f"{event['eventID']}  2024-05-02 11:30:00 UTC" in text


def test_secrets_in_tags_and_recent_events_are_redacted(sentry: FakeSentry, tmp_path: Path) -> None:
    issue, event = synthetic_issue(91)
    secret = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    event["title"] = f"Stripe refused key {secret}"
    event["tags"] = [*event["tags"], {"key": "api_key", "value": "hunter2-very-secret"}]
    issue_id = sentry.add_issue(issue, event)
    result = export_issues_sync(issue_id, settings_for(sentry, output_dir=tmp_path, debug=True))
    files = [result.content, *(path.read_text() for path in result.debug_paths)]
    for text in files:
        assert secret not in text and "hunter2-very-secret" not in text
    assert "api_key" in result.content and "[Filtered]" in result.content.split("TAGS ACROSS ALL EVENTS")[1]


def test_under_sentry_ios_limits_each_endpoint_keeps_to_its_own_pace(sentry: FakeSentry) -> None:
    sentry.rate_limits = dict(SENTRY_IO_LIMITS)
    sentry.concurrent_limits = {"tags": 10}
    ids = [sentry.add_issue(*synthetic_issue(4_300_000_000 + n)) for n in range(25)]
    result = export_issues_sync(" ".join(ids), settings_for(sentry), write=False)
    assert result.failures == () and sentry.rate_limited == 0
    per_second = Counter((r.endpoint, int(r.started)) for r in sentry.requests)
    assert max(count for (endpoint, _), count in per_second.items() if endpoint == "tags") <= 10
    assert max(count for (endpoint, _), count in per_second.items() if endpoint == "event") <= 15
    assert sentry.count(endpoint="tags") == 25 and sentry.count(endpoint="events") == 25


def test_a_search_answers_with_a_headline_for_every_match(sentry: FakeSentry, tmp_path: Path, monkeypatch) -> None:
    """30 issues found through export_issues_tool, and through a pasted issue-list address: every one of them
    has its line (id and title) in an answer of at most 32,000 characters."""
    from fastmcp import Client

    ids = sentry.add_synthetic_issues(30, start=4_400_000_000)
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("SENTRY_URL", f"{sentry.url}/organizations/acme/")
    pasted = f"{sentry.url}/organizations/acme/issues/?query=is%3Aunresolved"

    async def go() -> tuple[str, str]:
        async with Client(make_server(ServerOptions(output_dir=tmp_path))) as client:
            found = await client.call_tool("export_issues_tool", {"query": "is:unresolved", "limit": 30})
            viewed = await client.call_tool("view_sentry_issue", {"issue_url_or_id": pasted})
            return found.content[0].text, viewed.content[0].text  # type: ignore[union-attr]

    for answer, shown in zip(asyncio.run(go()), (30, 30), strict=True):
        assert len(answer) <= 32_000
        headlines = re.findall(r"^(\d+)\.\s+(BACKEND-\w+)\s+error\s.*ValueError: invalid literal", answer, re.M)
        assert [int(number) for number, _ in headlines] == list(range(1, shown + 1))
        assert len({short_id for _, short_id in headlines}) == shown
    assert len(ids) == 30
