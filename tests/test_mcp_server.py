"""The MCP front end in memory: the five tools, their answers, and every error path a client can hit.

Each test builds its own server (``make_server``), and exports come from the bundled samples source, so nothing
here needs the network except the config check, which talks to a throwaway server on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from mcp_types import CallToolResult, ResourceLink, TextContent

from sentry_issue_export import config
from sentry_issue_export.errors import ConfigError
from sentry_issue_export.mcp import wording as mcp_wording
from sentry_issue_export.mcp.server import (
    TOOL_NAMES,
    BearerTokenMiddleware,
    ServerOptions,
    _run_kwargs,
    build_parser,
    is_loopback,
    make_server,
)
from sentry_issue_export.plugins import Registry
from sentry_issue_export.settings import Settings
from tests.report_text import section_headings

UNKNOWN_ID = "424242"


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "reports"
    directory.mkdir()
    return directory


@pytest.fixture
def demo(out_dir: Path) -> ServerOptions:
    return ServerOptions(source="samples", output_dir=out_dir)


@pytest.fixture
def sample_ids(registry: Registry) -> list[str]:
    """The references the bundled samples answer to, as the samples source itself lists them."""
    refs = registry.source("samples").default_refs(Settings(source="samples"))
    ids = [ref.issue_id for ref in refs]  # numeric ids: every client can type them
    assert len(ids) >= 3, "the samples source should bundle several issues"
    return ids


def call(
    tool: str, arguments: dict[str, Any] | None = None, *, options: ServerOptions | None = None, progress: Any = None
) -> CallToolResult:
    async def go() -> CallToolResult:
        async with Client(make_server(options), progress_handler=progress) as client:
            return await client.call_tool(tool, arguments or {}, raise_on_error=False)

    return asyncio.run(go())


def text_of(result: CallToolResult) -> str:
    """The answer's text; a successful export also carries a link to its report (``link_of``)."""
    texts = [block for block in result.content if isinstance(block, TextContent)]
    assert len(texts) == 1, result.content
    return texts[0].text


def link_of(result: CallToolResult) -> ResourceLink:
    [link] = [block for block in result.content if isinstance(block, ResourceLink)]
    return link


def error_of(result: CallToolResult) -> str:
    assert result.is_error, f"expected a tool error, got: {text_of(result)[:300]}"
    message = text_of(result)
    assert "Traceback" not in message
    return message


# --- the tool list --------------------------------------------------------------------------------------------


def list_tools() -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with Client(make_server(ServerOptions())) as client:
            return {tool.name: tool for tool in await client.list_tools()}

    return asyncio.run(go())


def test_exactly_the_five_tools_with_their_parameters():
    tools = list_tools()
    assert set(tools) == set(TOOL_NAMES)
    view = tools["view_sentry_issue"].input_schema
    assert view["required"] == ["issue_url_or_id"]
    assert {name: spec.get("default") for name, spec in view["properties"].items()} == {
        "issue_url_or_id": None,
        "output_file": None,
        "debug": False,
        "format": "text",
        "events": None,
        "tag_values": None,
    }
    export = tools["export_issues_tool"].input_schema
    assert "required" not in export  # issue_ids may be empty when query is given
    assert list(export["properties"]) == [
        "issue_ids",
        "base_url",
        "token",
        "output_file",
        "debug",
        "format",
        "query",
        "limit",
        "events",
        "tag_values",
    ]
    for tool in ("view_sentry_issue", "export_issues_tool"):
        [bounds] = [kind for kind in tools[tool].input_schema["properties"]["events"]["anyOf"] if "maximum" in kind]
        assert (bounds["minimum"], bounds["maximum"]) == (0, 100)
    assert export["properties"]["format"]["default"] == "text"
    assert tools["initialize_config"].input_schema["required"] == ["base_url", "token"]
    assert tools["list_config"].input_schema.get("properties", {}) == {}
    assert tools["revoke_config"].input_schema.get("properties", {}) == {}


