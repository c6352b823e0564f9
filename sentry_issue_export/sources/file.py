"""The ``file`` source: re-render saved payloads without any network.

Accepted file shapes:

- ``{"issue": {...}, "event": {...}}``, what debug mode writes (``debug_issue_123.json``, with the issue's
  ``tags`` across all events, its recent ``events`` and the ``unavailable`` parts when they were fetched), or a
  list of those;
- an event alone, in either shape the models read: the REST API event (``GET .../events/latest/``) or the raw
  SDK event that SDKs send and Bugsink, Relay or a ``before_send`` hook store, recognised by any key of Sentry's
  event protocol (``PROTOCOL_KEYS``: an event made only of a message, a request, spans or a transaction is one,
  and so is one that uses the legacy ``sentry.interfaces.*`` names). A minimal issue is then derived from the
  event (its group id, title, level, platform and culprit), as Sentry derives it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..errors import ExportError, NotFoundError
from ..hookspecs import BaseSource, FetchFailure, RawIssue, hookimpl
from ..models import PROTOCOL_KEYS, modern_keys
from ..refs import IssueRef
from ..settings import Settings
from ..textsafe import escape_line

_LOOKED_FOR = ", ".join(sorted(PROTOCOL_KEYS, key=lambda key: (key.startswith("sentry."), key.lower())))


class FileSource(BaseSource):
    name = "file"
    description = "Re-renders saved payloads: debug dumps, REST API events or raw SDK events (--from-file FILE)."
    needs_credentials = False

    def default_refs(self, settings: Settings) -> Sequence[IssueRef]:
        return [IssueRef(issue_id=issue_id, text=issue_id) for issue_id, _ in load_dumps(_path(settings))]

    async def fetch(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        dumps = dict(load_dumps(_path(settings)))
        for ref in refs:
            dump = dumps.get(ref.issue_id)
            if dump is None:
                available = ", ".join(dumps) or "none"
                yield FetchFailure(
                    ref, NotFoundError(f"Issue {ref.issue_id} is not in {_path(settings)} (it holds: {available}).")
                )
            else:
                yield attrs.evolve(dump, ref=ref)


def _path(settings: Settings) -> Path:
    if settings.from_file is None:
        raise ExportError("The file source needs a file: pass --from-file FILE.")
    return Path(settings.from_file)


def load_dumps(path: Path) -> list[tuple[str, RawIssue]]:
    """Read a dump file into ``(issue id, payloads)`` pairs, with a clear error for a bad file."""
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
    except RecursionError:
        raise ExportError(f"{path} nests its JSON too deeply to be a Sentry payload.") from None
    items = data if isinstance(data, list) else [data]
    dumps = []
    for position, item in enumerate(items, 1):
        dump = _as_dump(item)
        if dump is None:
            found = ", ".join(sorted(map(str, item)))[:200] if isinstance(item, dict) else type(item).__name__
            found = escape_line(found) or "no keys"
            raise ExportError(
                f"Item {position} of {path} is neither a debug dump ({{'issue': ..., 'event': ...}}) nor an event: "
                f"it has none of the keys of Sentry's event protocol ({_LOOKED_FOR}). It has: {found}."
            )
        issue_id = str(dump.issue.get("id") or f"{path.stem}-{position}")
        dumps.append((issue_id, attrs.evolve(dump, ref=IssueRef(issue_id, text=issue_id))))
    if not dumps:
        raise ExportError(f"{path} holds no issues.")
    return dumps


def _as_dump(item: Any) -> RawIssue | None:
    if not isinstance(item, dict):
        return None
    unnamed = IssueRef("")
    if isinstance(item.get("issue"), dict):
        event = item.get("event")
        tags, events, unavailable = item.get("tags"), item.get("events"), item.get("unavailable")
        return RawIssue(
            unnamed,
            item["issue"],
            event if isinstance(event, dict) else None,
            tags if isinstance(tags, list) else None,
            events if isinstance(events, list) else None,
            {str(k): str(v) for k, v in unavailable.items()} if isinstance(unavailable, dict) else {},
        )
    if PROTOCOL_KEYS & item.keys():
        return RawIssue(unnamed, issue_from_event(item), item)
    return None


def issue_from_event(event: dict[str, Any]) -> dict[str, Any]:
    """A minimal issue in the issue API's shape, from what an event of either shape says about itself.

    Read straight from the JSON rather than through the models, so a large event is not modelled twice. As in
    Sentry, the title is the first line of the exception's value or of the message, and an event that names no
    level or platform has Sentry's defaults (``error``, or ``info`` for a transaction; ``other``).
    """
    event = modern_keys(event)
    group_id = event.get("groupID", event.get("group_id"))
    issue: dict[str, Any] = {"id": str(group_id) if group_id is not None else None}
    title = event.get("title") or _exception_title(event) or _first_line(_message_text(event))
    transaction = event.get("type") == "transaction"
    for key, value in (
        ("title", title),
        ("level", event.get("level") or _tag(event, "level") or ("info" if transaction else "error")),
        ("platform", event.get("platform") or "other"),
        ("culprit", event.get("culprit") or event.get("transaction")),
    ):
        if isinstance(value, str) and value:
            issue[key] = value
    return issue


def _exception_title(event: dict[str, Any]) -> str | None:
    """``Type: value`` of the exception that was raised last (the last of ``exception.values``)."""
    exception = event.get("exception")
    values = exception.get("values", [exception]) if isinstance(exception, dict) else exception
    if not isinstance(values, list) or not values or not isinstance(values[-1], dict):
        return None
    raised = values[-1]
    parts = [_first_line(str(raised[key])) for key in ("type", "value") if raised.get(key)]
    return ": ".join(part for part in parts if part) or None


def _tag(event: dict[str, Any], key: str) -> Any:
    """A tag's value, from tags sent as an object, as pairs or as the REST API's ``{key, value}`` items."""
    tags = event.get("tags")
    if isinstance(tags, dict):
        return tags.get(key)
    for item in tags if isinstance(tags, list) else []:
        if isinstance(item, dict) and item.get("key") == key:
            return item.get("value")
        if isinstance(item, list) and len(item) == 2 and item[0] == key:
            return item[1]
    return None


def _first_line(text: str | None) -> str | None:
    """The first line with text on it, as Sentry titles an issue; ``None`` for none."""
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), None)


def _message_text(event: dict[str, Any]) -> str | None:
    for key in ("logentry", "message"):
        value = event.get(key)
        if isinstance(value, dict):
            value = value.get("formatted") or value.get("message")
        if isinstance(value, str) and value:
            return value
    return None


@hookimpl
def register_sources(register: Any) -> None:
    register(FileSource())
