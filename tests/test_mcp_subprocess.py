"""The installed ``export-sentry-issue-mcp`` as real clients meet it: a child process over stdio, streamable HTTP
and SSE, driven by the official ``mcp`` SDK client with the current and the older (``initialize``) handshake.

Exports come from the bundled samples (``EXPORT_SENTRY_ISSUE_SOURCE=samples``) or from the fake Sentry server.
Every child runs with its own home and output directory, on a free port, and is killed when its test ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, ResourceLink, TextContent

from sentry_issue_export.mcp.server import TOOL_NAMES
from sentry_issue_export.plugins import Registry
from sentry_issue_export.settings import Settings
from tests.report_text import section_headings

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTALLED = shutil.which("export-sentry-issue-mcp")
MODES = ["auto", "legacy"]  # the current protocol (discovered) and the pre-2026 initialize handshake
SESSION_TIMEOUT = 20


def server_command(*args: str) -> list[str]:
    """The installed command, or the module when the package is not installed (e.g. a bare checkout)."""
    if INSTALLED:
        return [INSTALLED, *args]
    return [sys.executable, "-m", "sentry_issue_export.mcp.server", *args]


def server_env(home: Path, **extra: str) -> dict[str, str]:
    """The parent's environment without Sentry credentials or exporter settings, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SENTRY_", "EXPORT_SENTRY_ISSUE_")) and name != "PYTHONPATH"
    }
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONPATH=str(REPO_ROOT))
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running(
    args: list[str], env: dict[str, str], cwd: Path, port: int, host: str = "127.0.0.1"
) -> Iterator[subprocess.Popen[bytes]]:
    """Start the server, wait until it accepts connections on ``port``, and always kill it afterwards."""
    log = (cwd / f"server-{port}.log").open("w+b")
    child = subprocess.Popen(server_command(*args), env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while True:
            if child.poll() is not None:
                log.seek(0)
                pytest.fail(f"the server exited with {child.returncode}:\n{log.read().decode(errors='replace')}")
            with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                pytest.fail("the server did not start listening within 15 s")
            time.sleep(0.05)
        yield child
    finally:
        child.kill()
        child.wait(timeout=10)
        log.close()


def text_of(result: CallToolResult) -> str:
    """The answer's text; a successful export's answer also links its report as a resource."""
    [text] = [block for block in result.content if isinstance(block, TextContent)]
    return text.text


async def exercise(client: Client, sample_ids: list[str], out_dir: Path) -> None:
    """What every transport must do: list the five tools, export with progress, and report a tool error."""
    tools = await client.list_tools()
    assert sorted(tool.name for tool in tools.tools) == sorted(TOOL_NAMES)

    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    before = set(out_dir.iterdir())
    result = await client.call_tool(
        "export_issues_tool", {"issue_ids": " ".join(sample_ids[:2])}, progress_callback=on_progress
    )
    answer = text_of(result)
    assert not result.is_error, answer
    assert answer.startswith("✅ Export completed!\nSuccess: 2\nFailed: 0\nFile saved: ")
    [saved] = set(out_dir.iterdir()) - before
    full = saved.read_text(encoding="utf-8")
    assert len(answer) <= 32_000 < len(full)  # the two reports are shortened to fit the answer budget
    assert all(heading in answer for heading in section_headings(full))
    assert f"Resource: export-sentry-issue://reports/{saved.name}" in answer
    assert progress == [(1, 2), (2, 2)]

    failed = await client.call_tool("view_sentry_issue", {"issue_url_or_id": sample_ids[0], "format": "nope"})
    assert failed.is_error
    assert "No renderer named 'nope'" in text_of(failed)


@pytest.fixture
def sample_ids(registry: Registry) -> list[str]:
    refs = registry.source("samples").default_refs(Settings(source="samples"))
    return [ref.issue_id for ref in refs]


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


@pytest.fixture
def demo_env(tmp_path: Path, out_dir: Path) -> dict[str, str]:
    return server_env(tmp_path, EXPORT_SENTRY_ISSUE_SOURCE="samples", EXPORT_SENTRY_ISSUE_OUTPUT_DIR=str(out_dir))


# --- command line ---------------------------------------------------------------------------------------------


def test_help_explains_transports_security_and_environment(tmp_path: Path):
    done = subprocess.run(
        server_command("--help"), env=server_env(tmp_path), capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 0
    for needle in (
        "--http",
        "--transport",
        "--auth-token-env",
        "--allowed-host",
        "--allow-unauthenticated-remote",
        "127.0.0.1",
        "EXPORT_SENTRY_ISSUE_SOURCE",
        "EXPORT_SENTRY_ISSUE_OUTPUT_DIR",
        "EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS",
        "EXPORT_SENTRY_ISSUE_MCP_TOKEN",
        "SENTRY_AUTH_TOKEN",
    ):
        assert needle in done.stdout


def test_a_public_address_without_a_token_is_refused(tmp_path: Path):
    port = free_port()
    done = subprocess.run(
        server_command("--http", "--host", "0.0.0.0", "--port", str(port)),
        env=server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2
    assert "Refusing to serve on 0.0.0.0 without authentication" in done.stderr
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        pass


def test_a_missing_auth_token_variable_is_a_usage_error(tmp_path: Path):
    done = subprocess.run(
        server_command("--http", "--auth-token-env", "NO_SUCH_TOKEN_VARIABLE"),
        env=server_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 2
    assert "NO_SUCH_TOKEN_VARIABLE" in done.stderr and "not set or empty" in done.stderr


@pytest.mark.parametrize(("given", "bound"), [("[::1]", "::1"), ("127.0.0.1 ", "127.0.0.1")])
def test_an_ipv6_literal_and_stray_spaces_in_the_host_are_understood(tmp_path: Path, demo_env, given, bound):
    port = free_port()
    with running(["--http", "--host", given, "--port", str(port)], demo_env, tmp_path, port, host=bound):
        shown = f"[{bound}]" if ":" in bound else bound
        answer = httpx.post(f"http://{shown}:{port}/mcp", json=_legacy_initialize(), headers=_MCP_HEADERS)
    assert answer.status_code == 200


def test_a_public_address_is_served_when_explicitly_allowed(tmp_path: Path, demo_env):
    port = free_port()
    args = ["--http", "--host", "0.0.0.0", "--port", str(port), "--allow-unauthenticated-remote"]
    with running(args, demo_env, tmp_path, port):
        answer = httpx.post(f"http://127.0.0.1:{port}/mcp", json=_legacy_initialize(), headers=_MCP_HEADERS)
    assert answer.status_code == 200


# --- stdio ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_stdio_session_exports_the_samples(mode: str, sample_ids, out_dir: Path, demo_env):
    command = server_command()
    params = StdioServerParameters(command=command[0], args=command[1:], env=demo_env, cwd=str(out_dir))

    async def session() -> None:
        with anyio.fail_after(SESSION_TIMEOUT):
            async with Client(params, mode=mode) as client:
                assert client.protocol_version == ("2025-11-25" if mode == "legacy" else "2026-07-28")
                await exercise(client, sample_ids, out_dir)

    asyncio.run(session())


def test_stdio_answers_fit_the_budget_and_keep_every_section(out_dir: Path, demo_env):
    """Issue by issue and as a batch, over stdio with the SDK client: at most 32,000 characters per answer, every
    section heading of every issue in it, the saved file complete, and the file readable as a resource."""
    from sentry_issue_export import Settings, export_issues_sync
    from sentry_issue_export.samples import SAMPLE_NAMES

    command = server_command()
    params = StdioServerParameters(command=command[0], args=command[1:], env=demo_env, cwd=str(out_dir))
    files = {name: export_issues_sync(name, Settings(source="samples"), write=False).content for name in SAMPLE_NAMES}

    async def export(client: Client, tool: str, argument: str, value: Any) -> tuple[str, Path, str]:
        before = set(out_dir.iterdir())
        result = await client.call_tool(tool, {argument: value})
        answer = text_of(result)
        assert not result.is_error, answer[:500]
        [saved] = [path for path in set(out_dir.iterdir()) - before if not path.name.startswith("debug_")]
        [link] = [block for block in result.content if isinstance(block, ResourceLink)]
        read = await client.read_resource(str(link.uri))
        [resource] = read.contents
        assert resource.text == saved.read_text(encoding="utf-8")  # type: ignore[union-attr]
        return answer, saved, resource.text  # type: ignore[union-attr]

    async def session() -> None:
        with anyio.fail_after(SESSION_TIMEOUT * 3):
            async with Client(params) as client:
                from sentry_issue_export import __version__

                instructions = client.instructions or ""
                assert len(instructions.encode()) < 2048 and "short id" in instructions and "issue URL" in instructions
                assert client.server_info is not None and client.server_info.version == __version__
                for name in ("deep_recursion", "huge_event"):  # 180 recursive frames; 1,000 breadcrumbs
                    answer, _, saved = await export(client, "view_sentry_issue", "issue_url_or_id", name)
                    assert len(answer) <= 32_000 and saved == files[name]  # the file keeps its own limits
                    assert all(f"\n{heading}\n" in answer for heading in section_headings(saved)), name
                answer, _, saved = await export(client, "export_issues_tool", "issue_ids", list(SAMPLE_NAMES))
                assert len(answer) <= 32_000 and "Success: 8\nFailed: 0" in answer
                parts = re.split(r"^=+\nIssue ID: ", answer.split("=== Issue Content ===\n")[1], flags=re.M)[1:]
                assert 1 <= len(parts) <= len(SAMPLE_NAMES)  # a headline for every issue, details as they fit
                for number, name in enumerate(SAMPLE_NAMES, 1):
                    assert re.search(rf"^{number}\.\s+\S+\s+(error|warning|info)\s", answer, re.M), name
                for name, part in zip(SAMPLE_NAMES, parts, strict=False):
                    assert all(f"\n{heading}\n" in part for heading in section_headings(files[name])), name
                # Numbers and lists, as MCP Inspector and assistants send them.
                numeric = await client.call_tool("view_sentry_issue", {"issue_url_or_id": 5832120475})
                assert not numeric.is_error and "INGEST-WORKER-2B" in text_of(numeric)
                mixed = await client.call_tool("export_issues_tool", {"issue_ids": ["csp_report", 5832104417]})
                assert "Success: 2\nFailed: 0" in text_of(mixed)
                wrong = await client.call_tool("view_sentry_issue", {"issue_url_or_id": {"id": 1}})
                assert wrong.is_error and text_of(wrong).startswith("The argument issue_url_or_id has the wrong type")
                assert "pydantic" not in text_of(wrong) and "http" not in text_of(wrong)
                # 10,000 unknown ids: an answer within the budget, and the whole list in a file.
                before = set(out_dir.iterdir())
                many = await client.call_tool("export_issues_tool", {"issue_ids": " ".join(map(str, range(10_000)))})
                message = text_of(many)
                assert many.is_error and len(message) <= 32_000 and "Failed: 10000" in message
                assert "… and 9,980 more failed references; all are listed in " in message
                [listing] = set(out_dir.iterdir()) - before
                assert listing.read_text(encoding="utf-8").count("No bundled sample matches") == 10_000

    asyncio.run(session())


def test_stdio_writes_nothing_but_protocol_messages(tmp_path: Path, demo_env):
    requests = [
        _legacy_initialize(),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    child = subprocess.Popen(
        server_command(),
        env=demo_env,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(b"".join(json.dumps(r).encode() + b"\n" for r in requests))
        child.stdin.flush()
        lines = []
        while not any(message.get("id") == 2 for message in lines):
            line = child.stdout.readline()
            assert line, "the server closed standard output before answering tools/list"
            lines.append(json.loads(line))  # anything but a JSON message here would break every client
        rest, _ = child.communicate(timeout=10)  # closes standard input: the server must then exit cleanly
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == 0
    lines += [json.loads(line) for line in rest.splitlines() if line.strip()]
    assert all(message.get("jsonrpc") == "2.0" for message in lines)
    [tools] = [message for message in lines if message.get("id") == 2]
    assert sorted(tool["name"] for tool in tools["result"]["tools"]) == sorted(TOOL_NAMES)


def test_stdio_config_and_export_against_a_sentry_server(tmp_path: Path, out_dir: Path):
    """The whole flow a user goes through: save a token, check it is masked, export, then delete the config."""
    from tests.fake_sentry import ORG, TOKEN, FakeSentry

    env = server_env(tmp_path, EXPORT_SENTRY_ISSUE_OUTPUT_DIR=str(out_dir))
    command = server_command()
    params = StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=str(out_dir))

    async def session(sentry: FakeSentry, served: str, forbidden: str) -> list[CallToolResult]:
        with anyio.fail_after(SESSION_TIMEOUT):
            async with Client(params) as client:
                base_url = f"{sentry.url}/organizations/{ORG}/"
                return [
                    await client.call_tool("initialize_config", {"base_url": base_url, "token": TOKEN}),
                    await client.call_tool("list_config", {}),
                    await client.call_tool("export_issues_tool", {"issue_ids": f"{served}, {forbidden}"}),
                    await client.call_tool("revoke_config", {}),
                ]

    with FakeSentry() as sentry:
        served, forbidden = sentry.add_samples()[:2]
        sentry.forbid(forbidden)
        saved, listed, exported, revoked = asyncio.run(session(sentry, served, forbidden))
        assert sentry.requests and all(r.authorization == f"Bearer {TOKEN}" for r in sentry.requests)

    for result in (saved, listed, exported, revoked):
        assert not result.is_error, text_of(result)
        assert TOKEN not in text_of(result)
    assert text_of(saved).startswith("✅ Token checked and saved.")
    assert json.loads(text_of(listed).partition("\n")[2])["saved"] is True
    answer = text_of(exported)
    assert answer.startswith("✅ Export completed!\nSuccess: 1\nFailed: 1\n")
    assert f"\n- {forbidden}: " in answer
    assert text_of(revoked).startswith("Saved config deleted: ")
    assert not (tmp_path / ".config" / "export-sentry-issue" / "config.json").exists()


def test_a_pasted_issue_list_address_expands_over_stdio(tmp_path: Path, out_dir: Path):
    from tests.fake_sentry import TOKEN, FakeSentry

    async def session(sentry: FakeSentry) -> str:
        env = server_env(tmp_path, SENTRY_URL=sentry.url, SENTRY_ORG="acme", SENTRY_AUTH_TOKEN=TOKEN)
        command = server_command()
        params = StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=str(out_dir))
        with anyio.fail_after(SESSION_TIMEOUT):
            async with Client(params) as client:
                pasted = f"{sentry.url}/organizations/acme/issues/?query=is%3Aunresolved&sort=freq"
                return text_of(await client.call_tool("view_sentry_issue", {"issue_url_or_id": pasted}))

    with FakeSentry() as sentry:
        sentry.add_synthetic_issues(30)
        answer = asyncio.run(session(sentry))
        [query] = [r.query for r in sentry.requests if r.path.endswith("/issues/") and "group" not in r.query]
    assert answer.startswith(f"✅ Export completed!\nMatched: 30 issues for {pasted_prefix(sentry)}")
    assert "exported all 30\nSuccess: 30\nFailed: 0" in answer and len(answer) <= 32_000
    for number in range(1, 31):  # a headline for every match
        assert re.search(rf"^{number}\.\s+BACKEND-\w+\s+error\s", answer, re.M), number
    assert (query["query"], query["sort"]) == (["is:unresolved"], ["freq"])


def pasted_prefix(sentry: Any) -> str:
    return f"{sentry.url}/organizations/acme/issues/?query=is%3Aunresolved&sort=freq"


def test_no_token_reaches_the_debug_log(tmp_path: Path, out_dir: Path):
    """At DEBUG fastmcp logs every tool call with its arguments, uvicorn every request line: no token survives."""
    from tests.fake_sentry import ORG, TOKEN, FakeSentry

    other = "selfhosted0" + "5ec7e7" * 6  # a per-call token without a recognisable prefix
    log = tmp_path / "server.log"
    env = server_env(tmp_path, EXPORT_SENTRY_ISSUE_OUTPUT_DIR=str(out_dir))
    command = ["bash", "-c", f'exec "$@" 2>>"{log}"', "server", *server_command("--log-level", "DEBUG")]
    params = StdioServerParameters(command=command[0], args=command[1:], env=env, cwd=str(out_dir))

    async def session(sentry: FakeSentry, issue_id: str) -> None:
        with anyio.fail_after(SESSION_TIMEOUT):
            async with Client(params) as client:
                base_url = f"{sentry.url}/organizations/{ORG}/"
                saved = await client.call_tool("initialize_config", {"base_url": base_url, "token": TOKEN})
                assert not saved.is_error, text_of(saved)
                arguments = {"issue_ids": issue_id, "base_url": base_url, "token": other}
                await client.call_tool("export_issues_tool", arguments)

    with FakeSentry(tokens=(TOKEN, other)) as sentry:
        [issue_id] = sentry.add_synthetic_issues(1)
        asyncio.run(session(sentry, issue_id))
    written = log.read_text(encoding="utf-8", errors="replace")
    assert "initialize_config" in written and "export_issues_tool" in written  # DEBUG logged the calls
    unwrapped = "".join(written.split())  # the log handler wraps long lines, splitting a token across them
    assert "'token':'[Filtered]'" in unwrapped
    assert TOKEN not in unwrapped and other not in unwrapped


def test_no_token_reaches_the_access_log(tmp_path: Path, demo_env):
    port = free_port()
    secret = "accesstoken0in0a0query0string"
    env = {**demo_env, "EXPORT_SENTRY_ISSUE_MCP_TOKEN": "server-bearer-token-1234"}
    with running(["--http", "--port", str(port), "--log-level", "DEBUG"], env, tmp_path, port) as child:
        answer = httpx.get(f"http://127.0.0.1:{port}/mcp?access_token={secret}")
        assert answer.status_code == 401
        time.sleep(0.3)
        child.kill()
        child.wait(timeout=10)
    written = "".join((tmp_path / f"server-{port}.log").read_text(encoding="utf-8", errors="replace").split())
    assert "/mcp?access_token=" in written  # the request was logged...
    assert secret not in written and "server-bearer-token-1234" not in written  # ...without the token


# --- streamable HTTP and SSE ----------------------------------------------------------------------------------

_MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _legacy_initialize() -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }


def test_http_sessions_with_both_handshakes(tmp_path: Path, sample_ids, out_dir: Path, demo_env):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"

    async def sessions() -> None:
        for mode in MODES:
            with anyio.fail_after(SESSION_TIMEOUT):
                async with Client(url, mode=mode) as client:
                    await exercise(client, sample_ids, out_dir)

    with running(["--http", "--port", str(port)], demo_env, tmp_path, port):
        asyncio.run(sessions())


def test_http_refuses_foreign_host_and_origin_headers(tmp_path: Path, demo_env):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with running(["--http", "--port", str(port)], demo_env, tmp_path, port):
        rebound = httpx.post(url, json=_legacy_initialize(), headers={**_MCP_HEADERS, "Host": f"evil.example:{port}"})
        cross_site = httpx.post(
            url, json=_legacy_initialize(), headers={**_MCP_HEADERS, "Origin": "https://evil.example"}
        )
        local_page = httpx.post(
            url, json=_legacy_initialize(), headers={**_MCP_HEADERS, "Origin": "http://localhost:5173"}
        )
        by_name = httpx.post(url, json=_legacy_initialize(), headers={**_MCP_HEADERS, "Host": f"localhost:{port}"})
    assert rebound.status_code == 421
    assert cross_site.status_code == 403
    assert local_page.status_code == 200
    assert by_name.status_code == 200


def test_http_bearer_token_and_allowed_host(tmp_path: Path, sample_ids, out_dir: Path, demo_env):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    env = {**demo_env, "MCP_CLIENT_TOKEN": "correct horse battery staple"}
    args = ["--http", "--port", str(port), "--auth-token-env", "MCP_CLIENT_TOKEN", "--allowed-host", "mcp.example.test"]

    async def authorized_session() -> None:
        headers = {"Authorization": "Bearer correct horse battery staple"}
        with anyio.fail_after(SESSION_TIMEOUT):
            async with (
                httpx2.AsyncClient(headers=headers) as http,
                Client(streamable_http_client(url, http_client=http)) as client,
            ):
                await exercise(client, sample_ids, out_dir)

    with running(args, env, tmp_path, port):
        anonymous = httpx.post(url, json=_legacy_initialize(), headers=_MCP_HEADERS)
        wrong = httpx.post(url, json=_legacy_initialize(), headers={**_MCP_HEADERS, "Authorization": "Bearer nope"})
        basic = httpx.post(
            url, json=_legacy_initialize(), headers=_MCP_HEADERS, auth=("u", "correct horse battery staple")
        )
        right = {**_MCP_HEADERS, "Authorization": "Bearer correct horse battery staple"}
        named = httpx.post(url, json=_legacy_initialize(), headers={**right, "Host": "mcp.example.test"})
        unnamed = httpx.post(url, json=_legacy_initialize(), headers={**right, "Host": "other.example.test"})
        asyncio.run(authorized_session())
    for refused in (anonymous, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "correct horse" not in refused.text
    assert named.status_code == 200
    assert unnamed.status_code == 421


def test_sse_transport_with_both_handshakes(tmp_path: Path, sample_ids, out_dir: Path, demo_env):
    port = free_port()

    async def sessions() -> None:
        for mode in MODES:
            with anyio.fail_after(SESSION_TIMEOUT):
                async with Client(sse_client(f"http://127.0.0.1:{port}/sse"), mode=mode) as client:
                    await exercise(client, sample_ids, out_dir)

    with running(["--transport", "sse", "--port", str(port)], demo_env, tmp_path, port):
        asyncio.run(sessions())
