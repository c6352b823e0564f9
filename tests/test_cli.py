"""The command-line front end: exit codes, output targets, wording."""

from __future__ import annotations

import json
import os
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


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf"])
def test_a_timeout_that_is_no_deadline_is_a_usage_error(value: str, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--demo", "--timeout", value])
    assert exc.value.code == 2
    assert "argument --timeout: must be" in capsys.readouterr().err


def test_an_export_without_a_token_is_a_configuration_error(tmp_path: Path, capsys, monkeypatch):
    for name in ("SENTRY_AUTH_TOKEN", "SENTRY_TOKEN", "EXPORT_SENTRY_ISSUE_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["12345", "PROJ-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("No token is configured") == 1 and "config init" in err and "--demo" in err


def test_config_init_with_standard_input_closed_says_no_token_was_given(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("SENTRY_AUTH_TOKEN", "SENTRY_TOKEN")}
    done = subprocess.run(
        [sys.executable, "-m", "sentry_issue_export.cli", "config", "init", "--base-url", "https://sentry.example.com"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**env, "XDG_CONFIG_HOME": str(tmp_path)},
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "No token given" in done.stderr and "Traceback" not in done.stderr


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


# --- online, against the fake Sentry over a socket ---------------------------------------------------------------


@pytest.fixture
def fake_sentry():
    from tests.fake_sentry import FakeSentry

    with FakeSentry() as fake:
        yield fake


def test_online_export_from_the_environment(fake_sentry, tmp_path: Path, monkeypatch, capsys):
    from tests.fake_sentry import ORG, TOKEN

    first, second = fake_sentry.add_synthetic_issues(2)
    monkeypatch.setenv("SENTRY_URL", fake_sentry.url)
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("SENTRY_ORG", ORG)
    foreign = "https://sentry.other.example/organizations/acme/issues/5/"
    pasted = f"{fake_sentry.url}/organizations/{ORG}/issues/{second}/"

    code = main([first, pasted, foreign, "--output-dir", str(tmp_path)])

    captured = capsys.readouterr()
    assert code == 1
    [report] = list(tmp_path.iterdir())
    assert report.name.startswith("sentry_issues_")
    text = report.read_text()
    assert first in text and second in text
    [failure_line] = [line for line in captured.err.splitlines() if line.startswith("failed:")]
    assert "sentry.other.example" in failure_line and "127.0.0.1" in failure_line
    assert {r.authorization for r in fake_sentry.requests} == {f"Bearer {TOKEN}"}
    assert TOKEN not in captured.out + captured.err + text


def test_config_init_then_export_with_the_saved_config(fake_sentry, tmp_path: Path, monkeypatch, capsys):
    import io

    from tests.fake_sentry import ORG, TOKEN

    [issue_id] = fake_sentry.add_synthetic_issues(1)
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    base_url = f"{fake_sentry.url}/organizations/{ORG}/"
    assert main(["config", "init", "--base-url", base_url, "--token-stdin"]) == 0
    assert main(["config", "show"]) == 0
    shown = capsys.readouterr().out
    assert TOKEN not in shown and TOKEN[:8] in shown

    assert main([issue_id, "--output-dir", str(tmp_path)]) == 0
    [report] = list(tmp_path.iterdir())
    assert report.name.startswith(f"sentry_issue_{issue_id}_")


def test_config_init_with_a_rejected_token_saves_nothing(fake_sentry, monkeypatch, capsys):
    import io

    from sentry_issue_export.config import config_path

    monkeypatch.setattr("sys.stdin", io.StringIO("sntryu_" + "0" * 64 + "\n"))
    code = main(["config", "init", "--base-url", f"{fake_sentry.url}/organizations/acme/", "--token-stdin"])
    assert code == 2
    err = capsys.readouterr().err
    assert "401" in err and "nothing was saved" in err
    assert not config_path().exists()


def test_caps_from_the_command_line_reach_the_report(tmp_path: Path, capsys):
    assert main(["--demo", "huge_event", "--max-frames", "3", "--max-breadcrumbs", "2", "--output", "-"]) == 0
    out = capsys.readouterr().out
    assert "frames omitted (max_frames=3)" in out
    assert "998 older breadcrumbs not shown (max_breadcrumbs=2)" in out


def test_caps_must_be_positive(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--demo", "--max-frames", "0"])
    assert exc.value.code == 2
    assert "too small" in capsys.readouterr().err


def _run_with_stderr(stderr_is_terminal: bool, tmp_path: Path) -> str:
    """Run the CLI on the samples with stderr on a terminal (a pty) or a pipe; return what stderr received."""
    import os
    import pty

    command = [sys.executable, "-m", "sentry_issue_export.cli", "--demo", "--output-dir", str(tmp_path)]
    if not stderr_is_terminal:
        return subprocess.run(command, capture_output=True, text=True, check=True).stderr
    leader, follower = pty.openpty()
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=follower) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed when the process ended
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=30) == 0
    os.close(leader)
    return b"".join(chunks).decode()


def test_progress_bar_only_on_a_terminal(tmp_path: Path):
    on_terminal = _run_with_stderr(True, tmp_path / "tty")
    assert "\r[" in on_terminal and "7/7" in on_terminal
    piped = _run_with_stderr(False, tmp_path / "pipe")
    assert "\r" not in piped and "[#" not in piped
    assert "Exported 7 issue(s)" in piped


def test_templates_directory_overrides_one_block(tmp_path: Path, capsys):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "issue.txt.j2").write_text(
        '{% extends "default:issue.txt.j2" %}\n'
        "{% block breadcrumbs %}(breadcrumbs left out on purpose)\n{% endblock %}\n"
    )
    args = ["--demo", "python_chained_exception", "--output", "-"]
    assert main([*args, "--templates", str(templates)]) == 0
    custom = capsys.readouterr().out
    assert main(args) == 0
    default = capsys.readouterr().out
    assert "BREADCRUMBS" in default and "BREADCRUMBS" not in custom
    assert "(breadcrumbs left out on purpose)" in custom
    assert "REQUEST" in custom and "STACK TRACE" in custom


def test_source_selects_where_issues_come_from(tmp_path: Path, capsys):
    assert main(["--source", "samples", "csp_report", "--output", "-"]) == 0
    assert "WEB-APP-7H" in capsys.readouterr().out
    assert main(["--source", "nope", "1", "--output-dir", str(tmp_path)]) == 2
    assert "No source named 'nope'. Available sources: bugsink, file, samples, sentry." in capsys.readouterr().err


def test_list_sources_and_version(capsys):
    from sentry_issue_export import __version__

    assert main(["--list-sources"]) == 0
    out = capsys.readouterr().out
    assert "samples " in out and "(offline)" in out and "sentry " in out
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out == f"export-sentry-issue {__version__}\n"
    assert __version__ not in {"0.1.0", "0+unknown"}


def test_a_long_failure_list_is_counted_on_screen_and_kept_in_a_file(tmp_path: Path, capsys):
    ids = [str(424200 + n) for n in range(25)]
    assert main(["--demo", *ids, "--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("failed: 4242") == 20 and "failed: … and 5 more; all are listed in " in err
    [listing] = list(tmp_path.iterdir())
    assert f"No issue could be exported; the failures are listed in {listing}" in err
    assert all(f"{issue_id}: No bundled sample matches" in listing.read_text() for issue_id in ids)


RUN_WITH_EXIT_HANDLER = """
import atexit, sys, threading, time
import sentry_issue_export.cli as cli

def plugin_work():
    time.sleep(0.2)
    print("plugin thread finished", file=sys.stderr)

real_main = cli.main
def main_with_a_plugin():
    # What a plugin may do once it is loaded during the command: an exit handler, a thread still working
    # when main returns.
    atexit.register(lambda: print("exit handler ran", file=sys.stderr))
    threading.Thread(target=plugin_work).start()
    return real_main()

cli.main = main_with_a_plugin
sys.argv[0] = "export-sentry-issue"
cli.run()
"""


def test_the_console_command_exits_quickly_with_every_byte_written_and_its_exit_code(tmp_path: Path) -> None:
    """``run`` skips the interpreter's teardown: the report on stdout still arrives whole, a plugin's thread
    finishes its work, exit handlers run, and the exit code is main's."""
    env = {**os.environ, "EXPORT_SENTRY_ISSUE_OUTPUT_DIR": str(tmp_path)}
    command = [sys.executable, "-c", RUN_WITH_EXIT_HANDLER, "--demo", "--format", "json", "--output", "-"]
    done = subprocess.run(command, capture_output=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "exit handler ran" in done.stderr.decode()
    assert "plugin thread finished" in done.stderr.decode()
    printed = json.loads(done.stdout)  # the whole document, or this fails
    assert len(printed["reports"]) > 1

    failing = subprocess.run([*command[:3], "--demo", "no-such-sample-42"], capture_output=True, env=env, cwd=tmp_path)
    assert failing.returncode == 1
    assert b"no-such-sample-42" in failing.stderr
    assert main(["--demo", "--output-dir", str(tmp_path)]) == 0  # main itself still returns
