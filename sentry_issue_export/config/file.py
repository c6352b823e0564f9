"""The saved config file: where it lives, and reading, writing and deleting it without ever exposing the token.

The file holds a token, so it is private from its first byte: created with mode 600 inside a 700 directory,
written to a unique temporary file and renamed over the old one, so readers and concurrent writers only ever
see a whole file. Loading reports loose permissions as warnings instead of changing the file; the next save
tightens them. A file that cannot be used raises a :class:`~sentry_issue_export.errors.ConfigError` that names
the file and how to fix it. The token never appears in a message or a ``repr``.

Which value wins when the file, the environment and call arguments disagree is decided in ``config/__init__.py``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from ..errors import ConfigError
from ..sentry.urls import normalise_base_url

__all__ = [
    "APP_DIR_NAME",
    "CONFIG_FILE_NAME",
    "SAVED_FIELDS",
    "SavedConfig",
    "config_path",
    "load_saved",
    "make_private_directory",
    "revoke_config",
    "save_config",
    "user_directory",
]

APP_DIR_NAME = "export-sentry-issue"
CONFIG_FILE_NAME = "config.json"
FIX_HINT = "run `export-sentry-issue config init` again to replace it, or delete it"
SAVED_FIELDS = ("base_url", "org", "project", "token", "output_dir", "format", "templates_dir", "source")
"""The keys the file may hold, in the order they are written."""


@attrs.frozen(kw_only=True)
class SavedConfig:
    """The saved config file. ``warnings`` are found on load (e.g. loose permissions) and are not saved."""

    base_url: str
    org: str | None = None
    project: str | None = None
    token: str = attrs.field(repr=False)
    output_dir: str | None = None
    format: str | None = None
    templates_dir: str | None = None
    source: str | None = None
    """The source the token is for, when it is not ``sentry`` (``bugsink``)."""
    warnings: tuple[str, ...] = attrs.field(default=(), eq=False)
    access: str = attrs.field(default="", eq=False)
    """What the check before saving reached (not saved)."""


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/export-sentry-issue/config.json``, else ``~/.config/...`` (a relative XDG path is ignored)."""
    return user_directory("XDG_CONFIG_HOME", ".config", env) / CONFIG_FILE_NAME