def test_annotations_say_what_each_tool_does():
    tools = {name: tool.annotations for name, tool in list_tools().items()}
    assert tools["list_config"].read_only_hint is True
    assert tools["list_config"].open_world_hint is False
    assert tools["revoke_config"].destructive_hint is True
    assert tools["revoke_config"].read_only_hint is False
    assert tools["revoke_config"].idempotent_hint is True
    for fetching in ("view_sentry_issue", "export_issues_tool"):
        assert tools[fetching].open_world_hint is True
        assert tools[fetching].read_only_hint is False  # they write a report file
        assert tools[fetching].destructive_hint is False  # ...but never replace one
    assert tools["initialize_config"].open_world_hint is True  # it checks the token with Sentry


def test_view_description_tells_assistants_when_to_call_it():
    description = list_tools()["view_sentry_issue"].description
    for example in ("Check Sentry issue #123", "https://", "123 456 789", "short id"):
        assert example in description


# --- exports --------------------------------------------------------------------------------------------------


def test_view_exports_a_sample_and_answers_in_the_documented_shape(demo: ServerOptions, sample_ids, out_dir):
    result = call("view_sentry_issue", {"issue_url_or_id": sample_ids[0]}, options=demo)
    assert not result.is_error
    answer = text_of(result)
    header, _, content = answer.partition("\n\n=== Issue Content ===\n")
    lines = header.splitlines()
    assert lines[:3] == ["✅ Export completed!", "Success: 1", "Failed: 0"]
    [saved] = list(out_dir.iterdir())
    assert lines[3] == f"File saved: {saved}"
    assert lines[4] == f"Resource: export-sentry-issue://reports/{saved.name} (the complete report)"
    assert content == saved.read_text(encoding="utf-8")  # a report that fits is answered whole
    assert content.strip()
    link = link_of(result)
    assert (str(link.uri), link.name, link.mime_type) == (
        f"export-sentry-issue://reports/{saved.name}",
        saved.name,
        "text/plain",
    )


def test_several_references_in_one_string_export_together(demo: ServerOptions, sample_ids, out_dir):
    refs = " ".join(sample_ids[:3])
    answer = text_of(call("export_issues_tool", {"issue_ids": refs, "format": "json"}, options=demo))
    assert "Success: 3\nFailed: 0\n" in answer
    [saved] = list(out_dir.iterdir())
    assert saved.suffix == ".json"
    json.loads(saved.read_text(encoding="utf-8"))


def test_output_file_names_the_report(demo: ServerOptions, sample_ids, out_dir):
    answer = text_of(
        call("view_sentry_issue", {"issue_url_or_id": sample_ids[0], "output_file": "mine.txt"}, options=demo)
    )
    assert f"File saved: {out_dir / 'mine.txt'}" in answer
    assert (out_dir / "mine.txt").exists()


def test_debug_saves_the_raw_payload_and_says_where(demo: ServerOptions, sample_ids, out_dir):
    answer = text_of(call("view_sentry_issue", {"issue_url_or_id": sample_ids[0], "debug": True}, options=demo))
    dumps = sorted(out_dir.glob("debug_issue_*.json"))
    assert len(dumps) == 1
    assert f"Debug payload saved: {dumps[0]}" in answer


def test_partial_failure_is_a_success_listing_each_failure(demo: ServerOptions, sample_ids):
    result = call("export_issues_tool", {"issue_ids": f"{sample_ids[0]}, {UNKNOWN_ID}"}, options=demo)
    assert not result.is_error
    answer = text_of(result)
    assert "Success: 1\nFailed: 1\n" in answer
    [failure_line] = [line for line in answer.splitlines() if line.startswith(f"- {UNKNOWN_ID}: ")]
    assert len(failure_line) > len(f"- {UNKNOWN_ID}: ") + 10  # it carries the reason


def test_all_failed_is_a_tool_error_with_each_reason(demo: ServerOptions, out_dir):
    message = error_of(call("view_sentry_issue", {"issue_url_or_id": f"{UNKNOWN_ID} 434343"}, options=demo))
    assert message.startswith("Export failed: no issue could be exported.\nFailed: 2\n")
    assert f"- {UNKNOWN_ID}: " in message and "- 434343: " in message
    assert list(out_dir.iterdir()) == []  # a short failure list needs no file


