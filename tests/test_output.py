"""Report files: names, no-clobber atomic writes, refused paths, and the cleanup of abandoned temporary files."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from sentry_issue_export import output
from sentry_issue_export.errors import OutputError
from sentry_issue_export.output import default_report_name, resolve_output_path, write_new_file

NOW = datetime(2026, 11, 25, 9, 8, 7)


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["123"], "sentry_issue_123_20261125_090807.txt"),
        (["PROJ-1A"], "sentry_issue_PROJ-1A_20261125_090807.txt"),
        (["../../etc/passwd"], "sentry_issue_etc_passwd_20261125_090807.txt"),
        (["1", "2"], "sentry_issues_20261125_090807.txt"),
    ],
)
def test_default_names(ids, expected):
    assert default_report_name(ids, "txt", NOW) == expected


def test_write_never_overwrites_and_numbers_the_next_name(tmp_path: Path):
    first = write_new_file(tmp_path / "report.txt", "one")
    second = write_new_file(tmp_path / "report.txt", "two")
    third = write_new_file(tmp_path / "report.txt", "three")
    assert [p.name for p in (first, second, third)] == ["report.txt", "report_2.txt", "report_3.txt"]
    assert [p.read_text() for p in (first, second, third)] == ["one", "two", "three"]
    assert sorted(os.listdir(tmp_path)) == ["report.txt", "report_2.txt", "report_3.txt"]


def test_write_creates_the_directory_and_leaves_no_temporary_files(tmp_path: Path):
    target = tmp_path / "a" / "b" / "r.json"
    write_new_file(target, "é" * 100_000)
    assert target.read_text(encoding="utf-8") == "é" * 100_000
    assert os.listdir(target.parent) == ["r.json"]


def test_write_into_a_file_that_is_not_a_directory_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="output directory"):
        write_new_file(blocker / "r.txt", "x")


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/passwd", "sub/r.txt", "..", ".", "a\x00b"])
def test_output_file_must_stay_inside_the_directory(tmp_path: Path, name: str):
    with pytest.raises(OutputError):
        resolve_output_path(tmp_path, name, "default.txt")


def test_symlinked_output_file_is_refused(tmp_path: Path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "link.txt").symlink_to(outside)
    with pytest.raises(OutputError, match="symbolic link"):
        resolve_output_path(out, "link.txt", "default.txt")
    assert outside.read_text() == "keep me"


def test_plain_names_and_defaults_resolve_inside(tmp_path: Path):
    assert resolve_output_path(tmp_path, None, "d.txt") == tmp_path / "d.txt"
    assert resolve_output_path(tmp_path, "mine.md", "d.txt") == tmp_path / "mine.md"


# --- names that are refused, and why ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("..\\x", "backslash"),  # legal on POSIX, but a path out of the directory on Windows: refused everywhere
        ("reports\\r.txt", "backslash"),
        ("r\n.txt", "control character"),
        ("r\x1b[2Jx.txt", "control character"),  # a terminal escape would garble a listing of the directory
        ("r\x7f.txt", "control character"),
        ("r\x85.txt", "control character"),
        ("a" * 252 + ".txt", "256 bytes long"),
        ("é" * 126 + ".txt", "256 bytes long"),  # 130 characters, but bytes are what the file system counts
        (".r.txt.4242@0123abcd.89abcdef.tmp", "temporary files"),
    ],
)
def test_unusable_names_are_refused_with_the_reason(tmp_path: Path, name: str, reason: str):
    with pytest.raises(OutputError, match=reason) as caught:
        resolve_output_path(tmp_path, name, "default.txt")
    assert repr(name) in str(caught.value) and "plain file name" in str(caught.value)


def test_a_name_of_exactly_255_bytes_is_fine_and_its_numbered_copies_still_fit(tmp_path: Path):
    name = "a" * 251 + ".txt"
    first = write_new_file(resolve_output_path(tmp_path, name, "d.txt"), "one")
    second = write_new_file(first, "two")
    assert first.name == name
    assert second.name.endswith("_2.txt") and len(second.name.encode()) == 255
    assert (first.read_text(), second.read_text()) == ("one", "two")


def test_a_too_long_name_given_straight_to_the_writer_is_an_output_error(tmp_path: Path):
    with pytest.raises(OutputError, match=r"too long \(at most 255 bytes\)"):
        write_new_file(tmp_path / ("x" * 300), "content")
    assert list(tmp_path.iterdir()) == []


def test_a_symlink_planted_after_the_name_was_checked_is_not_followed(tmp_path: Path):
    """The check in ``resolve_output_path`` races with other processes; the write itself never follows a link."""
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    target = resolve_output_path(out, "r.txt", "d.txt")
    target.symlink_to(outside)
    written = write_new_file(target, "report")
    assert written == out / "r_2.txt" and written.read_text() == "report"
    assert outside.read_text() == "keep me"


def test_a_dangling_symlink_is_not_followed_either(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.txt").symlink_to(tmp_path / "would_be_created_outside.txt")
    assert write_new_file(out / "r.txt", "report") == out / "r_2.txt"
    assert not (tmp_path / "would_be_created_outside.txt").exists()


def test_a_symlinked_output_directory_is_the_users_choice_and_is_followed(tmp_path: Path):
    real = tmp_path / "real_reports"
    real.mkdir()
    (tmp_path / "reports").symlink_to(real, target_is_directory=True)
    path = write_new_file(resolve_output_path(tmp_path / "reports", "r.txt", "d.txt"), "report")
    assert (real / "r.txt").read_text() == "report" and path == tmp_path / "reports" / "r.txt"


# --- how the content gets its name ------------------------------------------------------------------------------


def test_a_write_that_fails_half_way_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def disk_full_after_a_few_bytes(fd: int, data: bytes) -> None:
        os.write(fd, data[:10])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output, "_write_block", disk_full_after_a_few_bytes)
    with pytest.raises(OutputError, match="No space left"):
        write_new_file(tmp_path / "r.txt", "x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_when_the_kernel_refuses_to_link_an_unnamed_file_a_hidden_one_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real_link = os.link

    def link_refusing_proc_fd(src: str, dst: object, **kwargs: object) -> None:
        if str(src).startswith("/proc/self/fd/"):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), src, None, str(dst))
        real_link(src, dst, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(output, "_anonymous_files_work", True)
    monkeypatch.setattr(output.os, "link", link_refusing_proc_fd)
    assert write_new_file(tmp_path / "r.txt", "one").read_text() == "one"
    assert write_new_file(tmp_path / "r.txt", "two").read_text() == "two"
    assert sorted(os.listdir(tmp_path)) == ["r.txt", "r_2.txt"]


def document_in_pieces(write) -> None:
    """Content written the way a streaming export writes it: many small pieces, text and bytes."""
    for number in range(20_000):
        write(f"line {number} é\n")
    write(b"the end\n")


EXPECTED_DOCUMENT = "".join(f"line {number} é\n" for number in range(20_000)) + "the end\n"


@pytest.mark.parametrize("try_unnamed_file", [True, False])
def test_content_written_in_pieces_arrives_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, try_unnamed_file):
    # Where the kernel refuses to link an unnamed file, the pieces already written to it are copied to a named
    # temporary file: the content function runs once either way.
    monkeypatch.setattr(output, "_anonymous_files_work", try_unnamed_file)
    calls = []

    def once(write) -> None:
        calls.append(1)
        document_in_pieces(write)

    path = write_new_file(tmp_path / "r.txt", once)
    assert path.read_text(encoding="utf-8") == EXPECTED_DOCUMENT and calls == [1]
    assert os.listdir(tmp_path) == ["r.txt"]


@pytest.mark.parametrize("try_unnamed_file", [True, False])
def test_content_that_fails_half_way_leaves_nothing_and_raises_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, try_unnamed_file
):
    monkeypatch.setattr(output, "_anonymous_files_work", try_unnamed_file)

    def fails(write) -> None:
        write("x" * (output.WRITE_BLOCK * 3))  # some of it reaches the disk before the failure
        raise ValueError("the renderer broke")

    with pytest.raises(ValueError, match="the renderer broke"):
        write_new_file(tmp_path / "r.txt", fails)
    assert list(tmp_path.iterdir()) == []


def kernel_links_unnamed_files(directory: Path) -> bool:
    if not hasattr(os, "O_TMPFILE") or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        fd = os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600)
    except OSError:
        return False
    try:
        os.link(f"/proc/self/fd/{fd}", directory / "probe", follow_symlinks=True)
    except OSError:
        return False
    finally:
        os.close(fd)
    os.unlink(directory / "probe")
    return True


def test_where_thekernel_links_unnamed_files_no_named_temporary_file_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    if not kernel_links_unnamed_files(tmp_path):
        pytest.skip("this kernel or file system cannot link an O_TMPFILE file through /proc/self/fd")
    monkeypatch.setattr(output, "_anonymous_files_work", True)

    def no_named_temporary_file(*args: object) -> None:
        raise AssertionError("a named temporary file was made although O_TMPFILE works")

    monkeypatch.setattr(output, "_named_temp_file", no_named_temporary_file)
    assert write_new_file(tmp_path / "r.txt", "report").read_text() == "report"


# --- temporary files that killed writers left -------------------------------------------------------------------


def temp_name(pid: int, host: str | None = None, label: str = "r.txt") -> str:
    """A name of the form the writer gives its temporary files (``.{label}.{pid}@{host}.{random}.tmp``)."""
    return f".{label}.{pid}@{host or output._host_tag()}.{os.urandom(4).hex()}.tmp"


def finished_process_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.fixture
def live_pid() -> Iterator[int]:
    """A process of ours that is running for the whole test."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    yield process.pid
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=10)