def user_directory(variable: str, fallback: str, env: Mapping[str, str] | None = None) -> Path:
    """``$VARIABLE/export-sentry-issue``, else ``~/FALLBACK/export-sentry-issue``: the XDG base directory rule
    (a relative path in the variable is ignored, as the specification asks)."""
    env = os.environ if env is None else env
    xdg = env.get(variable, "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        home = env.get("HOME")
        base = (Path(home) if home else Path.home()) / fallback
    return base / APP_DIR_NAME


# --- reading --------------------------------------------------------------------------------------------------


MAX_CONFIG_BYTES = 64 * 1024
"""A saved config is a few hundred bytes; anything past this is not one."""


def load_saved(path: Path | None = None) -> SavedConfig | None:
    """Read the saved config; ``None`` when there is none. A file that cannot be used raises ConfigError.

    Only a regular file of at most :data:`MAX_CONFIG_BYTES` is read, opened without blocking, so a named pipe,
    a device (a link to ``/dev/zero``), a directory or a huge file is refused at once instead of hanging the
    command or every MCP tool; ``revoke`` removes any of them.
    """
    path = config_path() if path is None else Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"The saved config {path} cannot be read ({exc.strerror or exc}). "
            f"Make it readable by your user (chmod 600 {path}), or {FIX_HINT}."
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise _unusable(path, f"it is {_kind_of(info.st_mode)}, not a regular file")
        with os.fdopen(fd, "rb") as file:
            if info.st_size > MAX_CONFIG_BYTES:
                raise _unusable(path, f"it holds {info.st_size:,} bytes, and a config is at most {MAX_CONFIG_BYTES:,}")
            mode = stat.S_IMODE(info.st_mode)
            raw = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"The saved config {path} cannot be read ({exc.strerror or exc}); {FIX_HINT}.") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise _unusable(path, f"it holds more than {MAX_CONFIG_BYTES:,} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _unusable(path, "it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _unusable(path, f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise _unusable(path, "its JSON nests too deeply to be a config") from None
    return SavedConfig(**_checked_fields(path, data), warnings=tuple(_permission_warnings(path, mode)))


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind_of(mode: int) -> str:
    return next((name for test, name in _FILE_KINDS if test(mode)), "not a file")


def _checked_fields(path: Path, data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _unusable(path, f"it holds a JSON {type(data).__name__}, not an object")
    problems = [f"{name} is missing or empty" for name in ("base_url", "token") if not data.get(name)]
    problems += [
        f"{name} should be a string, not {type(data[name]).__name__}"
        for name in SAVED_FIELDS
        if data.get(name) is not None and not isinstance(data[name], str)
    ]
    if problems:
        raise _unusable(path, "; ".join(problems))
    fields = {name: data.get(name) or None for name in SAVED_FIELDS}
    try:
        fields["base_url"] = normalise_base_url(data["base_url"])[0]
    except ConfigError as exc:
        raise _unusable(path, f"its base_url is not usable ({exc})") from None
    return fields


def _unusable(path: Path, reason: str) -> ConfigError:
    return ConfigError(f"The saved config {path} is unusable: {reason}. To fix it, {FIX_HINT}.")


def _permission_warnings(path: Path, mode: int) -> list[str]:
    if os.name != "posix":
        return []
    warnings = []
    if mode & 0o077:
        warnings.append(
            f"{path} holds a token but other users may read it (mode {mode:o}); it gets mode 600 on the next "
            f"save, or run `chmod 600 {path}` now."
        )
    with contextlib.suppress(OSError):
        directory_mode = stat.S_IMODE(path.parent.stat().st_mode)
        if path.parent.name == APP_DIR_NAME and directory_mode & 0o077:
            warnings.append(
                f"{path.parent} is open to other users (mode {directory_mode:o}); it gets mode 700 on the next "
                f"save, or run `chmod 700 {path.parent}` now."
            )
    return warnings


# --- writing --------------------------------------------------------------------------------------------------


def save_config(config: SavedConfig, path: Path | None = None) -> Path:
    """Write the config atomically, mode 600 from its first byte; the last of concurrent writers wins."""
    path = config_path() if path is None else Path(path)
    data = {name: getattr(config, name) for name in SAVED_FIELDS if getattr(config, name) is not None}
    try:
        make_private_directory(path.parent)
        _write_private_file(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"Could not save the config to {path} ({exc.strerror or exc}); check that {path.parent} is yours "
            "and writable."
        ) from None
    return path


def make_private_directory(directory: Path) -> None:
    """Create ``directory`` (and missing parents) with mode 700 whatever the umask; raises ``OSError``."""
    # Missing parents (~/.config itself on a fresh account) are created 700 too, as the XDG specification asks,
    # whatever the umask: with umask 000 they would otherwise be open to every user.
    missing = [parent for parent in reversed(directory.parents) if not parent.exists()]
    for parent in missing:
        with contextlib.suppress(FileExistsError):
            parent.mkdir(mode=0o700)
            os.chmod(parent, 0o700)
    try:
        directory.mkdir(mode=0o700)
    except FileExistsError:
        if not _is_own_loose_directory(directory):
            return
    os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask; pin it


def _is_own_loose_directory(directory: Path) -> bool:
    """Only our own directory is tightened: a custom path may live in a shared one such as /tmp."""
    if os.name != "posix" or directory.name != APP_DIR_NAME:
        return False
    info = directory.stat()
    return info.st_uid == os.geteuid() and bool(info.st_mode & 0o077)


def _write_private_file(path: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(temporary, flags, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary name next to {path}")
    try:
        with os.fdopen(fd, "wb") as file:
            if hasattr(os, "fchmod"):
                os.fchmod(file.fileno(), 0o600)  # the umask may have removed owner bits; others had none
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some platforms cannot open a directory, and that is not an error."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- deleting -------------------------------------------------------------------------------------------------


_ABANDONED_AFTER_SECONDS = 3600.0


def _save_in_progress(temporary: Path) -> bool:
    """Whether a temporary config file may belong to a save that is still running (its pid lives, or is ours)."""
    try:
        pid = int(temporary.name.rsplit(".", 3)[-3])
        if time.time() - temporary.stat().st_mtime > _ABANDONED_AFTER_SECONDS:
            return False
    except (ValueError, IndexError, OSError):
        return False
    if pid == os.getpid():
        return True  # another thread of this process (concurrent MCP tool calls)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True
    return True


def revoke_config(path: Path | None = None) -> bool:
    """Delete the saved config (and any temporary file a crashed save left); True if a config existed.

    The token itself stays valid in Sentry until it is revoked there too.
    """
    path = config_path() if path is None else Path(path)
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{path.name}.*.tmp"):
            if _save_in_progress(leftover):
                continue  # a save running now owns it, and would fail without it
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    try:
        path.unlink()  # a regular file, a symlink (never its target), a pipe or a socket
    except FileNotFoundError:
        return False
    except IsADirectoryError:
        return _remove_directory(path)
    except OSError as exc:
        if path.is_dir() and not path.is_symlink():
            return _remove_directory(path)
        raise ConfigError(f"Could not delete the saved config {path} ({exc.strerror or exc}).") from None
    return True


def _remove_directory(path: Path) -> bool:
    """A directory where the config file belongs goes when it is empty; one that holds files is the user's."""
    try:
        path.rmdir()
    except OSError:
        raise ConfigError(
            f"{path} is a directory with files in it, where the saved config belongs; nothing was deleted. Move "
            "it away or delete it yourself."
        ) from None
    return True
