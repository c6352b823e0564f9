"""Many writers at once: threads, processes, exports in one event loop, MCP tool calls, and the saved config.

Writers asking for the same report name in the same second each get their own file (``name``, ``name_2``, ...)
holding exactly their own content, and no temporary file outlives them. Readers of the config file only ever
see no file or a complete, private one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client

from sentry_issue_export import config
from sentry_issue_export.config.file import SavedConfig, load_saved, save_config
from sentry_issue_export.errors import ConfigError
from sentry_issue_export.exporter import ExportResult, export_issues, export_issues_sync
from sentry_issue_export.mcp.server import ServerOptions, make_server
from sentry_issue_export.output import write_new_file
from sentry_issue_export.settings import Settings
from sentry_issue_export.sources.sentry import SentrySource

REPO_ROOT = Path(__file__).resolve().parent.parent
NAME = "sentry_issue_5832120475_20261125_090807.txt"
"""The default name every writer of one issue makes in one second."""


def numbered(n: int) -> str:
    return NAME if n == 1 else NAME.replace(".txt", f"_{n}.txt")


def labelled_content(label: str, size: int = 300_000) -> bytes:
    """Content that names its writer on every line, so a mix-up or a torn write shows."""
    line = f"{label} {hashlib.sha256(label.encode()).hexdigest()}\n".encode()
    return line * (size // len(line))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def python_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}


def start_python(script: str, *args: str) -> subprocess.Popen[str]:
    """A Python process running ``script`` that waits for ``go`` on its standard input before starting."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=python_env(),
    )


def release(processes: list[subprocess.Popen[str]]) -> None:
    """Wait until every process is ready, then start them all at once."""
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()


