"""What Sentry removed from an event, read from its ``_meta``.

Relay records every change it makes to a payload beside it: ``_meta`` mirrors the event's shape, and at each
changed value its ``""`` key holds ``rem`` (remarks: ``[rule, type, ...]``, type ``x`` for a value removed) and
``len`` (the original length). A removed value arrives as null, so without these notes a report would show an
empty body where there was one too large to keep. The REST API keeps ``_meta`` in its own shape (``entries`` by
index, ``context`` for the extra data); both are read into the same paths (``request.data``, ``extra.payload``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from .coerce import as_int, as_list, as_mapping, as_text

_REST_KEYS = {"context": "extra", "packages": "modules"}
"""REST API names of event fields whose SDK names differ."""
_REST_ENTRIES = {"message": "logentry", "debugmeta": "debug_meta"}
_RULES = {"!limit": "too large", "!invalid": "not valid"}
_PLACES = {
    "request.data": "request body",
    "request.cookies": "request cookies",
    "request.headers": "request headers",
    "request.query_string": "request query",
    "request.query": "request query",
    "request.env": "request environment",
    "logentry": "message",
    "user": "user",
}
MAX_REMOVALS = 200
"""A pathological ``_meta`` could note millions of removals; the first ones are enough to say what happened."""


@attrs.frozen
class Removal:
    """A value Sentry removed: where it was (``path`` in the SDK's names, ``place`` in words), why (``reason``)
    and how long it was (``original_length``, when Sentry said)."""

    path: str
    place: str
    reason: str
    original_length: int | None = None

    @property
    def why(self) -> str:
        """``too large, originally 98,304 long``."""
        length = f", originally {self.original_length:,} long" if self.original_length is not None else ""
        return self.reason + length

    @property
    def note(self) -> str:
        """``removed by Sentry: too large, originally 98,304 long``."""
        return f"removed by Sentry: {self.why}"


def removals(meta: Any, entry_types: Sequence[str] | None = None) -> tuple[Removal, ...]:
    """Every removal ``meta`` notes. ``entry_types`` are the types of a REST event's ``entries``, in order, to
    name what ``entries.N`` was; ``None`` for a raw SDK event."""
    found = []
    for path, note in _notes(as_mapping(meta), []):
        path = _sdk_path(path, entry_types)
        for remark in as_list(note.get("rem")):
            remark = as_list(remark)
            if len(remark) >= 2 and remark[1] == "x":
                rule = as_text(remark[0]) or "?"
                reason = _RULES.get(rule, f"rule {rule}")
                dotted = ".".join(path)
                found.append(Removal(dotted, _place(path), reason, as_int(note.get("len"))))
                break
        if len(found) >= MAX_REMOVALS:
            break
    return tuple(found)


def _notes(meta: dict[str, Any], path: list[str]) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """``(path, note)`` for every ``""`` note in ``meta``, depth first, in the payload's order."""
    stack: list[tuple[dict[str, Any], list[str]]] = [(meta, path)]
    while stack:
        node, at = stack.pop()
        note = node.get("")
        if isinstance(note, dict):
            yield at, note
        children = [(value, [*at, str(key)]) for key, value in node.items() if key != "" and isinstance(value, dict)]
        stack.extend(reversed(children))


def _sdk_path(path: list[str], entry_types: Sequence[str] | None) -> list[str]:
    if entry_types is None or not path:
        return path
    if path[0] == "entries" and len(path) >= 2:
        index = as_int(path[1])
        kind = entry_types[index] if index is not None and 0 <= index < len(entry_types) else "entry"
        rest = path[3:] if len(path) >= 3 and path[2] == "data" else path[2:]
        return [_REST_ENTRIES.get(kind, kind), *rest]
    return [_REST_KEYS.get(path[0], path[0]), *path[1:]]


def _place(path: list[str]) -> str:
    dotted = ".".join(path)
    if dotted in _PLACES:
        return _PLACES[dotted]
    if len(path) >= 2 and path[0] == "extra":
        return f"extra data {'.'.join(path[1:])}"
    if len(path) >= 2 and path[0] == "contexts":
        return f"context {'.'.join(path[1:])}"
    if len(path) >= 2 and path[0] == "user":
        return f"user {'.'.join(path[1:])}"
    return dotted or "the event"
