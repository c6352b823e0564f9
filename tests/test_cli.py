"""The command-line front end: exit codes, output targets, wording."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sentry_issue_export.cli import main


def test_demo_writes_a_report_and_says_where(tmp_path: Path, capsys):
    assert main(["--demo", "--output-dir", str(tmp_path)]) == 0
    [report] = list(tmp_path.iterdir())
    err = capsys.readouterr().err
    assert str(report) in err and "Exported" in err


def test_output_dash_prints_the_report_and_writes_no_file(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["--demo", "csp_report", "--format", "markdown", "--output", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#") and "csp" in out.lower()
    assert list(tmp_path.iterdir()) == []


def test_output_file_path_is_honoured(tmp_path: Path):
    target = tmp_path / "reports" / "mine.json"
    assert main(["--demo", "csp_report", "--format", "json", "--output", str(target)]) == 0
    assert target.exists() and target.read_text().lstrip().startswith("{")


def test_some_failed_exits_1_and_names_each_failure(tmp_path: Path, capsys):
    code = main(["--demo", "csp_report", "424242", "--output-dir", str(tmp_path)])
    assert code == 1
    assert "failed: 424242:" in capsys.readouterr().err


def test_unknown_format_is_a_usage_error(tmp_path: Path, capsys):
    assert main(["--demo", "--format", "nope", "--output-dir", str(tmp_path)]) == 2
    assert "No renderer named 'nope'" in capsys.readouterr().err


def test_no_reference_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "reference" in capsys.readouterr().err


def test_bad_argument_exits_2():
    with pytest.raises(SystemExit) as exc:
        main(["--concurrency", "many"])
    assert exc.value.code == 2


def test_list_formats_names_the_builtins(capsys):
    assert main(["--list-formats"]) == 0
    out = capsys.readouterr().out
    for name in ("text", "markdown", "json"):
        assert name in out


def test_config_revoke_without_a_file_reminds_to_revoke_in_sentry(capsys):
    assert main(["config", "revoke"]) == 0
    out = capsys.readouterr().out
    assert "no saved config" in out and "Auth Tokens" in out


def test_help_does_not_import_the_mcp_stack():
    code = (
        "import sys, contextlib, io\n"
        "from sentry_issue_export.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fastmcp', 'mcp', 'starlette', 'uvicorn'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
