"""Compiled templates cached between runs, and never a reason for a report to fail."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sentry_issue_export.renderers import template_cache
from sentry_issue_export.renderers.template_cache import bytecode_cache, cache_directory
from tests.child_process import command_environment

RENDER = """
import sys
from sentry_issue_export import Settings, export_issues_sync
result = export_issues_sync("python_chained_exception", Settings(source="samples"), write=False)
sys.stdout.write(result.text)
"""


def render_in_a_new_process(home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter, so its templates come from the cache on disk or are compiled, never from memory."""
    environment = {**command_environment(home), **env}
    return subprocess.run([sys.executable, "-c", RENDER], env=environment, capture_output=True, text=True)


def test_templates_are_compiled_once_and_then_read_from_the_cache(tmp_path: Path) -> None:
    first = render_in_a_new_process(tmp_path)
    assert first.returncode == 0, first.stderr
    directory = cache_directory({"XDG_CACHE_HOME": str(tmp_path / ".cache")})
    cached = sorted(directory.iterdir())
    assert cached and all(path.name.endswith(".cache") for path in cached)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    stamps = {path: path.stat().st_mtime_ns for path in cached}
    second = render_in_a_new_process(tmp_path)
    assert second.returncode == 0 and second.stdout == first.stdout
    assert {path: path.stat().st_mtime_ns for path in sorted(directory.iterdir())} == stamps  # read, not rewritten


def test_a_damaged_cache_file_is_compiled_afresh(tmp_path: Path) -> None:
    expected = render_in_a_new_process(tmp_path).stdout
    directory = cache_directory({"XDG_CACHE_HOME": str(tmp_path / ".cache")})
    for path in directory.iterdir():
        path.write_bytes(b"j2\x80 not bytecode at all")
    again = render_in_a_new_process(tmp_path)
    assert again.returncode == 0 and again.stdout == expected


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_cache_directory_only_costs_the_compilation(tmp_path: Path) -> None:
    directory = cache_directory({"XDG_CACHE_HOME": str(tmp_path / ".cache")})
    directory.mkdir(parents=True, mode=0o700)
    directory.chmod(0o500)
    try:
        result = render_in_a_new_process(tmp_path)
    finally:
        directory.chmod(0o700)
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert list(directory.iterdir()) == []


def test_a_full_disk_while_saving_a_compiled_template_is_ignored(tmp_path: Path, monkeypatch) -> None:
    cache = bytecode_cache({"XDG_CACHE_HOME": str(tmp_path)})
    assert cache is not None

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(template_cache.jinja2.FileSystemBytecodeCache, "dump_bytecode", disk_full)
    cache.dump_bytecode(object())  # type: ignore[arg-type]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_directory_others_can_write_to_is_never_loaded_from(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    directory = cache_directory(env)
    directory.mkdir(parents=True)
    directory.chmod(0o777)  # anyone could plant compiled code here for Jinja2 to run
    assert bytecode_cache(env) is None
    directory.chmod(0o700)
    assert bytecode_cache(env) is not None


def test_the_cache_can_be_switched_off(tmp_path: Path) -> None:
    result = render_in_a_new_process(tmp_path, EXPORT_SENTRY_ISSUE_NO_TEMPLATE_CACHE="1")
    assert result.returncode == 0
    assert not (tmp_path / ".cache").exists()


def test_a_cache_directory_that_cannot_be_made_only_costs_the_compilation(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory would go")
    assert bytecode_cache({"XDG_CACHE_HOME": str(blocker)}) is None
    result = render_in_a_new_process(tmp_path, XDG_CACHE_HOME=str(blocker))
    assert result.returncode == 0 and "Sentry issue" not in result.stderr and result.stdout
