"""Export by search: Sentry's query syntax and pasted issue-list addresses, paged, over real sockets.

The fake Sentry answers the organisation issue index as Sentry does: ``query``, ``project``, ``statsPeriod`` and
``sort`` applied, ``X-Hits`` counted, pages linked with ``rel="next"; results="true|false"`` cursors, and a 400
with Sentry's ``detail`` for a query it cannot parse.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sentry_issue_export import IssueSearch, Settings, export_issues_sync
from sentry_issue_export.cli import main
from sentry_issue_export.mcp.server import ServerOptions, make_server
from tests.fake_sentry import TOKEN, FakeSentry

SEARCH_PATH = "/api/0/organizations/acme/issues/"


@pytest.fixture
def sentry() -> Any:
    with FakeSentry() as fake:
        yield fake


def settings_for(fake: FakeSentry, **changes: Any) -> Settings:
    return Settings(**{"base_url": fake.url, "org": "acme", "token": TOKEN, "retries": 1, **changes})


def searches(fake: FakeSentry) -> list[dict[str, list[str]]]:
    return [r.query for r in fake.requests if r.path == SEARCH_PATH and "group" not in r.query]


def test_pages_smaller_than_the_limit_are_followed_by_their_cursor(sentry: FakeSentry) -> None:
    ids = sentry.add_synthetic_issues(35)
    sentry.max_page = 10
    result = export_issues_sync("", settings_for(sentry), search=IssueSearch("is:unresolved"), limit=30, write=False)
    assert len(result.reports) == 30 and result.failures == ()
    assert [r.issue.id for r in result.reports] == sorted(ids, key=int, reverse=True)[:30]  # Sentry's order
    assert [len(query.get("cursor", [])) for query in searches(sentry)] == [0, 1, 1]
    [outcome] = result.searches
    assert (outcome.hits, outcome.taken) == (35, 30)


def test_results_false_ends_the_walk(sentry: FakeSentry) -> None:
    sentry.add_synthetic_issues(25)
    sentry.max_page = 10
    result = export_issues_sync("", settings_for(sentry), search=IssueSearch(""), limit=1000, write=False)
    assert len(result.reports) == 25 and len(searches(sentry)) == 3


def test_a_cursor_seen_twice_stops_the_walk(sentry: FakeSentry) -> None:
    sentry.add_synthetic_issues(50)
    sentry.max_page = 10
    sentry.repeat_cursor = True
    result = export_issues_sync("", settings_for(sentry), search=IssueSearch(""), limit=1000, write=False)
    # The first page names cursor 10; the second names cursor 10 again: the walk stops there.
    assert [query.get("cursor") for query in searches(sentry)] == [None, ["0:10:0"]]
    assert len(result.reports) == 20


def test_a_search_that_pages_junk_forever_ends_after_one_page(sentry: FakeSentry) -> None:
    """Pages holding only issues without an id, each naming a fresh cursor with results="true": the walk stops
    at the first page that adds nothing, and says no issue matches rather than the server's "200"."""
    sentry.add_synthetic_issues(1)
    sentry.endless_search = "junk"
    result = export_issues_sync("", settings_for(sentry), search=IssueSearch(""), limit=1000, write=False)
    assert len(searches(sentry)) == 1
    [failure] = result.failures
    assert result.reports == () and "No issue matches" in failure.message and "200" not in failure.message


def test_a_search_that_returns_the_same_issue_on_every_page_gives_it_once(sentry: FakeSentry) -> None:
    [only] = sentry.add_synthetic_issues(1)
    sentry.endless_search = "same"
    result = export_issues_sync("", settings_for(sentry), search=IssueSearch(""), limit=1000, write=False)
    assert len(searches(sentry)) == 2  # the second page adds nothing new
    assert [report.issue.id for report in result.reports] == [only]
    [outcome] = result.searches
    assert (outcome.hits, outcome.taken) == (1, 1)


@pytest.mark.parametrize(
    "x_hits", ["²", "9" * 5000, "-3", "12 issues"], ids=["superscript", "5000-digits", "minus", "words"]
)
def test_an_unreadable_match_count_is_no_count_not_a_traceback(sentry: FakeSentry, x_hits: str) -> None:
    ids = sentry.add_synthetic_issues(3)
    sentry.x_hits = x_hits
    result = export_issues_sync("", settings_for(sentry), search=IssueSearch(""), write=False)
    assert sorted(report.issue.id for report in result.reports) == sorted(ids) and result.failures == ()
    [outcome] = result.searches
    assert outcome.hits is None


def test_every_search_walk_has_a_page_cap(sentry: FakeSentry) -> None:
    """Even a server whose every page holds new issues is read no further than the limit needs."""
    sentry.add_synthetic_issues(400)
    sentry.max_page = 1  # one issue per page, fresh cursors: a walk without a cap would read 400 pages
    result = export_issues_sync("", settings_for(sentry), search=IssueSearch(""), limit=30, write=False)
    assert len(searches(sentry)) == 30 // 25 + 2 and len(result.reports) == 3


