"""Compiled templates kept between runs: Jinja2's bytecode cache, under the user's cache directory.

Compiling the built-in templates takes about a tenth of a second, which every command would pay again at
start. The compiled code is kept in ``$XDG_CACHE_HOME/export-sentry-issue/templates-<version>/`` (else
``~/.cache/...``); Jinja2 recompiles a template whose source changed (it checks a checksum), and the
directory name carries the package version.

The cache is only ever a speed-up. A directory that cannot be created, is read-only, or is not safe to load
code from (owned by another user, or writable by others, since Jinja2 executes what it loads) means the
templates are compiled in memory as before; a read or write that fails is ignored.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import jinja2
import jinja2.bccache

NO_CACHE_VARIABLE = "EXPORT_SENTRY_ISSUE_NO_TEMPLATE_CACHE"
"""Set (to anything) to compile templates in memory only."""


class QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A bytecode cache that never fails a render: a cache file that cannot be read or written is skipped."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()  # a damaged or unreadable file: compile afresh

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # a full or read-only disk: the next run compiles again
            super().dump_bytecode(bucket)


def cache_directory(env: Mapping[str, str] | None = None) -> Path:
    """Where compiled templates go: ``$XDG_CACHE_HOME/export-sentry-issue/templates-<version>``."""
    from ..config.file import user_directory
    from ..version import __version__

    return user_directory("XDG_CACHE_HOME", ".cache", env) / f"templates-{__version__}"


def bytecode_cache(env: Mapping[str, str] | None = None) -> jinja2.BytecodeCache | None:
    """The cache to give a Jinja2 environment, or ``None`` when there is no safe directory for it."""
    from ..config.file import make_private_directory

    if (env if env is not None else os.environ).get(NO_CACHE_VARIABLE):
        return None
    try:
        directory = cache_directory(env)
        if not directory.is_dir():
            make_private_directory(directory)
    except (OSError, RuntimeError):  # RuntimeError: no home directory to be found
        return None
    if not _safe_to_load_from(directory):
        return None
    return QuietBytecodeCache(str(directory))


def _safe_to_load_from(directory: Path) -> bool:
    """The directory is ours and only we can write to it (no one else could plant code for Jinja2 to run)."""
    try:
        info = os.stat(directory, follow_symlinks=False)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "getuid") or info.st_uid == os.getuid()
