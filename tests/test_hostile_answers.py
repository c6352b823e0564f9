"""Hostile input end to end: the MCP tools, in memory, against the fake Sentry, answer within their budget.

A 60,000-character query, a 60,000-character reference, 300 issues whose short ids are 300 characters: each
answer (or tool error) stays within ``EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS``, counted as clients count it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from mcp_types import CallToolResult, TextContent

from sentry_issue_export.budget import DEFAULT_BUDGET, size
from sentry_issue_export.errors import ConfigError
from sentry_issue_export.mcp.server import ServerOptions, main, make_server
from tests.fake_sentry import TOKEN, FakeSentry, synthetic_issue


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch) -> Any:
    with FakeSentry() as fake:
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
        monkeypatch.setenv("SENTRY_URL", f"{fake.url}/organizations/acme/")
        yield fake


def call(options: ServerOptions, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    async def go() -> CallToolResult:
        async with Client(make_server(options)) as client:
            return await client.call_tool(tool, arguments, raise_on_error=False)

    result = asyncio.run(go())
    [text] = [block.text for block in result.content if isinstance(block, TextContent)]
    return result.is_error, text


def test_a_60000_character_query_is_answered_within_the_budget(sentry: FakeSentry, tmp_path: Path) -> None:
    sentry.add_synthetic_issues(3)
    query = "is:unresolved " + "a" * 60_000
    for budget in (DEFAULT_BUDGET, 2_000):
        failed, text = call(
            ServerOptions(output_dir=tmp_path, max_inline_chars=budget), "export_issues_tool", {"query": query}
        )
        assert failed and size(text) <= budget
        assert text.startswith(
            "Export failed: no issue could be exported.\nMatched: 0 issues for search 'is:unresolved aaa"
        )
        assert "aaa..." in text.splitlines()[1]  # the search is cut, not dropped
    failed, text = call(
        ServerOptions(output_dir=tmp_path), "export_issues_tool", {"issue_ids": "4100000001", "query": query}
    )
    assert not failed and size(text) < 10_000 and text.count("a" * 300) == 0


def test_a_60000_character_failing_reference_is_answered_within_the_budget(sentry: FakeSentry, tmp_path: Path) -> None:
    sentry.add_synthetic_issues(1)
    reference = "https://acme.sentry.io/issues/" + "1" * 60_000 + "/"
    failed, text = call(ServerOptions(output_dir=tmp_path), "view_sentry_issue", {"issue_url_or_id": reference})
    assert failed and size(text) <= 1_000 and "is neither a number" in text
    arguments = {"issue_ids": ["4100000000", "PROJ-" + "A" * 60_000]}
    failed, text = call(ServerOptions(output_dir=tmp_path, max_inline_chars=1_000), "export_issues_tool", arguments)
    assert not failed and size(text) <= 1_000 and "Failed: 1" in text


def test_300_issues_with_300_character_short_ids_fit_even_a_small_budget(sentry: FakeSentry, tmp_path: Path) -> None:
    for number in range(300):
        issue, event = synthetic_issue(4_100_000_000 + number)
        issue["shortId"] = f"P{number}-" + "S" * (300 - len(f"P{number}-"))
        sentry.add_issue(issue, event)
    arguments = {"query": "is:unresolved", "limit": 300, "debug": True}
    for budget in (2_000, DEFAULT_BUDGET):
        failed, text = call(
            ServerOptions(output_dir=tmp_path, max_inline_chars=budget), "export_issues_tool", arguments
        )
        assert not failed and size(text) <= budget
        assert "Matched: 300 issues for search 'is:unresolved'; exported all 300" in text
        assert "more debug payloads saved in" in text and "more issues, listed only in the file." in text


@pytest.mark.parametrize("value", ["-1", "50", "999"])
def test_a_budget_too_small_to_say_where_the_file_is_is_refused_at_start(value: str, monkeypatch, capsys) -> None:
    with pytest.raises(ConfigError, match="must be 0 \\(no budget\\) or at least 1,000 characters"):
        ServerOptions.from_env({"EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS": value})
    with pytest.raises(ConfigError):
        ServerOptions(max_inline_chars=int(value))
    monkeypatch.setenv("EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS", value)
    assert main([]) == 2
    assert "EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS must be 0 (no budget) or at least 1,000" in capsys.readouterr().err


def test_no_budget_and_the_smallest_budget_are_accepted() -> None:
    assert ServerOptions.from_env({"EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS": "0"}).max_inline_chars == 0
    assert ServerOptions.from_env({"EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS": "1000"}).max_inline_chars == 1_000
