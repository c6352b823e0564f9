"""listing.py and ``--list``: the triage table of the issues named or found, from the issue list alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sentry_issue_export import Settings
from sentry_issue_export.cli import main
from sentry_issue_export.listing import list_issues_sync
from sentry_issue_export.refs import IssueSearch
from tests.fake_sentry import TOKEN, FakeSentry, synthetic_issue


def short_id(issue_id: str) -> str:
    return synthetic_issue(int(issue_id))[0]["shortId"]


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch) -> Any:
    with FakeSentry() as fake:
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
        monkeypatch.setenv("SENTRY_URL", f"{fake.url}/organizations/acme/")
        yield fake


def test_a_search_lists_every_match_from_its_pages_alone(sentry: FakeSentry, capsys) -> None:
    ids = sentry.add_synthetic_issues(40, start=4_500_000_000)
    assert main(["--list", "--query", "is:unresolved", "--limit", "30"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    header = ["#", "ISSUE", "LEVEL", "STATUS", "EVENTS", "USERS", "LAST", "SEEN", "(UTC)", "LAST", "24", "H"]
    assert lines[0].split() == [*header, "TITLE"]
    assert len(lines) == 31
    newest_first = sorted(ids, key=int, reverse=True)[:30]
    for number, (line, issue_id) in enumerate(zip(lines[1:], newest_first, strict=True), 1):
        assert line.split()[0] == str(number)
        assert f"'x{issue_id}'" in line and "error" in line and "unresolved" in line
    assert "Search 'is:unresolved': 40 issues match; listing the first 30." in err
    # One search page and nothing else of Sentry's API: no issue details, no event (the other request is the
    # one question whether the server is a Bugsink, asked once when the environment names no kind).
    assert [r.endpoint for r in sentry.requests if r.path.startswith("/api/0/")] == ["index"]


def test_named_issues_are_listed_in_order_from_the_index(sentry: FakeSentry, capsys) -> None:
    ids = sentry.add_synthetic_issues(3, start=4_500_000_100)
    assert main(["--list", ids[2], ids[0], "999"]) == 1
    out, err = capsys.readouterr()
    rows = out.splitlines()[1:]
    assert [row.split()[0:2] for row in rows] == [["1", short_id(ids[2])], ["2", short_id(ids[0])]]
    assert "failed: 999:" in err
    assert sentry.count(endpoint="event") == 0 and sentry.count(endpoint="tags") == 0


def test_json_lines_carry_the_raw_numbers(sentry: FakeSentry, capsys) -> None:
    [issue_id] = sentry.add_synthetic_issues(1, start=4_500_000_200)
    assert main(["--list", issue_id, "--format", "json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    row = json.loads(line)
    assert (row["id"], row["short_id"], row["count"], row["user_count"], row["level"]) == (
        issue_id,
        short_id(issue_id),
        3,
        1,
        "error",
    )
    assert row["last_seen"] == "2024-05-02T11:30:00Z" and row["event_id"] is None
    assert row["trend"]["period"] == "24h" and len(row["trend"]["buckets"]) == 24
    assert row["trend"]["buckets"][0][0].endswith("Z") and isinstance(row["trend"]["buckets"][0][1], int)


def test_the_demo_lists_offline(capsys) -> None:
    assert main(["--demo", "--list"]) == 0
    out = capsys.readouterr().out
    assert "STOREFRONT-API-3K" in out and "▃▂··▂▂▃▆█▇▅▄▅▄▆▇▆▅▄▃▂▂▃▄" in out and "1,287" in out
    assert len(out.splitlines()) == 1 + 7  # every sample but the stress test


def test_the_library_lists_a_search_with_its_outcome(sentry: FakeSentry) -> None:
    sentry.add_synthetic_issues(12, start=4_500_000_300)
    settings = Settings(base_url=sentry.url, org="acme", token=TOKEN)
    listed = list_issues_sync("", settings, search=IssueSearch("is:unresolved"), limit=5)
    assert len(listed.issues) == 5 and listed.ok
    [outcome] = listed.searches
    assert (outcome.hits, outcome.taken) == (12, 5)
    assert all(summary.trend is not None and summary.count == 3 for summary in listed.issues)


@pytest.mark.parametrize("flag", ["--events", "--tag-values"])
@pytest.mark.parametrize("value", ["-1", "101", "many"])
def test_the_issue_wide_sizes_are_checked(flag: str, value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--demo", flag, value])
    assert exited.value.code == 2
    assert flag in capsys.readouterr().err


def test_zero_events_and_tag_values_leave_their_sections_out(capsys, tmp_path) -> None:
    assert main(["--demo", "python_chained_exception", "--events", "0", "--tag-values", "0", "--output", "-"]) == 0
    out = capsys.readouterr().out
    assert "RECENT EVENTS" not in out and "TAGS ACROSS ALL EVENTS" not in out and "TREND" in out
    assert main(["--demo", "python_chained_exception", "--events", "2", "--output", "-"]) == 0
    out = capsys.readouterr().out
    recent = out.split("RECENT EVENTS\n")[1].split("\n\n")[0]
    assert len([line for line in recent.splitlines() if line.startswith("  ") and " UTC " in line]) == 2
