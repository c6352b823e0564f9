"""The bugsink source against a real Bugsink 2.6 on loopback, filled by the real sentry-sdk (``bugsink_server.py``).

Every reference form Bugsink users paste, least-privilege tokens, the config's detection of a Bugsink server,
and the MCP tools on top: all over real HTTP, with Bugsink's own answers.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fastmcp import Client

from sentry_issue_export import Settings, export_issues_sync
from sentry_issue_export.cli import main
from sentry_issue_export.config import config_path, init_config, load_saved
from sentry_issue_export.errors import AuthError, ConfigError, HostMismatchError, PermissionDeniedError
from sentry_issue_export.mcp.server import ServerOptions, make_server
from tests.bugsink_server import Bugsink

pytestmark = pytest.mark.slow

SECRETS = ("abc123", "eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJl", "4eC39HqLyjWDarjtT1zdp7dc")


def settings(bugsink: Bugsink, token: str | None = None, **changes: object) -> Settings:
    return Settings(source="bugsink", base_url=bugsink.url, token=token or bugsink.reader, retries=1, **changes)


def issue(bugsink: Bugsink, friendly_id: str) -> dict:
    [found] = [item for item in bugsink.get("issues/").json()["results"] if item["friendly_id"] == friendly_id]
    return found


def events(bugsink: Bugsink, issue_id: str) -> list[dict]:
    return bugsink.get(f"events/?issue={issue_id}&order=asc").json()["results"]


def test_friendly_ids_uuids_and_web_addresses_all_export(bugsink: Bugsink) -> None:
    checkout = issue(bugsink, "BACKEND-1")
    first, second = events(bugsink, checkout["id"])
    web = f"{bugsink.url}/issues/issue/{checkout['id']}"
    refs = {
        "BACKEND-1": second,
        checkout["id"]: second,
        checkout["id"].replace("-", "").upper(): second,
        f"{web}/event/last/": second,
        f"{web}/event/first/": first,
        f"{web}/event/1/details/": first,
        f"{web}/event/{first['id']}/": first,
        f"{web}/tags/": second,
    }
    for ref, event in refs.items():
        result = export_issues_sync(ref, settings(bugsink), write=False)
        assert result.failures == (), (ref, result.failures)
        [report] = result.reports
        assert (report.issue.short_id, report.event.id) == ("BACKEND-1", event["event_id"].replace("-", "")), ref


def test_a_bugsink_report_shows_what_the_sdk_sent_and_no_secret(bugsink: Bugsink) -> None:
    for fmt in ("text", "markdown", "json"):
        content = export_issues_sync("BACKEND-1 BACKEND-2", settings(bugsink, format=fmt), write=False).content
        assert all(secret not in content for secret in SECRETS), fmt
    text = export_issues_sync("BACKEND-1", settings(bugsink), write=False).content
    for expected in (
        "Short ID:      BACKEND-1",
        "Title:         ValueError: unknown SKU in cart: 'SKU-9'",
        "Count:         2 events",
        f"Permalink:     {bugsink.url}/issues/issue/{issue(bugsink, 'BACKEND-1')['id']}/",
        "Project:       project 1",  # the least-privilege token may not read the project's name
        "Release:       shop@3.1.0",
        "KeyError: 'SKU-9'",
        "shop_app.py:21 in checkout [in app]",
        "POST https://shop.example.com/checkout",
        "coupon = SPRING",
        "tenant = acme",
    ):
        assert expected in text, expected
    full = export_issues_sync("BACKEND-1", settings(bugsink, bugsink.full), write=False).content
    assert "Project:       backend" in full


def test_a_number_is_refused_with_what_to_give_and_nothing_is_dropped(bugsink: Bugsink) -> None:
    result = export_issues_sync(f"BACKEND-2 1 {issue(bugsink, 'BACKEND-1')['id']}", settings(bugsink), write=False)
    assert [report.issue.short_id for report in result.reports] == ["BACKEND-2", "BACKEND-1"]
    [failure] = result.failures
    assert failure.ref_text == "1" and "Bugsink issues have no numbers" in failure.message


def test_a_token_without_events_read_fails_naming_that_right(bugsink: Bugsink) -> None:
    [failure] = export_issues_sync("BACKEND-1", settings(bugsink, bugsink.issues_only), write=False).failures
    assert isinstance(failure.error, PermissionDeniedError)
    assert "Bugsink refused access (403)" in failure.message and "events:read" in failure.message


def test_a_wrong_token_is_a_401_in_bugsinks_words(bugsink: Bugsink) -> None:
    [failure] = export_issues_sync("BACKEND-1", settings(bugsink, "0" * 40), write=False).failures
    assert isinstance(failure.error, AuthError) and "Bugsink rejected the token (401)" in failure.message
    assert "0" * 40 not in failure.message


def test_an_address_on_another_server_is_refused_without_a_request(bugsink: Bugsink) -> None:
    foreign = "https://bugs.other.example/issues/issue/3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b/event/last/"
    [failure] = export_issues_sync(foreign, settings(bugsink), write=False).failures
    assert isinstance(failure.error, HostMismatchError) and bugsink.url in failure.message


def test_config_init_finds_a_bugsink_server_and_the_cli_exports_with_it(bugsink: Bugsink, capsys) -> None:
    saved = asyncio.run(init_config(bugsink.url, bugsink.reader))
    assert saved.source == "bugsink" and load_saved() == saved
    assert saved.access == "The token can read issues and their events (issues:read, events:read)."
    assert main(["BACKEND-2", "--output", "-"]) == 0
    assert "payment provider stripe answered 502" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", ["0" * 40, "not-even-hex"], ids=["unknown-token", "malformed-token"])
def test_a_rejected_token_is_told_in_bugsinks_words_by_init_and_export(
    bugsink: Bugsink, path: Path, wrong: str
) -> None:
    """Nothing names the server's kind: Bugsink is still recognised by its 401, so the user hears that the token
    was rejected, not that the server "is no Sentry"."""
    with pytest.raises(ConfigError) as caught:
        asyncio.run(init_config(bugsink.url, wrong, path=path))
    assert "rejected the token" in str(caught.value) and "Bugsink" in str(caught.value), caught.value
    assert not path.exists()

    found = Settings(base_url=bugsink.url, token=wrong, retries=0, detect_source=True)
    [failure] = export_issues_sync("BACKEND-1", found, write=False).failures
    assert isinstance(failure.error, AuthError) and "Bugsink" in failure.message, failure.message


def test_config_init_refuses_a_bugsink_token_that_cannot_read_events(bugsink: Bugsink, path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        asyncio.run(init_config(bugsink.url, bugsink.issues_only, source="bugsink", path=path))
    assert "nothing was saved" in str(caught.value) and "events:read" in str(caught.value)
    assert not path.exists()


def test_the_mcp_tools_save_a_bugsink_token_and_export_from_it(bugsink: Bugsink, tmp_path: Path) -> None:
    async def session() -> tuple[str, str]:
        async with Client(make_server(ServerOptions(output_dir=tmp_path))) as client:
            saved = await client.call_tool("initialize_config", {"base_url": bugsink.url, "token": bugsink.reader})
            answer = await client.call_tool("view_sentry_issue", {"issue_url_or_id": "BACKEND-1"})
            return saved.content[0].text, answer.content[0].text  # type: ignore[union-attr]

    saved, answer = asyncio.run(session())
    assert "✅ Token checked and saved." in saved and bugsink.reader not in saved
    assert json.loads(config_path().read_text())["source"] == "bugsink"
    assert "Success: 1" in answer and "ValueError: unknown SKU in cart" in answer


def test_a_server_named_only_by_the_environment_is_recognised_as_bugsink(bugsink: Bugsink, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SENTRY_URL", bugsink.url)
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", bugsink.reader)
    assert main(["BACKEND-2", "--output", "-"]) == 0  # no saved config, no source named: Bugsink is asked
    assert "payment provider stripe answered 502" in capsys.readouterr().out
    monkeypatch.setenv("EXPORT_SENTRY_ISSUE_SERVER", "bugsink")  # forced: no question asked
    assert main([issue(bugsink, "BACKEND-1")["id"], "--output", "-"]) == 0
    assert "unknown SKU in cart" in capsys.readouterr().out


def test_bugsink_lists_a_projects_issues_and_says_what_it_cannot_search(bugsink: Bugsink) -> None:
    from sentry_issue_export import IssueSearch

    for project in ("backend", str(bugsink.project)):  # a slug needs projects:read, a number does not
        token = bugsink.full if not project.isdigit() else bugsink.reader
        search = IssueSearch(project_slugs=(project,))
        result = export_issues_sync("", settings(bugsink, token), search=search, limit=5, write=False)
        assert [report.issue.short_id for report in result.reports] == ["BACKEND-2", "BACKEND-1"], project
    refused = export_issues_sync("", settings(bugsink), search=IssueSearch("is:unresolved"), write=False)
    [failure] = refused.failures
    assert "Bugsink cannot search with Sentry's query syntax" in failure.message and "--project" in failure.message


# --- the issue across all its events ----------------------------------------------------------------------------


def test_bugsink_gives_tag_counts_hourly_counts_history_and_recent_events(bugsink: Bugsink) -> None:
    """Bugsink 2.6's API has each part: read, mapped into the report, and none of it invented."""
    checkout = issue(bugsink, "BACKEND-1")
    listed = events(bugsink, checkout["id"])
    result = export_issues_sync("BACKEND-1", settings(bugsink), write=False)
    assert result.failures == ()
    overview = result.reports[0].overview
    assert overview.unavailable == ()
    tags = {tag.key: tag for tag in overview.tags}
    assert [(v.value, v.count) for v in tags["tenant"].values] == [("acme", 2)] and tags["tenant"].total == 2
    assert [(v.value, v.count) for v in tags["release"].values] == [("shop@3.1.0", 2)]
    assert list(tags)[:2] == ["release", "environment"]  # the useful keys first
    day, month = overview.trends
    assert (day.period, len(day.buckets), day.total) == ("24h", 24, 2)
    assert (month.period, month.total) == ("30d", 2) and 30 <= len(month.buckets) <= 31
    assert [entry.type for entry in overview.activity] == ["first_seen"]
    shown = result.reports[0].event
    assert [event.id for event in overview.recent_events] == [e["event_id"].replace("-", "") for e in reversed(listed)]
    assert overview.recent_events[0].is_shown and overview.recent_events[0].id == shown.id
    assert all(event.title == "ValueError: unknown SKU in cart: 'SKU-9'" for event in overview.recent_events)
    assert all((event.release, event.environment) == ("shop@3.1.0", "staging") for event in overview.recent_events)
    text = result.content
    assert "tenant           acme, all 2 events" in text and "2 events; peak 2 in the hour from" in text