def test_unknown_format_is_a_tool_error_naming_the_formats(demo: ServerOptions, sample_ids):
    message = error_of(call("view_sentry_issue", {"issue_url_or_id": sample_ids[0], "format": "yaml"}, options=demo))
    assert "No renderer named 'yaml'" in message
    assert "text" in message and "markdown" in message


@pytest.mark.parametrize("name", ["../x", "/tmp/evil.txt", "sub/dir.txt"])
def test_output_file_outside_the_output_dir_is_refused(demo: ServerOptions, sample_ids, out_dir, name):
    message = error_of(call("view_sentry_issue", {"issue_url_or_id": sample_ids[0], "output_file": name}, options=demo))
    assert repr(name) in message and "plain file name" in message
    assert list(out_dir.iterdir()) == []
    assert not (out_dir.parent / "x").exists()


def test_text_without_a_reference_is_a_tool_error(demo: ServerOptions):
    message = error_of(call("view_sentry_issue", {"issue_url_or_id": "hello"}, options=demo))
    assert "holds no issue reference" in message


def test_a_small_budget_shortens_the_bulk_and_keeps_every_section(out_dir):
    options = ServerOptions(source="samples", output_dir=out_dir, max_inline_chars=9000)
    result = call("view_sentry_issue", {"issue_url_or_id": "python_chained_exception"}, options=options)
    answer = text_of(result)
    [saved] = list(out_dir.iterdir())
    full = saved.read_text(encoding="utf-8")
    assert len(full) > 9000 >= len(answer)
    for heading in section_headings(full):
        assert heading in answer, heading
    assert f"Shortened to fit this answer; the file {saved} has everything:" in answer
    assert "- STOREFRONT-API-3K: " in answer and "Report cut here" not in answer


def test_progress_is_reported_for_each_issue_when_the_client_asks(demo: ServerOptions, sample_ids):
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    refs = sample_ids[:3]
    result = call("export_issues_tool", {"issue_ids": " ".join(refs)}, options=demo, progress=on_progress)
    assert not result.is_error
    assert [(done, total) for done, total, _ in seen] == [(1, 3), (2, 3), (3, 3)]
    assert all(message and any(ref in message for ref in refs) for _, _, message in seen)


def test_demo_mode_says_when_it_ignored_base_url_and_token(demo: ServerOptions, sample_ids):
    arguments = {"issue_ids": sample_ids[0], "base_url": "https://sentry.example.com", "token": "sntryu_" + "a" * 64}
    answer = text_of(call("export_issues_tool", arguments, options=demo))
    assert "offline samples source" in answer and "were not used" in answer
    assert "sntryu_" not in answer


def test_a_saved_token_never_goes_to_another_host(out_dir):
    config.save_config(config.SavedConfig(base_url="https://sentry.io", org="acme", token="sntryu_" + "b" * 64))
    arguments = {"issue_ids": "123", "base_url": "https://sentry.other.example/organizations/acme/"}
    message = error_of(call("export_issues_tool", arguments, options=ServerOptions(output_dir=out_dir)))
    assert "will not be sent to sentry.other.example" in message
    assert "sntryu_" not in message


def test_an_unexpected_failure_is_masked(demo: ServerOptions, monkeypatch):
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("internal detail /srv/secret")

    monkeypatch.setattr("sentry_issue_export.exporter.export_issues", broken)
    message = error_of(call("view_sentry_issue", {"issue_url_or_id": "123"}, options=demo))
    assert "internal detail" not in message and "RuntimeError" not in message


# --- config tools ---------------------------------------------------------------------------------------------


class _RejectingSentry(BaseHTTPRequestHandler):
    """Answers every request as Sentry does for a revoked token."""

    def do_GET(self) -> None:
        body = b'{"detail": "Invalid token"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def rejecting_sentry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RejectingSentry)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_initialize_config_with_a_bad_token_saves_nothing(rejecting_sentry: str):
    token = "sntryu_" + "c" * 64
    result = call("initialize_config", {"base_url": f"{rejecting_sentry}/organizations/acme/", "token": token})
    message = error_of(result)
    assert "rejected the token" in message and "nothing was saved" in message
    assert token not in message
    assert not config.config_path().exists()


