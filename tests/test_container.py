"""The container image, checked without a Docker engine.

What the Dockerfile sets up (a user that is not root, the config where the docs mount it), what every ``docker
run`` line in the docs assumes of it, the lock it installs from, and the entrypoint run the way the image runs
it: as the image's user, and as a caller's own uid (``--user "$(id -u):$(id -g)"``), with the home directory and
the working directory laid out as in the image under a temporary root. Running as other users needs root; those
tests are skipped elsewhere. How the entrypoint stops (SIGTERM, as PID 1 too) is tests/test_stopping.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from sentry_issue_export.config import config_path
from sentry_issue_export.plugins import Registry
from sentry_issue_export.settings import Settings
from tests.stdio_client import LineClient

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCS = [ROOT / "README.md", ROOT / "docs" / "mcp.md", DOCKERFILE]


# --- the Dockerfile -------------------------------------------------------------------------------------------


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments left out."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in logical]


def final_stage() -> list[tuple[str, str]]:
    found = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    last_from = max(i for i, (name, _) in enumerate(found) if name == "FROM")
    return found[last_from:]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for name, arguments in final_stage():
        if name == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(arguments))
    return env


def image_setting(instruction: str) -> str:
    [value] = [arguments for name, arguments in final_stage() if name == instruction]
    return value


IMAGE_USER = image_setting("USER")
WORKDIR = image_setting("WORKDIR")
ENV = image_env()
CONFIG_DIR = config_path(ENV).parent
"""Where the server looks for its saved config in the image: what the docs mount."""


def test_the_image_runs_as_a_user_that_is_not_root():
    uid, _, gid = IMAGE_USER.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0  # numeric: provably not root
    assert ENV["HOME"] == f"/home/{image_user_name()}"
    assert PurePosixPath(ENV["HOME"], ".config", "export-sentry-issue") == CONFIG_DIR
    assert image_setting("ENTRYPOINT") == '["export-sentry-issue-mcp"]'


def image_user_name() -> str:
    [run] = [arguments for name, arguments in final_stage() if name == "RUN" and "useradd" in arguments]
    words = shlex.split(run.split("useradd", 1)[1].split("&&", 1)[0])
    assert f"--uid {IMAGE_USER.split(':')[0]}" in " ".join(words)
    return words[-1]


def test_no_build_tool_reaches_the_final_image():
    """The build backend and the compiler-free wheel build stay in the build stage; only the venv is copied."""
    final = final_stage()
    assert [arguments for name, arguments in final if name == "COPY"] == ["--from=build /opt/venv /opt/venv"]
    assert not any("pip" in arguments for name, arguments in final if name == "RUN")
    build = DOCKERFILE.read_text(encoding="utf-8")
    assert "--require-hashes" in build and "requirements/container.txt" in build and "requirements/build.txt" in build
    assert "--only-binary=:all:" in build


# --- the docs' docker lines -----------------------------------------------------------------------------------

RUN_OPTIONS_WITH_VALUE = {"-v", "--volume", "-e", "--env", "-p", "--publish", "--user", "-u", "--entrypoint", "--name"}


def docker_commands(verb: str) -> Iterator[tuple[Path, list[str]]]:
    """Every ``docker <verb> ...`` command in the docs, continuation lines joined, as words after ``docker``."""
    for path in DOCS:
        text = path.read_text(encoding="utf-8").replace("\\\n", " ")
        for line in text.splitlines():
            line = line.lstrip("# ").strip()
            at = line.find(f"docker {verb} ")
            # a command starts a line, or follows `--` (claude mcp add ... -- docker run ...); prose quotes it
            if at >= 0 and (not line[:at].strip() or line[:at].rstrip().endswith("--")):
                yield path, shlex.split(line[at:])[1:]


def run_parts(words: list[str]) -> tuple[dict[str, list[str]], str]:
    """The options of ``run ...`` (each with its values) and the image it runs."""
    options: dict[str, list[str]] = {}
    rest = iter(words[1:])
    for word in rest:
        if word in RUN_OPTIONS_WITH_VALUE:
            options.setdefault(word, []).append(next(rest))
        elif word.startswith("-"):
            options.setdefault(word, [])
        else:
            return options, word
    raise AssertionError(f"no image in docker {' '.join(words)}")


def test_the_docs_run_the_image_they_build():
    [tag] = {words[words.index("-t") + 1] for _, words in docker_commands("build")}
    assert tag == "sentry-issue-export"
    runs = list(docker_commands("run"))
    assert len(runs) >= 5
    for path, words in runs:
        _, image = run_parts(words)
        assert image == tag, (path, words)


def test_the_docs_mount_only_where_the_image_reads_and_writes():
    """Volumes go to the config directory or the working directory; with --user, the config is a directory of
    the caller's (a named volume belongs to the image's user), and no line runs as root."""
    for path, words in docker_commands("run"):
        options, _ = run_parts(words)
        volumes = [volume.split(":") for volume in options.get("-v", [])]
        for source, target, *_ in volumes:
            assert PurePosixPath(target) in (CONFIG_DIR, PurePosixPath(WORKDIR)), (path, words)
            if "--user" in options and PurePosixPath(target) == CONFIG_DIR:
                assert "/" in source, f"{path}: a named volume is not writable with --user: {words}"
        for user in options.get("--user", []):
            assert user == "$(id -u):$(id -g)", (path, words)
    assert "/root/" not in "".join(path.read_text(encoding="utf-8") for path in DOCS)


# --- the lock -------------------------------------------------------------------------------------------------


def pins(lock: Path) -> dict[str, str]:
    """name -> version of each ``name==version`` in a requirements file, each of which must carry hashes."""
    text = lock.read_text(encoding="utf-8")
    found = {}
    for match in re.finditer(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)(.*?)(?=^\S|\Z)", text, re.M | re.S):
        name, version, rest = match.groups()
        assert "--hash=sha256:" in rest, f"{lock.name}: {name} has no hash"
        found[canonicalize_name(name)] = version
    return found


def test_the_lock_pins_every_runtime_dependency_as_pyproject_allows():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    locked = pins(ROOT / "requirements" / "container.txt")
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements/container.txt: refresh it (see its first lines)"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements/container.txt pins {name}=={locked[name]}, outside {requirement.specifier}: refresh it"
        )
    backend = pins(ROOT / "requirements" / "build.txt")
    for line in project["build-system"]["requires"]:
        requirement = Requirement(line)
        assert requirement.specifier.contains(backend[canonicalize_name(requirement.name)])


# --- the entrypoint, as the image runs it ---------------------------------------------------------------------

OTHER_UID = 23456
"""A caller's uid with no account in the image, as ``--user "$(id -u):$(id -g)"`` gives."""