def make_file(path: Path, *, idle_seconds: float = 0) -> Path:
    path.write_bytes(b"partial")
    if idle_seconds:
        stamp = time.time() - idle_seconds
        os.utime(path, (stamp, stamp))
    return path


def test_a_dead_writers_temporary_file_is_removed_by_the_next_write(tmp_path: Path):
    leftover = make_file(tmp_path / temp_name(finished_process_pid()))
    write_new_file(tmp_path / "r.txt", "report")
    assert not leftover.exists()
    assert os.listdir(tmp_path) == ["r.txt"]


def test_a_live_writers_temporary_file_is_kept(tmp_path: Path, live_pid: int):
    other_process = make_file(tmp_path / temp_name(live_pid))
    this_process = make_file(tmp_path / temp_name(os.getpid()))
    assert output.remove_abandoned_temp_files(tmp_path) == []
    write_new_file(tmp_path / "r.txt", "report")
    assert other_process.exists() and this_process.exists()


def test_a_temporary_file_from_another_host_is_kept_until_it_is_old(tmp_path: Path):
    other_host = "0" * 8 if output._host_tag() != "0" * 8 else "1" * 8
    dead = finished_process_pid()  # dead here, but on another host that pid may well be writing
    recent = make_file(tmp_path / temp_name(dead, other_host), idle_seconds=60)
    old = make_file(tmp_path / temp_name(dead, other_host), idle_seconds=output.ABANDONED_AFTER_SECONDS + 60)
    assert output.remove_abandoned_temp_files(tmp_path) == [old]
    assert recent.exists()


