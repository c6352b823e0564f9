"""The export command as a child process: in an environment of its own, and with its own peak RSS.

Linux counts into a child's ``ru_maxrss`` the memory image it had before ``exec``, which is its parent's, so a
command spawned straight from a large process (pytest late in a run, a fake server holding 10,000 issues)
reports the parent's size, not its own, and a rise in the command's memory can hide below it. A launcher
started with ``-S`` is a few megabytes, far below any export, so the figure it reports is the command's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from tests.fake_sentry import FakeSentry

REPO_ROOT = str(Path(__file__).resolve().parent.parent)


def command_environment(home: str | Path, fake: FakeSentry | None = None, *, root: str = REPO_ROOT) -> dict[str, str]:
    """This process's environment for a command run as a user would: its own home, config and cache under
    ``home``, the checkout at ``root`` first on the path, no Sentry or export setting inherited, byte-code
    written as once installed; and, given a fake Sentry, its address, organisation and token."""
    from tests.fake_sentry import TOKEN

    skipped = ("SENTRY_", "EXPORT_SENTRY_ISSUE_", "PYTHONDONTWRITEBYTECODE")
    env = {key: value for key, value in os.environ.items() if not key.startswith(skipped)}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=os.path.join(home, ".config"),
        XDG_CACHE_HOME=os.path.join(home, ".cache"),
        PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    )
    if fake is not None:
        env.update(SENTRY_URL=fake.url, SENTRY_AUTH_TOKEN=TOKEN, SENTRY_ORG=fake.org)
    return env


_LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - started
os.write(int(sys.argv[1]), f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} {seconds}".encode())
"""

KIB_PER_RU_MAXRSS = 1 if sys.platform != "darwin" else 1 / 1024  # KiB on Linux, bytes on macOS


@attrs.frozen
class Finished:
    returncode: int
    peak_mb: float
    seconds: float
    """From spawn to exit, timed by the launcher, so its own start is not counted."""
    stderr: bytes


def run_measured(
    command: Sequence[str], *, env: Mapping[str, str], cwd: str | None = None, stdout: int | IO[Any] | None = None
) -> Finished:
    """Run ``command`` to its end; its exit code, its own peak RSS in MB, its wall time and its stderr."""
    report_read, report_write = os.pipe()
    try:
        launcher = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, str(report_write), *command],
            env=dict(env),
            cwd=cwd,
            stdout=stdout,
            stderr=subprocess.PIPE,
            pass_fds=(report_write,),
        )
        os.close(report_write)
        report_write = -1
        _, errors = launcher.communicate()
        report = os.read(report_read, 100).decode()
    finally:
        os.close(report_read)
        if report_write >= 0:
            os.close(report_write)
    if launcher.returncode != 0 or not report:
        raise RuntimeError(f"the launcher failed ({launcher.returncode}): {errors.decode()[-2000:]}")
    returncode, peak, seconds = report.split()
    return Finished(int(returncode), int(peak) * KIB_PER_RU_MAXRSS / 1024, float(seconds), errors)
