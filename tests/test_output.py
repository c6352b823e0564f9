"""Report files: names, no-clobber atomic writes, refused paths."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

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
