"""A writer killed with SIGKILL at a random moment never leaves a partial report, and its leftovers get cleaned up.

Real processes write in a loop and are killed at random moments: either an 8 MB JSON document (eight copies of
the ``huge_event`` sample's JSON rendering) straight through ``write_new_file``, so that most kills land mid-write,
or the ~1 MB report through the whole export pipeline. After every kill each visible file in the output directory
must equal one of the two references byte for byte (and so parse); the only other files allowed are the writer's
hidden temporary files, which the next export removes.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sentry_issue_export.exporter import export_issues_sync
from sentry_issue_export.settings import Settings
from tests.test_output import kernel_links_unnamed_files

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL"),
]

REPO_ROOT = Path(__file__).resolve().parent.parent
WRITE_KILLS = 7
EXPORT_KILLS = 3

WRITER = r"""
import os
import sys
from pathlib import Path

mode, out_dir, reference = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
if mode == "write":
    from sentry_issue_export.output import write_new_file

    data = reference.read_bytes()
    def write_once():
        return write_new_file(out_dir / "report.json", data)
else:
    from sentry_issue_export.exporter import export_issues_sync
    from sentry_issue_export.settings import Settings

    settings = Settings(source="samples", format="json", output_dir=out_dir)
    def write_once():
        return export_issues_sync("huge_event", settings).path

previous = write_once()
print("ready", flush=True)
while True:
    path = write_once()
    os.unlink(previous)  # keeps the disk use bounded; each file is still complete while it exists
    previous = path
"""


def huge_json_settings(out_dir: Path) -> Settings:
    return Settings(source="samples", format="json", output_dir=out_dir)


def start_writer(mode: str, out_dir: Path, reference: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, mode, str(out_dir), str(reference)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )


def wait_until_ready(writer: subprocess.Popen[str]) -> None:
    assert writer.stdout is not None
    readable, _, _ = select.select([writer.stdout], [], [], 15)
    line = writer.stdout.readline() if readable else ""
    if line.strip() != "ready":
        writer.kill()
        writer.wait()
        pytest.fail(f"the writer process did not start (exit code {writer.returncode})")


def check_directory(out_dir: Path, references: list[bytes]) -> list[str]:
    """Assert every visible file is one of ``references``, complete; return the hidden temporary files left."""
    leftovers = []
    for path in out_dir.iterdir():
        if path.name.startswith("."):
            assert path.name.endswith(".tmp"), f"unexpected hidden file {path.name}"
            leftovers.append(path.name)
            continue
        content = path.read_bytes()
        sizes = [len(reference) for reference in references]
        assert len(content) in sizes, f"{path.name} holds {len(content)} bytes; complete files hold {sizes}"
        assert content in references, f"{path.name} differs from the reference rendering"
    return leftovers


def test_a_killed_writer_never_leaves_a_partial_report_and_the_next_export_cleans_up(tmp_path: Path):
    settings = huge_json_settings(tmp_path / "unused")
    rendered = export_issues_sync("huge_event", settings, write=False).content
    assert json.loads(rendered)  # the reference is itself a complete JSON document
    reference = rendered.encode("utf-8")
    big_reference = ("[" + ",".join([rendered] * 8) + "]").encode("utf-8")
    references = [reference, big_reference]
    reference_file = tmp_path / "reference.json"
    reference_file.write_bytes(big_reference)
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    seed = random.randrange(2**32)
    rng = random.Random(seed)
    left_behind: set[str] = set()
    for mode in ["write"] * WRITE_KILLS + ["export"] * EXPORT_KILLS:
        writer = start_writer(mode, out_dir, reference_file)
        wait_until_ready(writer)
        # A write takes a few milliseconds, an export about half a second: kill anywhere within a few of them.
        delay = rng.uniform(0.0, 0.15 if mode == "write" else 0.6)
        try:
            writer.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait()
        assert writer.returncode == -signal.SIGKILL, f"the writer ended on its own (code {writer.returncode})"
        left_behind.update(check_directory(out_dir, references))

    if not kernel_links_unnamed_files(tmp_path):
        # Writers here use named temporary files, so some kill (seed {seed}) must have caught one mid-write.
        assert left_behind, f"no kill landed mid-write (seed {seed}); the cleanup was not exercised"
    result = export_issues_sync("huge_event", huge_json_settings(out_dir))
    assert result.path is not None and result.path.read_bytes() == reference
    assert check_directory(out_dir, references) == [], f"temporary files outlived their writers (seed {seed})"
