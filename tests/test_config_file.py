"""config_file.py: where the file lives, private atomic writes, permission warnings, corrupt files, revoke."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sentry_issue_export.config import resolve_settings, show_config
from sentry_issue_export.config.file import SavedConfig, config_path, load_saved, revoke_config, save_config
from sentry_issue_export.errors import ConfigError
from tests.config_helpers import USER_TOKEN, mode_of, saved


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


# --- config_path ----------------------------------------------------------------------------------------------


def test_config_path_follows_xdg_config_home(tmp_path: Path) -> None:
    xdg = tmp_path / "elsewhere"
    assert config_path({"XDG_CONFIG_HOME": str(xdg)}) == xdg / "export-sentry-issue" / "config.json"


@pytest.mark.parametrize("xdg", ["", "relative/dir"], ids=["unset", "relative-is-ignored"])
def test_config_path_falls_back_to_home_config(tmp_path: Path, xdg: str) -> None:
    env = {"XDG_CONFIG_HOME": xdg, "HOME": str(tmp_path)}
    assert config_path(env) == tmp_path / ".config" / "export-sentry-issue" / "config.json"


def test_config_path_defaults_to_the_process_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_path() == tmp_path / "export-sentry-issue" / "config.json"


# --- the saved file -------------------------------------------------------------------------------------------


def test_load_returns_none_without_a_file(path: Path) -> None:
    assert load_saved(path) is None


def test_round_trip_keeps_every_field_and_hides_the_token(path: Path) -> None:
    original = SavedConfig(
        base_url="https://example.com/sentry",
        org="acme",
        project="web",
        token=USER_TOKEN,
        output_dir="~/reports",
        format="markdown",
        templates_dir="/templates",
    )
    save_config(original, path)
    loaded = load_saved(path)
    assert loaded == original
    assert loaded is not None and loaded.warnings == ()
    assert USER_TOKEN not in repr(loaded)
    assert USER_TOKEN not in repr(resolve_settings(env={}, path=path))
    assert json.loads(path.read_text())["token"] == USER_TOKEN


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o077])
def test_directory_is_700_and_file_600_right_after_creation(path: Path, mask: int) -> None:
    with umask(mask):
        save_config(saved(), path)
    assert mode_of(path.parent) == 0o700
    assert mode_of(path) == 0o600


def test_temporary_file_is_private_and_complete_before_the_rename(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace, seen = os.replace, []

    def inspecting_replace(source: Any, target: Any) -> None:
        source = Path(source)
        seen.append((source.parent, mode_of(source), json.loads(source.read_text())["token"], Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", inspecting_replace)
    with umask(0):
        save_config(saved(token=USER_TOKEN), path)
    assert seen == [(path.parent, 0o600, USER_TOKEN, path)]


def test_saves_leave_no_temporary_files(path: Path) -> None:
    for number in range(5):
        save_config(saved(org=f"org{number}"), path)
    assert os.listdir(path.parent) == ["config.json"]


def test_failure_before_the_rename_keeps_the_old_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_config(saved(org="old"), path)

    def failing_replace(source: Any, target: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ConfigError, match="No space left on device") as caught:
        save_config(saved(org="new", token=USER_TOKEN), path)
    assert str(path) in str(caught.value)
    assert USER_TOKEN not in str(caught.value)
    monkeypatch.undo()
    loaded = load_saved(path)
    assert loaded is not None and loaded.org == "old"
    assert os.listdir(path.parent) == ["config.json"]


def _save_repeatedly(target: str, writer: int, count: int, start: Any) -> None:
    """Runs in a child process: save and read back; any torn or unreadable file fails the process."""
    path = Path(target)
    start.wait(timeout=30)
    for number in range(count):
        save_config(saved(org=f"writer{writer}", project=f"p{number}", token="sntryu_" + str(writer) * 64), path)
        loaded = load_saved(path)
        assert loaded is not None and loaded.org in ("writer1", "writer2")
        assert loaded.token == "sntryu_" + loaded.org[-1] * 64


def test_concurrent_saves_from_two_processes_never_corrupt_the_file(path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    writers = [context.Process(target=_save_repeatedly, args=(str(path), n, 50, start)) for n in (1, 2)]
    for writer in writers:
        writer.start()
    start.set()
    while any(writer.is_alive() for writer in writers):
        load_saved(path)  # a torn file would raise ConfigError here
    for writer in writers:
        writer.join(timeout=60)
    assert [writer.exitcode for writer in writers] == [0, 0]
    final = load_saved(path)
    assert final is not None and final.project == "p49" and final.org in ("writer1", "writer2")
    assert os.listdir(path.parent) == ["config.json"]
    assert mode_of(path) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_loose_permissions_are_reported_then_fixed_by_the_next_save(path: Path, env: dict[str, str]) -> None:
    save_config(saved(token=USER_TOKEN), path)
    os.chmod(path, 0o644)
    os.chmod(path.parent, 0o755)
    loaded = load_saved(path)
    assert loaded is not None
    assert any(str(path) in warning and "644" in warning and "600" in warning for warning in loaded.warnings)
    assert any(str(path.parent) in warning and "755" in warning for warning in loaded.warnings)
    assert show_config(env=env)["warnings"] == list(loaded.warnings)
    assert mode_of(path) == 0o644  # loading never changes the file

    save_config(loaded, path)
    assert (mode_of(path), mode_of(path.parent)) == (0o600, 0o700)
    reloaded = load_saved(path)
    assert reloaded is not None and reloaded.warnings == ()


def test_a_shared_parent_directory_is_left_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    save_config(saved(), shared / "sentry.json")
    assert mode_of(shared) == 0o777
    assert mode_of(shared / "sentry.json") == 0o600


CORRUPT_FILES = [
    (b"{not json", "not valid JSON"),
    (b"", "not valid JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"[1, 2]", "JSON list, not an object"),
    (b'"sntryu_x"', "JSON str, not an object"),
    (b'{"base_url": "https://sentry.io"}', "token is missing"),
    (b'{"base_url": "", "token": "t"}', "base_url is missing"),
    (b'{"base_url": "https://sentry.io", "token": 42}', "token should be a string, not int"),
    (b'{"base_url": "https://sentry.io", "token": "t", "org": ["a"]}', "org should be a string, not list"),
    (b'{"base_url": "ftp://sentry.io", "token": "t"}', "base_url is not usable"),
]


@pytest.mark.parametrize(("content", "reason"), CORRUPT_FILES, ids=[row[1] for row in CORRUPT_FILES])
def test_a_corrupt_file_is_named_with_how_to_fix_it(
    path: Path, env: dict[str, str], content: bytes, reason: str
) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    for read in (lambda: load_saved(path), lambda: resolve_settings(env=env), lambda: show_config(env=env)):
        with pytest.raises(ConfigError) as caught:
            read()
        message = str(caught.value)
        assert str(path) in message
        assert reason in message
        assert "export-sentry-issue config init" in message and "delete it" in message


def test_a_directory_in_place_of_the_file_is_reported(path: Path) -> None:
    path.mkdir(parents=True)
    with pytest.raises(ConfigError, match="it is a directory, not a regular file") as caught:
        load_saved(path)
    assert str(path) in str(caught.value)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_reported(path: Path) -> None:
    save_config(saved(), path)
    os.chmod(path, 0o000)
    with pytest.raises(ConfigError, match="Permission denied") as caught:
        load_saved(path)
    assert f"chmod 600 {path}" in str(caught.value)


def test_revoke_deletes_the_file_and_leftover_temporary_files(path: Path) -> None:
    assert revoke_config(path) is False
    save_config(saved(), path)
    finished = subprocess.Popen(["true"])
    finished.wait()
    leftover = path.with_name(f".config.json.{finished.pid}.abcdef.tmp")  # its writer is gone
    leftover.write_text('{"token": "left by a crash"}')
    unrelated = path.with_name("notes.txt")
    unrelated.write_text("keep me")
    assert revoke_config(path) is True
    assert sorted(os.listdir(path.parent)) == ["notes.txt"]
    assert revoke_config(path) is False


# the temporary config file must be created 0600, not created loose and tightened afterwards.
def test_config_temporary_file_is_created_with_mode_600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open, created_modes = os.open, []

    def recording_open(path, flags, mode=0o777, *args, **kwargs):  # type: ignore[no-untyped-def]
        if flags & os.O_CREAT:
            created_modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", recording_open)
    config = SavedConfig(base_url="https://sentry.io", org="acme", token=PRIVATE_TOKEN)
    save_config(config, tmp_path / "cfg" / "config.json")
    assert created_modes == [0o600]


# without the later fchmod the file must still end up 0600.
def test_config_is_600_even_without_fchmod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fchmod", lambda fd, mode: None)
    previous = os.umask(0)
    try:
        config = SavedConfig(base_url="https://sentry.io", org="acme", token=PRIVATE_TOKEN)
        path = save_config(config, tmp_path / "c.json")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


PRIVATE_TOKEN = "sntryu_" + "a1" * 32


# --- broken configs of every kind: a clear error at once, and revoke removes them ---------------------------


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _zero_link(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _directory(path: Path) -> None:
    path.mkdir()


def _deep_json(path: Path) -> None:
    path.write_text("[" * 30_000 + "]" * 30_000)  # within the size limit, past any parser's depth


def _huge(path: Path) -> None:
    path.write_text(json.dumps({"base_url": "https://sentry.io", "token": "x" * 100_000}))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_fifo, "it is a named pipe, not a regular file"),
        (_zero_link, "it is a device, not a regular file"),
        (_directory, "it is a directory, not a regular file"),
        (_deep_json, "its JSON nests too deeply to be a config"),
        (_huge, "and a config is at most 65,536"),
    ],
    ids=["named-pipe", "link-to-dev-zero", "directory", "deep-json", "huge"],
)
def test_a_config_that_is_no_file_is_refused_at_once_and_revoke_removes_it(path: Path, make, reason: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    make(path)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            load_saved(path)
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading the config hung"
    [error] = outcome
    assert isinstance(error, ConfigError) and reason in str(error)
    assert revoke_config(path) is True
    assert not path.exists() and not path.is_symlink()
    assert Path("/dev/zero").exists()  # a link is removed, never what it points to


def test_a_directory_with_files_in_place_of_the_config_is_left_alone_with_a_sentence(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "mine.txt").write_text("keep")
    with pytest.raises(ConfigError, match="is a directory with files in it"):
        revoke_config(path)
    assert (path / "mine.txt").read_text() == "keep"


def test_missing_parents_are_created_private_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "fresh-home" / ".config" / "export-sentry-issue" / "config.json"
    old = os.umask(0)
    try:
        save_config(SavedConfig(base_url="https://sentry.io", token="t" * 20), target)
    finally:
        os.umask(old)
    for directory in (target.parent, target.parent.parent, target.parent.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
