"""Compiled templates cached between runs, and never a reason for a report to fail."""

from __future__ import annotations

import marshal
import os
import pickle
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import jinja2
import pytest
from jinja2.bccache import bc_magic

from sentry_issue_export import Settings, export_issues_sync
from sentry_issue_export.hookspecs import IssuePart, RenderOptions
from sentry_issue_export.models import IssueReport, IssueSummary
from sentry_issue_export.renderers.template_cache import bytecode_cache, cache_directory
from sentry_issue_export.renderers.templating import TemplateSet
from sentry_issue_export.renderers.text import TEXT
from tests.child_process import command_environment

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions, symbolic links and dir_fd")
SOMEONE_ELSE = 65534  # nobody

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


def test_a_full_disk_while_saving_a_compiled_template_is_ignored(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    cache = bytecode_cache(env)
    assert cache is not None

    class DiskFull:
        key = "a-template"

        def write_bytecode(self, file: object) -> None:
            raise OSError(28, "No space left on device")

    cache.dump_bytecode(DiskFull())  # type: ignore[arg-type]
    assert list(cache_directory(env).iterdir()) == []  # nor a temporary file left behind


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


# --- code planted in the cache -----------------------------------------------------------------------------------
# Jinja2 runs the code a cache file holds. These tests plant files that would create ``marker`` if run, and
# check that the cache never loads them: from a directory others can write to, through a symbolic link, after
# the directory was swapped under a running export, or from a file that is not privately ours.


def plant(directory: Path, marker: Path) -> None:
    """Rewrite every cache file in ``directory`` so that loading it runs code that creates ``marker``; the
    header and source checksum are kept, so Jinja2 takes each file for the compiled template it replaces."""
    code = compile(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('planted code ran')\n", "x", "exec")
    cached = sorted(directory.glob("*.cache"))
    assert cached, f"no compiled templates in {directory} to replace"
    for path in cached:
        with path.open("rb") as file:
            assert file.read(len(bc_magic)) == bc_magic
            checksum = pickle.load(file)
        path.write_bytes(bc_magic + pickle.dumps(checksum, 2) + marshal.dumps(code))


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[IssueReport]:
    """A sample issue's reports, with ``$XDG_CACHE_HOME`` then moved to ``tmp_path/cache`` for the test."""
    result = export_issues_sync("python_chained_exception", Settings(source="samples"), write=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return list(result.reports)


def render(reports: Sequence[IssueReport]) -> str:
    """The built-in text templates in a new environment (with a new cache): as a new export process would."""
    return TemplateSet(TEXT).render_reports(reports, RenderOptions(limits=Settings().limits))


def greeting_environment(env: dict[str, str]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.DictLoader({"greeting.j2": "Hello {{ name }}!"}), bytecode_cache=bytecode_cache(env)
    )


@POSIX_ONLY
def test_the_planted_files_are_run_when_the_cache_trusts_them(tmp_path: Path) -> None:
    """The check that the tests below are not vacuous: a planted file in a private cache does run."""
    env, marker = {"XDG_CACHE_HOME": str(tmp_path / "cache")}, tmp_path / "marker"
    assert greeting_environment(env).get_template("greeting.j2").render(name="world") == "Hello world!"
    plant(cache_directory(env), marker)
    with pytest.raises(KeyError):  # the planted code defines no template
        greeting_environment(env).get_template("greeting.j2")
    assert marker.exists()


@POSIX_ONLY
@pytest.mark.parametrize("level", ["cache root", "export-sentry-issue"])
def test_nothing_is_loaded_below_a_directory_others_can_write_to(
    level: str, reports: list[IssueReport], tmp_path: Path
) -> None:
    expected = render(reports)
    directory = cache_directory()
    plant(directory, marker := tmp_path / "marker")
    (tmp_path / "cache" if level == "cache root" else directory.parent).chmod(0o777)
    assert render(reports) == expected
    assert not marker.exists()


@POSIX_ONLY
def test_a_symbolic_link_below_the_cache_root_is_not_followed(reports: list[IssueReport], tmp_path: Path) -> None:
    expected = render(reports)
    app_directory = cache_directory().parent
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    app_directory.rename(elsewhere / app_directory.name)  # still ours, private, but reached through a link
    app_directory.symlink_to(elsewhere / app_directory.name, target_is_directory=True)
    plant(cache_directory(), marker := tmp_path / "marker")
    assert render(reports) == expected
    assert not marker.exists()


@POSIX_ONLY
def test_the_cache_directory_swapped_during_an_export_is_never_read(reports: list[IssueReport], tmp_path: Path) -> None:
    """The file template loads only after every issue is rendered (after every fetch, in an export): replacing
    the directory by then must not put other code in front of Jinja2."""
    expected = render(reports)  # compiled, and saved to the cache
    templates, options = TemplateSet(TEXT), RenderOptions(limits=Settings().limits)
    parts = [IssuePart(IssueSummary.of(report), templates.render_issue(report, options).__str__) for report in reports]
    directory = cache_directory()
    moved = directory.rename(directory.with_name(directory.name + "-moved"))
    shutil.copytree(moved, directory)
    plant(directory, marker := tmp_path / "marker")
    chunks: list[str] = []
    templates.write_document(parts, options, chunks.append)
    assert "".join(chunks) == expected
    assert not marker.exists()


@POSIX_ONLY
@pytest.mark.parametrize("kind", ["symbolic link", "group-writable", "world-writable", "someone else's"])
def test_a_cache_file_that_is_not_privately_ours_is_not_loaded(kind: str, tmp_path: Path) -> None:
    env, marker = {"XDG_CACHE_HOME": str(tmp_path / "cache")}, tmp_path / "marker"
    assert greeting_environment(env).get_template("greeting.j2").render(name="world") == "Hello world!"
    directory = cache_directory(env)
    plant(directory, marker)
    [cached] = directory.glob("*.cache")
    if kind == "symbolic link":
        cached.symlink_to(cached.rename(tmp_path / "planted.cache"))  # a private file of ours, through a link
    elif kind == "group-writable":
        cached.chmod(0o620)
    elif kind == "world-writable":
        cached.chmod(0o602)
    elif os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    else:
        os.chown(cached, SOMEONE_ELSE, SOMEONE_ELSE)
    assert greeting_environment(env).get_template("greeting.j2").render(name="world") == "Hello world!"
    assert not marker.exists()


@POSIX_ONLY
def test_a_directory_of_someone_else_is_not_used(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a directory to another user")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert bytecode_cache(env) is not None
    os.chown(cache_directory(env).parent, SOMEONE_ELSE, SOMEONE_ELSE)
    assert bytecode_cache(env) is None


@POSIX_ONLY
def test_a_cache_root_that_is_a_link_to_a_private_directory_is_used(tmp_path: Path) -> None:
    """``~/.cache`` kept on another disk: the link is the user's own choice, and what it leads to is checked."""
    real = tmp_path / "disk" / "cache"
    real.mkdir(parents=True, mode=0o700)
    (tmp_path / ".cache").symlink_to(real, target_is_directory=True)
    first = render_in_a_new_process(tmp_path)
    assert first.returncode == 0, first.stderr
    cached = sorted(real.glob("export-sentry-issue/templates-*/*.cache"))
    assert cached
    stamps = {path: path.stat().st_mtime_ns for path in cached}
    second = render_in_a_new_process(tmp_path)
    assert second.stdout == first.stdout
    assert {path: path.stat().st_mtime_ns for path in cached} == stamps  # read, not rewritten


def test_without_dir_fd_there_is_no_bytecode_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows: no way to check the directory chain by descriptor, so templates are compiled in memory."""
    monkeypatch.setattr(os, "supports_dir_fd", set())
    assert bytecode_cache({"XDG_CACHE_HOME": str(tmp_path)}) is None