def test_a_bugsink_note_shows_in_the_activity(bugsink: Bugsink) -> None:
    """A comment made in Bugsink (the issue-comments API) is the team's note, with its text."""
    import httpx

    target = issue(bugsink, "BACKEND-2")
    made = httpx.post(
        f"{bugsink.url}/api/canonical/0/issue-comments/",
        headers={"Authorization": f"Bearer {bugsink.full}"},
        json={"issue": target["id"], "comment": "Stripe was down 14:00-14:20; retries are fine."},
    )
    assert made.status_code == 201, made.text
    text = export_issues_sync("BACKEND-2", settings(bugsink), write=False).content
    activity = text.split("ACTIVITY\n")[1].split("\n\n")[0]
    assert "note" in activity and "Stripe was down 14:00-14:20; retries are fine." in activity
    assert activity.index("Stripe was down") < activity.index("first seen")  # newest first


def test_a_bugsink_without_a_part_says_so_in_one_line_and_still_exports(bugsink: Bugsink) -> None:
    """A token that may read issues and events but meets a 404 for a part (an older Bugsink has no such
    endpoint) gets one line in that section; simulated by a transport that answers 404 for those paths."""
    from sentry_issue_export.sources.bugsink import BugsinkSource
    from sentry_issue_export.web.transport import ApiTransport

    real = httpx_transport_answering_404_for(("/tags/", "/event-counts/", "/issue-history/"))

    def transport(s: Settings) -> ApiTransport:
        return ApiTransport(s.base_url or "", s.token, api_path="/api/canonical/0", server="Bugsink", transport=real)

    async def go() -> list:
        return [item async for item in BugsinkSource(transport).fetch(refs, settings(bugsink))]

    from sentry_issue_export.refs import IssueRef

    refs = [IssueRef("BACKEND-1", text="BACKEND-1")]
    [raw] = asyncio.run(go())
    assert raw.event is not None and raw.tags is None
    assert set(raw.unavailable) == {"tags", "trend", "activity"}
    assert raw.unavailable["tags"] == (
        "This Bugsink has no tag counts for an issue in its API (it answered 404; Bugsink 2.6 has them)."
    )
    assert raw.events is not None and len(raw.events) == 2  # the events list is there all the same


