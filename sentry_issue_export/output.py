"""Writing reports to disk: names inside the output directory, atomic, never overwriting, never half-written.

On Linux the content goes to an anonymous ``O_TMPFILE`` inode that is linked into place only when complete, so
even a SIGKILL mid-write leaves nothing behind. Elsewhere a hidden temporary file is hard-linked into place.
``os.link`` refuses to replace an existing file, which is what makes the no-overwrite rule race-free.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from datetime import datetime
from pathlib import Path

from .errors import OutputError

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_LINK_UNSUPPORTED = {errno.EXDEV, errno.EPERM, errno.ENOENT, errno.EOPNOTSUPP, errno.EINVAL, errno.EACCES}
_anonymous_files_work = True


def default_report_name(issue_ids: list[str], extension: str, now: datetime | None = None) -> str:
    """``sentry_issue_{id}_{YYYYmmdd_HHMMSS}.{ext}`` for one issue, ``sentry_issues_{...}`` for several."""
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    if len(issue_ids) == 1:
        return f"sentry_issue_{safe_name_part(issue_ids[0])}_{stamp}.{extension}"
    return f"sentry_issues_{stamp}.{extension}"


def safe_name_part(text: str) -> str:
    """A piece of a file name made only of harmless characters."""
    return _SAFE_NAME.sub("_", text).strip("._")[:80] or "issue"


def resolve_output_path(output_dir: Path, output_file: str | None, default_name: str) -> Path:
    """The path a report will be written to; ``output_file`` must be a plain name inside ``output_dir``.

    Refused: absolute paths, ``..``, sub-directories, and names that are symlinks (which could point outside).
    """
    if output_file is None or output_file == "":
        return output_dir / default_name
    if "\x00" in output_file:
        raise OutputError("The output file name contains a NUL character; choose a plain file name.")
    candidate = Path(output_file)
    if candidate.is_absolute() or candidate.name != output_file or output_file in {".", ".."}:
        raise OutputError(
            f"The output file {output_file!r} must be a plain file name inside the output directory "
            f"{output_dir}, without folders, '..' or an absolute path."
        )
    path = output_dir / output_file
    if path.is_symlink():
        raise OutputError(
            f"The output file {output_file!r} is a symbolic link in {output_dir}; it could point outside the "
            "output directory, so it is not written. Choose another name."
        )
    return path


def write_new_file(path: Path, content: str | bytes, *, mode: int = 0o644) -> Path:
    """Write ``content`` to ``path`` or, if taken, to ``name_2.ext``, ``name_3.ext``...; return the path.

    The file appears complete or not at all, and no existing file is ever replaced.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or exc
        raise OutputError(f"Could not create the output directory {directory}: {reason}.") from exc
    if not directory.is_dir():
        raise OutputError(f"The output directory {directory} is not a directory.")
    for attempt in range(1, 1000):
        target = path if attempt == 1 else path.with_name(f"{path.stem}_{attempt}{path.suffix}")
        try:
            _link_new(directory, target, data, mode)
            return target
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"Could not write {target}: {exc.strerror or exc}.") from exc
    raise OutputError(f"Could not find a free file name next to {path}; clean up the output directory.")


def _link_new(directory: Path, target: Path, data: bytes, mode: int) -> None:
    global _anonymous_files_work
    fd = _open_anonymous(directory, mode) if _anonymous_files_work else None
    if fd is not None:
        try:
            _write_all(fd, data)
            os.link(f"/proc/self/fd/{fd}", target, follow_symlinks=True)
            return
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in _LINK_UNSUPPORTED:
                raise
            _anonymous_files_work = False  # e.g. a kernel or sandbox without linkat on /proc/self/fd
        finally:
            os.close(fd)
    temp = directory / f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.link(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _open_anonymous(directory: Path, mode: int) -> int | None:
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not Path("/proc/self/fd").is_dir():
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY, mode)
    except OSError:  # the file system does not support it
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)
