"""Writing reports to disk: names inside the output directory, atomic, never overwriting, never half-written.

The content is written in full before it gets its name. On Linux it goes to an anonymous ``O_TMPFILE`` inode
that is linked into place only when complete, so even a SIGKILL mid-write leaves nothing behind. Where that is
not possible (no ``O_TMPFILE``, or a kernel that refuses to link it through ``/proc/self/fd``), a hidden
temporary file ``.{name}.{pid}@{host}.{random}.tmp`` is hard-linked into place and then removed. ``os.link``
refuses to replace an existing name, symlinks included, which is what makes the no-overwrite rule race-free.

A writer killed between creating its temporary file and removing it leaves that file behind; the next write
into the same directory deletes it once it is sure the file belongs to no write in progress (see
:func:`remove_abandoned_temp_files`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import os
import re
import socket
import time
import unicodedata
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from .errors import OutputError

NAME_MAX_BYTES = 255
"""The longest file name, in bytes, that common file systems (ext4, XFS, APFS, NTFS) accept."""
ABANDONED_AFTER_SECONDS = 3600.0
"""A temporary file untouched for this long belongs to no live write, whoever made it."""

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WINDOWS_RESERVED = re.compile(r"(?i)(?:CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(?:\..*)?")
_TEMP_NAME = re.compile(r"\.(?P<label>[A-Za-z0-9._-]*)\.(?P<pid>[0-9]{1,10})@(?P<host>[0-9a-f]{8})\.[0-9a-f]{8}\.tmp")
_TEMP_LABEL_CHARS = 100
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

    Refused: absolute paths, ``..``, sub-directories, backslashes (a Windows path separator, refused on every
    platform so a name means the same everywhere), control characters, names longer than 255 bytes, the names
    of this module's temporary files, and names that are symlinks (which could point outside). The output
    directory itself is the user's own setting and may be, or sit behind, a symlink.
    """
    if output_file is None or output_file == "":
        return output_dir / default_name
    problem = _name_problem(output_file)
    if problem is not None:
        raise OutputError(f"The output file {output_file!r} {problem}; choose a plain file name such as 'report.txt'.")
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


def _name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a report's file name, as the end of a sentence; ``None`` when it can."""
    if "\\" in name:
        return "contains a backslash, which separates folders on Windows"
    if control := _CONTROL.search(name):
        return f"contains the control character {control.group()!r}, which a plain file name cannot hold"
    if invisible := next((char for char in name if unicodedata.category(char) in ("Cf", "Zl", "Zp")), None):
        return (
            f"contains the invisible character U+{ord(invisible):04X} ({unicodedata.name(invisible, 'format')}), "
            "which can make a name read as something it is not (a right-to-left override turns "
            "report<RLO>txt.exe into what looks like reportexe.txt)"
        )
    if _WINDOWS_RESERVED.fullmatch(name.rstrip(" .")):
        return "is a device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9), with or without an extension"
    if name != name.rstrip(" ."):
        return "ends in a space or a dot, which Windows drops, so the file would get another name there"
    size = len(name.encode("utf-8", "surrogateescape"))
    if size > NAME_MAX_BYTES:
        return f"is {size} bytes long, and a plain file name may have at most {NAME_MAX_BYTES}"
    if _TEMP_NAME.fullmatch(name):
        return "has the form of the exporter's temporary files, which are deleted when abandoned"
    return None


Content = str | bytes | Callable[[Callable[[str | bytes], None]], None]
"""What ``write_new_file`` writes: the whole text, or a function that writes it in pieces through the
``write`` it is given (a document written as it renders, so only a piece at a time is in memory)."""


def write_new_file(path: Path, content: Content, *, mode: int = 0o644) -> Path:
    """Write ``content`` to ``path`` or, if taken, to ``name_2.ext``, ``name_3.ext``...; return the path.

    The file appears complete or not at all, and no existing file (or symlink) is ever replaced; when a
    content function raises, nothing appears and the error propagates. Concurrent writers, threads or processes,
    asking for the same name each get their own file. Temporary files that killed writers left in the
    directory are removed first.
    """
    global _anonymous_files_work
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Could not create the output directory {directory}: {_reason(exc)}.") from exc
    if not directory.is_dir():
        raise OutputError(f"The output directory {directory} is not a directory.")
    remove_abandoned_temp_files(directory)
    try:
        if _anonymous_files_work:
            with _anonymous_file(directory, content, mode) as anonymous:
                if anonymous is not None:
                    try:
                        return _link_first_free(f"/proc/self/fd/{anonymous}", path)
                    except OSError as exc:
                        if exc.errno not in _LINK_UNSUPPORTED:
                            raise
                        _anonymous_files_work = False  # e.g. a kernel that refuses linkat on /proc/self/fd
                    with _named_temp_file(directory, path.name, _read_back(anonymous), mode) as source:
                        return _link_first_free(source, path)
        with _named_temp_file(directory, path.name, content, mode) as source:
            return _link_first_free(source, path)
    except OSError as exc:
        where = exc.filename2 or exc.filename or path
        raise OutputError(f"Could not write {where}: {_reason(exc)}.") from exc