def finish(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, f"a writer process failed (exit code {process.returncode})"
    return out


def visible_and_hidden(directory: Path) -> tuple[set[str], set[str]]:
    names = set(os.listdir(directory))
    hidden = {name for name in names if name.startswith(".")}
    return names - hidden, hidden


# --- report files --------------------------------------------------------------------------------------------------


def test_threads_asking_for_the_same_name_each_get_their_own_file(tmp_path: Path):
    count = 16
    contents = [labelled_content(f"thread {i}") for i in range(count)]
    start = threading.Barrier(count)

    def write(i: int) -> Path:
        start.wait()
        return write_new_file(tmp_path / NAME, contents[i])

    with ThreadPoolExecutor(count) as pool:
        paths = list(pool.map(write, range(count)))
    assert sorted(path.name for path in paths) == sorted(numbered(n) for n in range(1, count + 1))
    for path, content in zip(paths, contents, strict=True):
        assert path.read_bytes() == content, f"{path.name} does not hold its own writer's content"
    assert visible_and_hidden(tmp_path) == ({path.name for path in paths}, set())


PROCESS_WRITER = r"""
import hashlib, json, sys, threading
from pathlib import Path
from sentry_issue_export.output import write_new_file

out_dir, name, threads, writes = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def content(label):
    line = f"{label} {hashlib.sha256(label.encode()).hexdigest()}\n".encode()
    return line * (300_000 // len(line))

written = []
def work(t):
    for k in range(writes):
        data = content(f"process {sys.argv[5]} thread {t} write {k}")
        written.append([str(write_new_file(out_dir / name, data)), hashlib.sha256(data).hexdigest()])

print("ready", flush=True)
sys.stdin.readline()
workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
print(json.dumps(written))
"""


@pytest.mark.slow
def test_processes_and_threads_asking_for_the_same_name_each_get_their_own_file(tmp_path: Path):
    """Every writer's cleanup sees the others' live temporary files here, and must leave them alone."""
    processes = [start_python(PROCESS_WRITER, str(tmp_path), NAME, "4", "5", str(p)) for p in range(3)]
    release(processes)
    local = [labelled_content(f"parent write {k}") for k in range(10)]
    with ThreadPoolExecutor(4) as pool:
        parent_paths = list(pool.map(lambda data: write_new_file(tmp_path / NAME, data), local))
    written: list[tuple[str, str]] = [(str(path), digest(data)) for path, data in zip(parent_paths, local, strict=True)]
    for process in processes:
        written += [(path, sha) for path, sha in json.loads(finish(process))]

    assert len(written) == 3 * 4 * 5 + 10
    paths = [Path(path) for path, _ in written]
    assert len(set(paths)) == len(paths), "two writers were given the same file"
    assert {path.name for path in paths} == {numbered(n) for n in range(1, len(paths) + 1)}
    for path, sha in written:
        assert digest(Path(path).read_bytes()) == sha, f"{Path(path).name} does not hold its own writer's content"
    assert visible_and_hidden(tmp_path) == ({path.name for path in paths}, set())


def test_exports_gathered_in_one_event_loop_each_get_their_own_file(tmp_path: Path):
    settings = Settings(source="samples", output_dir=tmp_path)

    async def export_ten() -> list[ExportResult]:
        return await asyncio.gather(*(export_issues("csp_report", settings) for _ in range(10)))

    results = asyncio.run(export_ten())
    paths = [result.path for result in results]
    assert None not in paths and len(set(paths)) == 10
    for result in results:
        assert result.path is not None and result.path.read_text(encoding="utf-8") == result.content
    assert visible_and_hidden(tmp_path) == ({path.name for path in paths if path}, set())


def test_exports_in_worker_threads_each_get_their_own_file(tmp_path: Path):
    """Unlike coroutines in one loop, these really write at the same time."""
    settings = Settings(source="samples", format="json", output_dir=tmp_path)
    reference = export_issues_sync("python_chained_exception", settings, write=False).content

    async def export_in_threads() -> list[ExportResult]:
        calls = (asyncio.to_thread(export_issues_sync, "python_chained_exception", settings) for _ in range(8))
        return await asyncio.gather(*calls)

    paths = [result.path for result in asyncio.run(export_in_threads())]
    assert None not in paths and len(set(paths)) == 8
    for path in paths:
        assert path is not None and json.loads(path.read_text(encoding="utf-8")) == json.loads(reference)
        assert path.read_text(encoding="utf-8") == reference


# --- MCP tool calls ------------------------------------------------------------------------------------------------

SAVED_LINE = re.compile(r"^File saved: (.+)$", re.MULTILINE)


def test_concurrent_view_calls_each_name_their_own_complete_file(tmp_path: Path):
    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    formats = ["text", "markdown", "json"] * 3 + ["text"]
    references = {
        fmt: export_issues_sync("message_with_threads", Settings(source="samples", format=fmt), write=False).content
        for fmt in set(formats)
    }

    async def view_all() -> list[Any]:
        async with Client(make_server(ServerOptions(source="samples", output_dir=out_dir))) as client:
            calls = (
                client.call_tool("view_sentry_issue", {"issue_url_or_id": "message_with_threads", "format": fmt})
                for fmt in formats
            )
            return await asyncio.gather(*calls)

    answers = [result.content[0].text for result in asyncio.run(view_all())]
    paths = []
    for fmt, answer in zip(formats, answers, strict=True):
        match = SAVED_LINE.search(answer)
        assert match, f"the answer names no file: {answer[:200]}"
        path = Path(match.group(1))
        assert path.parent == out_dir and path.read_text(encoding="utf-8") == references[fmt]
        paths.append(path)
    assert len(set(paths)) == len(formats)
    assert visible_and_hidden(out_dir) == ({path.name for path in paths}, set())


# --- the saved config ----------------------------------------------------------------------------------------------


def token_for(writer: str) -> str:
    return "sntryu_" + hashlib.sha256(writer.encode()).hexdigest()


class ConfigWatcher:
    """Reads the config file in a loop from a thread and records anything a reader should never see."""

    def __init__(self, path: Path, tokens: set[str]) -> None:
        self.path = path
        self.tokens = tokens
        self.problems: list[str] = []
        self.seen = {"absent": 0, "complete": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ConfigWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.check_once()

    def check_once(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            self.seen["absent"] += 1
            return
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
        if mode != 0o600:
            self.problems.append(f"the config file had mode {mode:o}")
        try:
            saved = load_saved(self.path)
        except ConfigError as exc:
            self.problems.append(f"a reader saw an unusable config: {exc}")
            return
        if saved is None:
            self.seen["absent"] += 1
        elif saved.token not in self.tokens or saved.warnings:
            self.problems.append(f"a reader saw an unexpected config: org {saved.org}, warnings {saved.warnings}")
        else:
            self.seen["complete"] += 1


def assert_only_the_config_remains(path: Path) -> None:
    leftovers = [name for name in os.listdir(path.parent) if name != path.name]
    assert leftovers == [], f"temporary files were left next to the config: {leftovers}"
    if path.exists():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.fixture
def no_token_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``initialize_config`` saves without asking a Sentry server whether the token works."""

    async def accept(self: SentrySource, settings: Settings) -> str:
        return "accepted"

    monkeypatch.setattr(SentrySource, "check_access", accept)
    yield


BASE_URL = "https://sentry.example.com/organizations/acme/"


async def config_tool_calls(writers: list[str], *, revoke_every: int = 0) -> list[Any]:
    """``initialize_config`` for each writer, each beside a ``list_config`` and, if asked, a ``revoke_config``."""
    async with Client(make_server(ServerOptions())) as client:
        calls = []
        for i, writer in enumerate(writers):
            arguments = {"base_url": BASE_URL, "token": token_for(writer)}
            calls.append(client.call_tool("initialize_config", arguments, raise_on_error=False))
            calls.append(client.call_tool("list_config", {}, raise_on_error=False))
            if revoke_every and i % revoke_every == 0:
                calls.append(client.call_tool("revoke_config", {}, raise_on_error=False))
        return await asyncio.gather(*calls)


def test_concurrent_config_tool_calls_never_show_a_partial_config(no_token_check: None):
    path = config.config_path()
    writers = [f"tool {i}" for i in range(10)]
    tokens = {token_for(writer) for writer in writers}
    with ConfigWatcher(path, tokens) as watcher:
        results = asyncio.run(config_tool_calls(writers))
    assert [result.content[0].text for result in results if result.is_error] == []
    assert watcher.problems == []
    assert watcher.seen["complete"] > 0
    final = load_saved(path)
    assert final is not None and final.token in tokens
    assert_only_the_config_remains(path)


def test_revoking_while_saving_never_leaves_a_partial_config(no_token_check: None):
    """Whichever call wins, the file is absent or whole; a save that loses says so in a sentence."""
    path = config.config_path()
    writers = [f"tool {i}" for i in range(12)]
    tokens = {token_for(writer) for writer in writers}
    with ConfigWatcher(path, tokens) as watcher:
        results = asyncio.run(config_tool_calls(writers, revoke_every=2))
    for result in results:
        if result.is_error:
            message = result.content[0].text
            assert message.startswith("Could not save the config") and "Traceback" not in message
    assert watcher.problems == []
    final = load_saved(path)
    assert final is None or final.token in tokens
    assert_only_the_config_remains(path)


def test_revoking_leaves_the_temporary_file_of_a_save_in_progress_alone(tmp_path: Path):
    path = tmp_path / "export-sentry-issue" / "config.json"
    save_config(SavedConfig(base_url="https://sentry.example.com", org="acme", token=token_for("saved")), path)
    in_progress = path.with_name(f".config.json.{os.getpid()}.0123456789ab.tmp")  # this very process is saving
    in_progress.write_text("{")
    config.revoke_config(path)
    assert in_progress.exists()


CONFIG_WRITER = r"""
import hashlib, sys
from pathlib import Path
from sentry_issue_export.config.file import SavedConfig, save_config

path, name, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
for k in range(rounds):
    token = "sntryu_" + hashlib.sha256(f"{name} {k}".encode()).hexdigest()
    save_config(SavedConfig(base_url="https://sentry.example.com", org="acme", token=token), path)
"""


@pytest.mark.slow
def test_processes_and_threads_saving_the_config_never_show_a_partial_or_open_file(tmp_path: Path):
    path = tmp_path / "config" / "export-sentry-issue" / "config.json"
    rounds = 40
    names = ["process 0", "process 1", "thread 0", "thread 1"]
    tokens = {token_for(f"{name} {k}") for name in names for k in range(rounds)}

    def save_rounds(name: str) -> None:
        for k in range(rounds):
            save_config(
                SavedConfig(base_url="https://sentry.example.com", org="acme", token=token_for(f"{name} {k}")), path
            )

    processes = [start_python(CONFIG_WRITER, str(path), name, str(rounds)) for name in names[:2]]
    with ConfigWatcher(path, tokens) as watcher:
        release(processes)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(save_rounds, names[2:]))
        for process in processes:
            finish(process)
    assert watcher.problems == []
    assert watcher.seen["complete"] > 0
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    final = load_saved(path)
    assert final is not None and final.token in {token_for(f"{name} {rounds - 1}") for name in names}
    assert_only_the_config_remains(path)