def test_query_projects_sort_and_period_pass_through(sentry: FakeSentry) -> None:
    sentry.add_synthetic_issues(3)
    search = IssueSearch("level:error", project_slugs=("backend", "web"), period="24h", sort="freq")
    export_issues_sync("", settings_for(sentry), search=search, limit=5, write=False)
    [query] = searches(sentry)
    assert query["query"] == ["level:error project:[backend,web]"]
    assert (query["statsPeriod"], query["sort"], query["limit"], query["project"]) == (["24h"], ["freq"], ["5"], ["-1"])


def test_a_query_sentry_rejects_shows_sentrys_own_words(sentry: FakeSentry) -> None:
    sentry.add_synthetic_issues(2)
    result = export_issues_sync("", settings_for(sentry), search=IssueSearch("is:bogus"), write=False)
    [failure] = result.failures
    assert result.reports == () and result.path is None
    assert "Sentry refused the search 'is:bogus' in organisation acme (400)" in failure.message
    assert """Sentry said: "Error parsing search query: invalid value for 'is': 'bogus'".""" in failure.message


def test_zero_matches_answer_clearly_and_write_no_report(sentry: FakeSentry, tmp_path: Path) -> None:
    sentry.add_synthetic_issues(2)
    settings = settings_for(sentry, output_dir=tmp_path)
    result = export_issues_sync("", settings, search=IssueSearch("nothing-matches-this"))
    [failure] = result.failures
    assert "No issue matches search 'nothing-matches-this'" in failure.message
    assert result.path is None and list(tmp_path.iterdir()) == []


def test_a_pasted_issue_list_address_is_its_own_search_in_the_cli(
    sentry: FakeSentry, tmp_path: Path, capsys, monkeypatch
):
    sentry.add_synthetic_issues(12)
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("SENTRY_URL", sentry.url)
    pasted = f"{sentry.url}/organizations/acme/issues/?query=is%3Aunresolved&project=42&statsPeriod=14d&sort=new"
    assert main([pasted, "--limit", "5", "--output-dir", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert f"\n{pasted}: 12 issues match; exporting the first 5." in f"\n{err}" and "Exported 5 issue(s)" in err
    [query] = searches(sentry)
    assert (query["query"], query["project"], query["statsPeriod"], query["sort"]) == (
        ["is:unresolved"],
        ["42"],
        ["14d"],
        ["new"],
    )


@pytest.mark.parametrize("limit", ["0", "5000"])
def test_a_limit_out_of_range_is_a_usage_error(limit: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--query", "is:unresolved", "--limit", limit])
    assert exited.value.code == 2


def test_the_mcp_tool_searches_and_says_how_many_matched(sentry: FakeSentry, tmp_path: Path, monkeypatch):
    from fastmcp import Client

    sentry.add_synthetic_issues(40)
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("SENTRY_URL", f"{sentry.url}/organizations/acme/")

    async def go() -> tuple[str, str, bool]:
        async with Client(make_server(ServerOptions(output_dir=tmp_path))) as client:
            found = await client.call_tool("export_issues_tool", {"query": "is:unresolved", "limit": 10})
            pasted = f"{sentry.url}/organizations/acme/issues/?query=is%3Aunresolved"
            viewed = await client.call_tool("view_sentry_issue", {"issue_url_or_id": pasted})
            wrong = await client.call_tool("export_issues_tool", {"query": "x", "limit": 5000}, raise_on_error=False)
            return found.content[0].text, viewed.content[0].text, wrong.is_error  # type: ignore[union-attr]

    found, viewed, wrong = asyncio.run(go())
    lines = found.splitlines()
    assert lines[:4] == [
        "✅ Export completed!",
        "Matched: 40 issues for search 'is:unresolved'; exported the first 10",
        "Success: 10",
        "Failed: 0",
    ]
    assert len(found) <= 32_000
    assert "Matched: 40 issues for " in viewed and "exported all 40" in viewed
    assert wrong


def test_glitchtip_searches_its_organisation_issue_list() -> None:
    with FakeSentry(glitchtip=True) as glitchtip:
        glitchtip.add_synthetic_issues(4, start=60)
        result = export_issues_sync("", settings_for(glitchtip), search=IssueSearch("ValueError"), write=False)
        assert len(result.reports) == 4 and result.failures == ()


def test_a_source_without_search_gets_a_sentence() -> None:
    result = export_issues_sync("", Settings(source="samples"), search=IssueSearch("is:unresolved"), write=False)
    [failure] = result.failures
    assert failure.message == "The samples source cannot search for issues; name them one by one instead."
