"""The ``file`` source: re-render a saved debug dump (``debug_issue_123.json``) without any network.

Accepted file shapes: ``{"issue": {...}, "event": {...}}`` (what debug mode writes), a list of those, or a bare
event JSON (as ``GET .../events/latest/`` returns it), in which case a minimal issue is derived from the event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import ExportError, NotFoundError
from ..hookspecs import FetchFailure, RawIssue, hookimpl
from ..refs import IssueRef
from ..settings import Settings


class FileSource:
    name = "file"
    description = "Re-renders payloads saved by debug mode (--from-file FILE)."

    def default_refs(self, settings: Settings) -> Sequence[IssueRef]:
        return [IssueRef(issue_id=issue_id, text=issue_id) for issue_id, _ in load_dumps(_path(settings))]

    async def fetch(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        dumps = dict(load_dumps(_path(settings)))
        for ref in refs:
            pair = dumps.get(ref.issue_id)
            if pair is None:
                available = ", ".join(dumps) or "none"
                yield FetchFailure(
                    ref, NotFoundError(f"Issue {ref.issue_id} is not in {_path(settings)} (it holds: {available}).")
                )
            else:
                yield RawIssue(ref, pair[0], pair[1])


def _path(settings: Settings) -> Path:
    if settings.from_file is None:
        raise ExportError("The file source needs a file: pass --from-file FILE.")
    return Path(settings.from_file)


def load_dumps(path: Path) -> list[tuple[str, tuple[dict[str, Any], dict[str, Any] | None]]]:
    """Read a dump file into ``(issue id, (issue, event))`` pairs, with a clear error for a bad file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"Could not read {path}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path} is not UTF-8 text; pass a JSON file saved by debug mode.") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).") from exc
    items = data if isinstance(data, list) else [data]
    pairs = []
    for position, item in enumerate(items, 1):
        pair = _as_pair(item)
        if pair is None:
            raise ExportError(
                f"Item {position} of {path} is neither a debug dump ({{'issue': ..., 'event': ...}}) nor an event."
            )
        issue_id = str(pair[0].get("id") or f"{path.stem}-{position}")
        pairs.append((issue_id, pair))
    if not pairs:
        raise ExportError(f"{path} holds no issues.")
    return pairs


def _as_pair(item: Any) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    if not isinstance(item, dict):
        return None
    if isinstance(item.get("issue"), dict):
        event = item.get("event")
        return item["issue"], event if isinstance(event, dict) else None
    if "entries" in item or "eventID" in item:
        group_id = item.get("groupID")
        issue = {"id": str(group_id) if group_id is not None else None, "title": item.get("title")}
        return issue, item
    return None


@hookimpl
def register_sources(register: Any) -> None:
    register(FileSource())