def remove_abandoned_temp_files(directory: Path, *, max_age: float = ABANDONED_AFTER_SECONDS) -> list[Path]:
    """Delete the temporary files that killed writers left in ``directory``; return the paths removed.

    Only names of the form this module creates are considered, and one goes only when it belongs to no write in
    progress: its writer ran on this host (same host name and process namespace) and is no longer running, or
    the file has not changed for ``max_age`` seconds. Another live writer's file, in this process or another,
    is left alone. A failure to list or delete is ignored: cleaning up never stops a report from being written.
    """
    removed: list[Path] = []
    try:
        with os.scandir(directory) as entries:
            candidates = [(entry, match) for entry in entries if (match := _TEMP_NAME.fullmatch(entry.name))]
        now = time.time()
        for entry, match in candidates:
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                idle = now - entry.stat(follow_symlinks=False).st_mtime
                if idle < max_age and not _writer_is_gone(int(match["pid"]), match["host"]):
                    continue
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(Path(entry.path))
    except OSError:
        pass
    return removed


def _writer_is_gone(pid: int, host: str) -> bool:
    """True only when certain: the pid names a process here, and no such process runs."""
    if host != _host_tag() or pid == os.getpid() or os.name != "posix":
        return False  # on Windows os.kill(pid, 0) would terminate the process rather than probe it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # PermissionError: alive, another user's
        return False
    return False


@functools.cache
def _host_tag() -> str:
    """Eight hex digits for this host and process namespace: a pid in a temp file name means something only here.

    The output directory may be shared, over NFS or between containers, with writers whose pids are not ours.
    """
    parts = [socket.gethostname()]
    with contextlib.suppress(OSError):
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:8]


def _link_first_free(source: str, path: Path) -> Path:
    """Give the complete file at ``source`` the first free name of ``path``, ``path_2``, ...; never replace one."""
    for target in _numbered_names(path):
        try:
            os.link(source, target, follow_symlinks=True)
            return target
        except FileExistsError:
            continue
    raise OutputError(f"Could not find a free file name next to {path}; clean up the output directory.")


def _numbered_names(path: Path, limit: int = 999) -> Iterator[Path]:
    """``path``, then ``stem_2.ext`` up to ``stem_{limit}.ext``, the stem shortened when a number would overflow."""
    yield path
    suffix_bytes = len(path.suffix.encode("utf-8", "surrogateescape"))
    for number in range(2, limit + 1):
        tail = f"_{number}"
        room = NAME_MAX_BYTES - suffix_bytes - len(tail)
        yield path.with_name(f"{_cut_to_bytes(path.stem, room)}{tail}{path.suffix}")


def _cut_to_bytes(text: str, size: int) -> str:
    encoded = text.encode("utf-8", "surrogateescape")
    if len(encoded) <= size:
        return text
    return encoded[: max(size, 0)].decode("utf-8", "ignore")


@contextlib.contextmanager
def _anonymous_file(directory: Path, content: Content, mode: int) -> Iterator[int | None]:
    """The descriptor of an unnamed file holding ``content``; ``None`` where the platform has none."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        yield None
        return
    try:
        fd = os.open(directory, flag | os.O_RDWR | os.O_CLOEXEC, mode)
    except OSError:  # the file system does not support it
        yield None
        return
    try:
        _write_all(fd, content)
        yield fd
    finally:
        os.close(fd)


def _read_back(fd: int) -> Content:
    """What an unnamed file holds, as content to write elsewhere, a megabyte at a time."""

    def copy(write: Callable[[str | bytes], None]) -> None:
        offset = 0
        while block := os.pread(fd, 1 << 20, offset):
            offset += len(block)
            write(block)

    return copy


@contextlib.contextmanager
def _named_temp_file(directory: Path, name: str, content: Content, mode: int) -> Iterator[str]:
    """A hidden file holding ``content``, removed on the way out; its name says whose it is, for the cleanup."""
    label = _SAFE_NAME.sub("_", name)[:_TEMP_LABEL_CHARS]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    while True:
        temp = directory / f".{label}.{os.getpid()}@{_host_tag()}.{os.urandom(4).hex()}.tmp"
        try:
            fd = os.open(temp, flags, mode)
            break
        except FileExistsError:  # another writer drew the same random part
            continue
    try:
        try:
            _write_all(fd, content)
        finally:
            os.close(fd)
        yield str(temp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


WRITE_BLOCK = 1 << 18
"""Bytes gathered from small pieces before one ``write``: a document renders in many short pieces."""


def _write_all(fd: int, content: Content) -> None:
    if isinstance(content, str | bytes):
        _write_block(fd, content.encode("utf-8") if isinstance(content, str) else content)
        os.fsync(fd)
        return
    pending: list[bytes] = []
    gathered = 0

    def write(piece: str | bytes) -> None:
        nonlocal pending, gathered
        data = piece.encode("utf-8") if isinstance(piece, str) else piece
        pending.append(data)
        gathered += len(data)
        if gathered >= WRITE_BLOCK:
            _write_block(fd, b"".join(pending))
            pending, gathered = [], 0

    content(write)
    _write_block(fd, b"".join(pending))
    os.fsync(fd)


def _write_block(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return f"the file name is too long (at most {NAME_MAX_BYTES} bytes)"
    return str(exc.strerror or exc)