def httpx_transport_answering_404_for(paths: tuple[str, ...]):
    """An httpx transport over real sockets that answers 404, as an older Bugsink would, for some paths."""
    import httpx

    class Older(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.AsyncHTTPTransport()

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if any(part in request.url.path for part in paths):
                return httpx.Response(404, json={"detail": "Not found."})
            return await self.inner.handle_async_request(request)

        async def aclose(self) -> None:
            await self.inner.aclose()

    return Older()


def test_bugsink_lists_issues_with_their_trend_and_no_event(bugsink: Bugsink) -> None:
    """The triage list reads each issue and its hourly counts, and no event."""
    from sentry_issue_export.models import IssueSummary
    from sentry_issue_export.refs import IssueRef
    from sentry_issue_export.sources.bugsink import BugsinkSource
    from sentry_issue_export.web.transport import ApiTransport

    asked: list[str] = []
    counting = httpx_transport_answering_404_for(())
    handle = counting.handle_async_request

    async def counted(request):  # type: ignore[no-untyped-def]
        asked.append(request.url.path)
        return await handle(request)

    counting.handle_async_request = counted  # type: ignore[method-assign]

    def transport(s: Settings) -> ApiTransport:
        root = s.base_url or ""
        return ApiTransport(root, s.token, api_path="/api/canonical/0", server="Bugsink", transport=counting)

    async def go() -> list:
        refs = [IssueRef("BACKEND-1", text="BACKEND-1"), IssueRef("BACKEND-2", text="BACKEND-2")]
        return [item async for item in BugsinkSource(transport).headlines(refs, settings(bugsink))]

    rows = {row.short_id: row for row in (IssueSummary.from_api(item.issue) for item in asyncio.run(go()))}
    assert (rows["BACKEND-1"].count, rows["BACKEND-2"].count) == (2, 1)
    assert all(row.trend is not None and row.trend.total >= 1 and row.event_id is None for row in rows.values())
    assert not any("/events/" in path for path in asked)  # no event was read
