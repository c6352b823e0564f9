"""SIGTERM and SIGINT end the real server process within a second, over stdio and HTTP, and as PID 1 of a PID
namespace, the way ``docker stop`` meets it in a container (where the kernel gives PID 1 no default action).

The PID 1 cases need ``unshare`` (util-linux) and the right to make a PID namespace; they are skipped elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentry_issue_export.mcp import stopping
from tests.stdio_client import LineClient
from tests.test_mcp_subprocess import free_port, server_env

pytestmark = pytest.mark.slow

STOP_WITHIN = 1.0
"""Seconds from the signal to the process's end: what ``docker stop`` should see."""

SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]


def entrypoint() -> list[str]:
    """The console command installed beside this interpreter (a container's entrypoint), else the module."""
    script = Path(sys.executable).with_name("export-sentry-issue-mcp")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sentry_issue_export.mcp.server"]


def pid_namespace_prefix() -> list[str] | None:
    """The ``unshare`` command line that runs a command as PID 1 of a new PID namespace, or None if not here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for prefix in ([unshare, "--pid", "--fork"], [unshare, "--user", "--map-root-user", "--pid", "--fork"]):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            probe = subprocess.run([*prefix, "sh", "-c", "echo $$"], capture_output=True, text=True, timeout=10)
            if probe.returncode == 0 and probe.stdout.strip() == "1":
                return prefix
    return None


PID_NAMESPACE = pid_namespace_prefix()


@contextlib.contextmanager
def server(tmp_path: Path, args: list[str], *, as_pid_1: bool) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The server with its standard streams on pipes; yields the process and the pid to signal (inside the
    namespace's PID 1 when ``as_pid_1``). Always killed at the end."""
    env = server_env(tmp_path, EXPORT_SENTRY_ISSUE_SOURCE="samples", EXPORT_SENTRY_ISSUE_OUTPUT_DIR=str(tmp_path))
    prefix = PID_NAMESPACE if as_pid_1 else []
    if prefix is None:
        pytest.skip("no PID namespace can be made here (needs unshare and the right to use it)")
    child = subprocess.Popen(
        [*prefix, *entrypoint(), *args],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        target = child.pid
        if as_pid_1:  # unshare forks the command: the signal is for that child, which is PID 1 inside
            target = forked_child(child.pid)
            [ids] = [
                line for line in Path(f"/proc/{target}/status").read_text().splitlines() if line.startswith("NSpid:")
            ]
            assert ids.split()[-1] == "1", ids
        yield child, target
    finally:
        child.kill()
        child.wait(timeout=10)
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def forked_child(pid: int) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + 10
    while not (found := children.read_text().split()):
        if time.monotonic() > deadline:
            pytest.fail("unshare did not start the server")
        time.sleep(0.01)
    return int(found[0])


def wait_for_stdio(child: subprocess.Popen[bytes]) -> None:
    """Until the server answers the handshake: from then on it is serving, its handlers in place."""
    LineClient(child).initialize()


def wait_for_port(child: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        if child.poll() is not None:
            pytest.fail(f"the server exited with {child.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        if time.monotonic() > deadline:
            pytest.fail("the server did not start listening within 30 s")
        time.sleep(0.05)


def assert_stops(child: subprocess.Popen[bytes], target: int, number: int) -> None:
    """Send ``number`` to ``target`` and see the process end cleanly within :data:`STOP_WITHIN` seconds."""
    started = time.monotonic()
    os.kill(target, number)
    try:
        child.wait(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the server was still running {STOP_WITHIN} s after {signal.Signals(number).name}")
    took = time.monotonic() - started
    assert child.stderr is not None
    log = child.stderr.read().decode(errors="replace")
    assert child.returncode == 0, log
    assert "Traceback" not in log and "Error" not in log, log
    assert took < STOP_WITHIN


@pytest.mark.parametrize("number", SIGNALS)
def test_a_signal_ends_the_stdio_server_while_it_waits_for_the_client(tmp_path: Path, number: int):
    with server(tmp_path, [], as_pid_1=False) as (child, target):
        wait_for_stdio(child)  # standard input stays open: the server is blocked reading it
        assert_stops(child, target, number)


@pytest.mark.parametrize("number", SIGNALS)
def test_a_signal_ends_the_http_server(tmp_path: Path, number: int):
    port = free_port()
    with server(tmp_path, ["--http", "--port", str(port)], as_pid_1=False) as (child, target):
        wait_for_port(child, port)
        assert_stops(child, target, number)


@pytest.mark.skipif(sys.platform != "linux", reason="PID namespaces are Linux's")
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_sigterm_ends_the_server_as_pid_1(tmp_path: Path, transport: str):
    port = free_port()
    args = ["--http", "--port", str(port)] if transport == "http" else []
    with server(tmp_path, args, as_pid_1=True) as (child, target):
        if transport == "http":
            wait_for_port(child, port)
        else:
            wait_for_stdio(child)
        assert_stops(child, target, signal.SIGTERM)


def test_the_handlers_are_put_back_afterwards():
    before = {number: signal.getsignal(number) for number in stopping.STOP_SIGNALS}
    with stopping.stop_on_signals():
        assert all(signal.getsignal(number) is not before[number] for number in stopping.STOP_SIGNALS)
    assert {number: signal.getsignal(number) for number in stopping.STOP_SIGNALS} == before


def test_a_server_that_ends_by_itself_is_not_cancelled():
    async def finishes() -> str:
        return "done"

    stopping.serve(finishes)  # returns, with the signal handlers of its loop removed
    assert not stopping._deadline