def can_run_as(uid: int) -> bool:
    """Whether this process may start the server as ``uid``: root on Linux, with an interpreter that user can run."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return False
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        probe = [sys.executable, "-c", "import sentry_issue_export"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.run(probe, user=uid, group=uid, extra_groups=[], env=env, timeout=30).returncode == 0
    return False


class Image:
    """The image's directories under a temporary root, made as the Dockerfile makes them, owned by ``owner`` (the
    image's user, or the user running the tests when it cannot switch users)."""

    def __init__(self, root: Path, owner: int) -> None:
        self.root = root
        self.owner = owner
        self.home = self.path(ENV["HOME"])
        self.config_dir = self.path(str(CONFIG_DIR))
        self.workdir = self.path(WORKDIR)
        for directory, mode in ((self.home, 0o755), (self.home / ".config", 0o755), (self.workdir, 0o755)):
            directory.mkdir(parents=True)
            self.own(directory, owner, mode)
        self.config_dir.mkdir()
        self.own(self.config_dir, owner, 0o700)

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")

    @staticmethod
    def own(path: Path, uid: int, mode: int) -> None:
        if os.geteuid() == 0:
            os.chown(path, uid, uid)
        os.chmod(path, mode)

    def mount(self, target: Path, owner: int) -> None:
        """A host directory of ``owner``'s mounted on ``target``: what was there is replaced."""
        target.rmdir()
        target.mkdir()
        self.own(target, owner, 0o700 if target == self.config_dir else 0o755)

    def env(self) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith(("SENTRY_", "EXPORT_SENTRY"))}
        env.update({name: value for name, value in ENV.items() if name != "PATH"})
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.path(ENV["XDG_CONFIG_HOME"])),
            PYTHONPATH=str(ROOT),
            EXPORT_SENTRY_ISSUE_SOURCE="samples",
        )
        env.pop("XDG_CACHE_HOME", None)
        return env

    def as_user(self, uid: int) -> dict[str, object]:
        """What starts a child as ``uid`` (nothing when that is who runs the tests), in the working directory."""
        switch = {} if uid == os.geteuid() else {"user": uid, "group": uid, "extra_groups": []}
        return {**switch, "env": self.env(), "cwd": self.workdir}

    def run(self, uid: int, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, capture_output=True, text=True, timeout=60, **self.as_user(uid))  # type: ignore[call-overload]

    @contextlib.contextmanager
    def serve(self, uid: int) -> Iterator[tuple[LineClient, subprocess.Popen[bytes]]]:
        """The entrypoint as ``uid``, over stdio."""
        child = subprocess.Popen(  # type: ignore[call-overload]
            [sys.executable, "-m", "sentry_issue_export.mcp.server"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **self.as_user(uid),
        )  # fmt: skip
        try:
            client = LineClient(child)
            client.initialize()
            yield client, child
        finally:
            child.kill()
            child.wait(timeout=10)
            for stream in (child.stdin, child.stdout, child.stderr):
                if stream is not None:
                    stream.close()


@pytest.fixture
def image_root() -> Iterator[Path]:
    """A directory every user may pass through, as ``/`` is in the image (pytest's tmp_path is its user's alone)."""
    with tempfile.TemporaryDirectory(prefix="image-root-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


def save_config_as(image: Image, uid: int) -> Path:
    """What ``config init`` writes, written as ``uid`` through the package's own writer."""
    code = (
        "from sentry_issue_export.config import SavedConfig, save_config; "
        "print(save_config(SavedConfig(base_url='https://sentry.example.com', org='acme', token='sntryu_' + 'a' * 64)))"
    )
    done = image.run(uid, sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip())


def export_a_sample(client: LineClient, workdir: Path, registry: Registry) -> Path:
    [ref, *_] = registry.source("samples").default_refs(Settings(source="samples"))
    before = set(workdir.iterdir())
    answer, failed = client.call_tool("view_sentry_issue", {"issue_url_or_id": ref.issue_id})
    assert not failed, answer
    [written] = set(workdir.iterdir()) - before
    assert f"File saved: {written}" in answer
    return written


def test_the_entrypoint_keeps_its_config_under_the_images_home_and_writes_reports_to_the_workdir(
    image_root: Path, registry: Registry
):
    """As the image's own user, with a named volume on the config directory (which starts as the image's: 700)."""
    uid = int(IMAGE_USER.split(":")[0]) if can_run_as(int(IMAGE_USER.split(":")[0])) else os.geteuid()
    image = Image(image_root, uid)
    saved = save_config_as(image, uid)
    assert saved == image.config_dir / "config.json"
    with image.serve(uid) as (client, _):
        listing, failed = client.call_tool("list_config", {})
        assert not failed and f'"path": "{saved}"' in listing and '"saved": true' in listing
        written = export_a_sample(client, image.workdir, registry)
    assert written.stat().st_uid == uid


@pytest.mark.skipif(not can_run_as(OTHER_UID), reason="starting the server as another user needs root on Linux")
def test_a_callers_uid_reads_its_own_config_and_owns_the_reports(image_root: Path, registry: Registry):
    """``--user "$(id -u):$(id -g)"`` with the caller's config directory and working directory mounted: the uid
    has no account in the image and cannot write its home, and still finds its config and owns its reports."""
    image = Image(image_root, int(IMAGE_USER.split(":")[0]))
    image.mount(image.config_dir, OTHER_UID)  # -v "$HOME/.config/export-sentry-issue:/home/exporter/.config/..."
    image.mount(image.workdir, OTHER_UID)  # -v "$PWD:/app"
    saved = save_config_as(image, OTHER_UID)
    assert saved == image.config_dir / "config.json"
    with image.serve(OTHER_UID) as (client, child):
        listing, failed = client.call_tool("list_config", {})
        assert not failed and f'"path": "{saved}"' in listing and '"saved": true' in listing
        written = export_a_sample(client, image.workdir, registry)
        child.kill()
        assert child.stderr is not None
        log = child.stderr.read().decode(errors="replace")
    assert written.stat().st_uid == OTHER_UID and written.stat().st_gid == OTHER_UID
    home = image.home.stat()
    assert home.st_uid != OTHER_UID and not home.st_mode & 0o022  # it ran with a home it cannot write to
    assert "Traceback" not in log and "Permission denied" not in log, log