def test_any_temporary_file_untouched_for_an_hour_is_removed(tmp_path: Path, live_pid: int):
    stale = make_file(tmp_path / temp_name(live_pid), idle_seconds=output.ABANDONED_AFTER_SECONDS + 60)
    assert output.remove_abandoned_temp_files(tmp_path) == [stale]


def test_only_the_writers_own_temporary_names_are_touched(tmp_path: Path):
    dead = finished_process_pid()
    hour = output.ABANDONED_AFTER_SECONDS + 60
    others = [
        make_file(tmp_path / f".r.txt.{dead}.0a1b2c3d.tmp", idle_seconds=hour),  # another tool's pattern
        make_file(tmp_path / f".config.json.{dead}.0a1b2c3d4e5f.tmp", idle_seconds=hour),
        make_file(tmp_path / "notes.tmp", idle_seconds=hour),
        make_file(tmp_path / temp_name(dead)[1:], idle_seconds=hour),  # not hidden: a user's own file
        make_file(tmp_path / (temp_name(dead) + ".bak"), idle_seconds=hour),
    ]
    (tmp_path / temp_name(dead)).mkdir()  # a directory is never ours
    (tmp_path / temp_name(dead)).symlink_to(others[0])
    write_new_file(tmp_path / "r.txt", "report")
    assert all(path.exists() for path in others)
    assert len(os.listdir(tmp_path)) == len(others) + 3


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("report\u202etxt.exe", "invisible character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("a\u200bb.txt", "invisible character U+200B"),
        ("CON", "device name on Windows"),
        ("NUL.txt", "device name on Windows"),
        ("com1.log", "device name on Windows"),
        ("report.txt.", "ends in a space or a dot"),
    ],
)
def test_names_that_lie_or_break_on_windows_are_refused(tmp_path: Path, name: str, reason: str) -> None:
    from sentry_issue_export.errors import OutputError
    from sentry_issue_export.output import resolve_output_path

    with pytest.raises(OutputError) as caught:
        resolve_output_path(tmp_path, name, "default.txt")
    assert reason in str(caught.value) and "\u202e" not in str(caught.value)
    assert resolve_output_path(tmp_path, "conference.txt", "x") == tmp_path / "conference.txt"
