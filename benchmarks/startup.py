"""How fast the commands start: ``python -m benchmarks startup [--runs N]``.

Measures, from a cold process each time:
- the MCP server over stdio, from spawning ``export-sentry-issue-mcp`` to its answer to ``tools/list``
  (what a client waits for before it can offer the tools; target 1.5 s);
- ``export-sentry-issue --help`` and ``export-sentry-issue-mcp --help``;
- whether ``export-sentry-issue --help`` imports fastmcp or the MCP SDK (it must not: the CLI never needs them).

Exits 1 when a target is missed, so it can guard a change.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MCP_TARGET_SECONDS = 1.5
MCP_PACKAGES = ("fastmcp", "mcp", "mcp_types")

_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}
_REQUESTS = b"".join(
    json.dumps(message).encode() + b"\n"
    for message in (
        _INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    )
)

_IMPORTS_PROBE = f"""
import contextlib, json, sys
from sentry_issue_export.cli import main
with contextlib.redirect_stdout(None), contextlib.suppress(SystemExit):
    main(["--help"])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {MCP_PACKAGES!r})))
"""


def command(name: str, module: str) -> list[str]:
    """The installed console script, else the module run by this interpreter."""
    found = shutil.which(name)
    return [found] if found else [sys.executable, "-m", module]


def time_mcp_tools_list(env: dict[str, str], cwd: str) -> float:
    """Seconds from spawning the server to reading its ``tools/list`` answer on standard output."""
    start = time.perf_counter()
    child = subprocess.Popen(
        command("export-sentry-issue-mcp", "sentry_issue_export.mcp.server"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(_REQUESTS)
        child.stdin.flush()
        while True:
            line = child.stdout.readline()
            if not line:
                raise RuntimeError("the MCP server exited before answering tools/list")
            message = json.loads(line)
            if message.get("id") == 2:
                elapsed = time.perf_counter() - start
                if len(message["result"]["tools"]) != 5:
                    raise RuntimeError(f"expected 5 tools, got {message['result']['tools']!r}")
                return elapsed
    finally:
        child.kill()
        child.wait()


def time_command(argv: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def cli_help_imports(env: dict[str, str], cwd: str) -> list[str]:
    """The MCP modules loaded by ``export-sentry-issue --help`` (should be none)."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_PROBE], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(label: str, runs: int, once: Callable[[], float]) -> float:
    once()  # warm the file-system cache and byte-code, so every counted run is a cold process, not a cold disk
    times = [once() for _ in range(runs)]
    median = statistics.median(times)
    shown = ", ".join(f"{t:.3f}" for t in times)
    print(f"{label:<44} median {median:.3f} s   runs: {shown}")
    return median


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per figure (default 5)")
    args = parser.parse_args(argv)

    repo_root = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as home:
        env = {
            **{key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"},
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "EXPORT_SENTRY_ISSUE_SOURCE": "samples",
            "PYTHONPATH": os.pathsep.join(filter(None, [repo_root, os.environ.get("PYTHONPATH")])),
        }
        cli = command("export-sentry-issue", "sentry_issue_export.cli")
        mcp = command("export-sentry-issue-mcp", "sentry_issue_export.mcp.server")
        print(f"python {sys.version.split()[0]}, {args.runs} runs each, after one warm-up run\n")
        mcp_start = measure("MCP stdio: spawn -> tools/list answer", args.runs, lambda: time_mcp_tools_list(env, home))
        measure("export-sentry-issue --help", args.runs, lambda: time_command([*cli, "--help"], env, home))
        measure("export-sentry-issue-mcp --help", args.runs, lambda: time_command([*mcp, "--help"], env, home))
        leaked = cli_help_imports(env, home)

    print()
    ok = mcp_start <= MCP_TARGET_SECONDS
    print(f"MCP cold start {mcp_start:.3f} s: {'within' if ok else 'OVER'} the {MCP_TARGET_SECONDS} s target")
    if leaked:
        print(f"export-sentry-issue --help imports MCP modules it never uses: {', '.join(leaked[:8])} ...")
    else:
        print("export-sentry-issue --help imports no fastmcp or MCP SDK module")
    return 0 if ok and not leaked else 1