def test_initialize_config_without_an_organisation_says_how_to_give_one():
    message = error_of(call("initialize_config", {"base_url": "https://sentry.example.com", "token": "x" * 40}))
    assert "organisation" in message


def test_list_config_masks_the_token():
    token = "sntryu_" + "d" * 64
    config.save_config(config.SavedConfig(base_url="https://sentry.io", org="acme", token=token))
    result = call("list_config")
    assert not result.is_error
    answer = text_of(result)
    assert answer.startswith("Current configuration (token masked):\n")
    shown = json.loads(answer.partition("\n")[2])
    assert shown["saved"] is True and shown["settings"]["org"]["value"] == "acme"
    assert token not in answer and token[:8] in answer


def test_list_config_without_a_saved_config():
    shown = json.loads(text_of(call("list_config")).partition("\n")[2])
    assert shown["saved"] is False
    assert shown["path"] == str(config.config_path())


def test_revoke_config_deletes_it_and_reminds_to_revoke_the_token_in_sentry():
    config.save_config(config.SavedConfig(base_url="https://sentry.io", org="acme", token="sntryu_" + "e" * 64))
    path = config.config_path()
    assert path.exists()
    answer = text_of(call("revoke_config"))
    assert answer.splitlines() == [f"Saved config deleted: {path}", mcp_wording.TOKEN_REVOCATION_HINT]
    assert not path.exists()
    again = text_of(call("revoke_config"))
    assert again.startswith(f"There was no saved config at {path}.")


# --- options and wording --------------------------------------------------------------------------------------


def test_options_come_from_the_environment(tmp_path: Path):
    # The source and output directory are the configuration's to read (test_config.py); the server reads its cap.
    env = {"EXPORT_SENTRY_ISSUE_SOURCE": "samples", "EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS": "1234"}
    assert ServerOptions.from_env(env) == ServerOptions(max_inline_chars=1234)
    assert ServerOptions.from_env({}) == ServerOptions()


def test_a_bad_inline_cap_is_a_config_error():
    with pytest.raises(ConfigError, match="EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS must be a whole number"):
        ServerOptions.from_env({"EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS": "lots"})


def test_the_default_budget_keeps_the_huge_sample_answer_within_it_with_every_section(out_dir):
    from sentry_issue_export.samples.huge import HUGE_SHORT_ID

    options = ServerOptions(source="samples", output_dir=out_dir)
    answer = text_of(call("view_sentry_issue", {"issue_url_or_id": HUGE_SHORT_ID}, options=options))
    [saved] = list(out_dir.iterdir())
    full = saved.read_text(encoding="utf-8")
    assert mcp_wording.DEFAULT_MAX_INLINE_CHARS == 32_000
    assert len(full) > 32_000 >= len(answer)
    assert all(heading in answer for heading in section_headings(full))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("mcp.example.com", False),
    ],
)
def test_only_loopback_binds_count_as_private(host: str, loopback: bool):
    assert is_loopback(host) is loopback


# EXPORT_SENTRY_ISSUE_MCP_TOKEN alone (no --auth-token-env) must switch the bearer check on.
def test_default_token_variable_turns_on_the_bearer_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORT_SENTRY_ISSUE_MCP_TOKEN", "correct horse")
    parser = build_parser()
    kwargs = _run_kwargs(parser, parser.parse_args(["--http"]), "http")
    [middleware] = kwargs["middleware"]
    assert middleware.cls is BearerTokenMiddleware and middleware.kwargs["token"] == "correct horse"


def test_a_named_pipe_as_the_config_hangs_no_tool(out_dir):
    import os

    path = config.config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    assert "it is a named pipe, not a regular file" in error_of(call("list_config"))
    export = error_of(call("view_sentry_issue", {"issue_url_or_id": "123"}, options=ServerOptions(output_dir=out_dir)))
    assert "named pipe" in export
    assert text_of(call("revoke_config")).startswith(f"Saved config deleted: {path}")
    assert not path.exists()


# --- report resources -----------------------------------------------------------------------------------------


