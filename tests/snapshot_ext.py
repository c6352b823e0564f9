"""Syrupy extensions that store each snapshot as one plain, readable file: ``.txt``, ``.md`` or ``.json``.

A reviewer reads and diffs them like any other file; ``pytest --snapshot-update`` rewrites them.
"""

from __future__ import annotations

from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode


class TextSnapshotExtension(SingleFileSnapshotExtension):
    _write_mode = WriteMode.TEXT
    file_extension = "txt"


class MarkdownSnapshotExtension(TextSnapshotExtension):
    file_extension = "md"


class JsonTextSnapshotExtension(TextSnapshotExtension):
    file_extension = "json"


SNAPSHOT_EXTENSIONS: dict[str, type[SingleFileSnapshotExtension]] = {
    "text": TextSnapshotExtension,
    "markdown": MarkdownSnapshotExtension,
    "json": JsonTextSnapshotExtension,
}
"""The extension for each built-in renderer's output."""