def read_after(demo: ServerOptions, change: Any) -> tuple[str, str | None]:
    """Export a sample, let ``change`` do something to the saved file, then read the report resource: (the
    file's original text, the text served or ``None``); a refusal's message is returned in place of the text."""

    async def go() -> tuple[str, str | None]:
        async with Client(make_server(demo)) as client:
            result = await client.call_tool("view_sentry_issue", {"issue_url_or_id": "python_chained_exception"})
            link = link_of(result)
            [saved] = list(demo.output_dir.iterdir())  # type: ignore[union-attr]
            original = saved.read_text(encoding="utf-8")
            change(saved)
            try:
                [content] = await client.read_resource(str(link.uri))
            except Exception as exc:  # the client raises the server's refusal
                return original, str(exc)
            return original, content.text  # type: ignore[union-attr]

    return asyncio.run(go())


def test_the_report_resource_serves_the_file_written(demo: ServerOptions):
    original, served = read_after(demo, lambda saved: None)
    assert served == original


def _hard_link_to_another_file(saved: Path) -> None:
    other = saved.parent.parent / "someone-elses.txt"
    other.write_text("not the report")
    saved.unlink()
    os.link(other, saved)


def _symlink_to_another_file(saved: Path) -> None:
    other = saved.parent.parent / "elsewhere.txt"
    other.write_text("not the report")
    saved.unlink()
    saved.symlink_to(other)


def _fifo(saved: Path) -> None:
    saved.unlink()
    os.mkfifo(saved)


def _rewritten_in_place(saved: Path) -> None:
    with saved.open("a", encoding="utf-8") as file:  # same inode: still the file this server wrote
        file.write("\n(appended by the user)\n")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_hard_link_to_another_file, "is no longer a file in"),
        (_symlink_to_another_file, "is no longer a file in"),
        (_fifo, "is no longer a file in"),
        (lambda saved: saved.unlink(), "is no longer a file in"),
    ],
    ids=["hard-link", "symlink", "fifo", "deleted"],
)
def test_only_the_very_file_written_is_served(demo: ServerOptions, change: Any, said: str):
    _, served = read_after(demo, change)
    assert served is not None and said in served and "not the report" not in served


def test_a_report_changed_in_place_is_still_the_report(demo: ServerOptions):
    original, served = read_after(demo, _rewritten_in_place)
    assert served == original + "\n(appended by the user)\n"


def test_a_report_larger_than_a_resource_may_carry_is_refused_at_once(demo: ServerOptions):
    """A 100 MB report (sparse: its size without the disk) is refused from its size alone, naming the file."""

    def grow(saved: Path) -> None:
        with saved.open("r+b") as file:
            file.truncate(100 * 1024 * 1024)

    _, served = read_after(demo, grow)
    assert served is not None and "holds 104,857,600 bytes, more than the 8,388,608 a resource may carry" in served
    assert "read it from the file" in served


def test_expected_tool_errors_are_not_logged_as_server_errors(demo: ServerOptions):
    """A reference that matches nothing, an argument of the wrong type, an empty list, an unknown report: the
    caller is told; the server's log at INFO says nothing of them."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    async def go() -> list[bool]:
        async with Client(make_server(demo)) as client:
            calls = [
                ("view_sentry_issue", {"issue_url_or_id": "no-such-sample"}),
                ("view_sentry_issue", {"issue_url_or_id": {"id": 1}}),
                ("export_issues_tool", {"issue_ids": []}),
            ]
            errors = [(await client.call_tool(tool, args, raise_on_error=False)).is_error for tool, args in calls]
            with contextlib.suppress(Exception):
                await client.read_resource(mcp_wording.REPORT_URI_PREFIX + "nothing.txt")
            return errors

    fastmcp_log = logging.getLogger("fastmcp")  # it does not propagate to the root logger
    handler, level = Keep(logging.INFO), fastmcp_log.level
    fastmcp_log.addHandler(handler)
    fastmcp_log.setLevel(logging.INFO)
    try:
        assert asyncio.run(go()) == [True, True, True]
    finally:
        fastmcp_log.removeHandler(handler)
        fastmcp_log.setLevel(level)
    assert [r.getMessage() for r in seen if "Error calling" in r.getMessage() or r.levelno >= logging.ERROR] == []
