"""Tolerant coercion: any JSON value -> the type a model field promises.

Sentry's API and its SDKs disagree about types: counts arrive as strings and strings as numbers, nulls turn up
anywhere, timestamps come as ISO text (with or without fractions and offsets) or as float epochs, and query
strings, headers, cookies and tags come as lists of pairs, objects or ``{key, value}`` items. Every model's
``from_api`` reads its fields through these helpers, so that tolerance is written once. None of them raises: a
value that cannot be made sense of becomes ``None`` (or an empty tuple), or stays the text it was.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

Timestamp = datetime | str | None
"""An aware UTC ``datetime``; the raw text when it could not be parsed; ``None`` when absent."""

Pair = tuple[str, str | None]
"""A ``(name, value)`` pair as Sentry sends query strings, headers and cookies; ``None`` means null."""

Field = tuple[str, Any]
"""A ``(name, value)`` pair whose value is any JSON value, kept as sent."""


def as_mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def pick(data: dict[str, Any], *keys: str) -> Any:
    """The first of ``keys`` present with a non-null value (camelCase and snake_case spellings)."""
    for key in keys:
        value = data.get(key)
        if value is not None:
            return value
    return None


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        try:
            return int(text)
        except ValueError:
            number = as_float(text)
            return int(number) if number is not None and number.is_integer() else None
    return None


def as_address(value: Any) -> str | None:
    """A memory address as text: ``0x``-prefixed hex as sent; an integer becomes hex."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return f"0x{value:x}" if value >= 0 else None
    if isinstance(value, str):
        return value.strip() or None
    return None


def parse_address(value: Any) -> int | None:
    """An address or hex number (``0x1a2b``, ``1a2b`` is not taken for hex) or a decimal one as an integer."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return int(text, 16) if text.startswith("0x") else int(text)
        except ValueError:
            return None
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
    return None


def parse_timestamp(value: Any) -> Timestamp:
    """ISO 8601 text (``Z``, offsets, any fraction) or epoch seconds -> aware UTC datetime; else the raw text."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_epoch(float(value)) or str(value)
    if not isinstance(value, str):
        return as_text(value)
    text = value.strip()
    if not text:
        return None
    number = as_float(text)
    if number is not None:
        return _from_epoch(number) or value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)  # Sentry's timestamps are UTC even when they do not say so
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # an offset that pushes year 1 or 9999 out of range
        return value


def _from_epoch(seconds: float) -> datetime | None:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def epoch_seconds(timestamp: Timestamp) -> float | None:
    return timestamp.timestamp() if isinstance(timestamp, datetime) else None


def as_pairs(value: Any, *, string_separator: str | None = None) -> tuple[Pair, ...]:
    """``[[name, value], ...]``, ``{name: value}``, ``[{key, value}]`` or (with a separator) ``"a=1&b=2"``."""
    if isinstance(value, dict):
        return tuple((str(name), as_text(item)) for name, item in value.items())
    if isinstance(value, str):
        if string_separator is None:
            return (("", value),) if value else ()
        return tuple(_split_pair(part) for part in value.split(string_separator) if part.strip())
    pairs: list[Pair] = []
    for item in as_list(value):
        if isinstance(item, list | tuple):
            if item:
                pairs.append((as_text(item[0]) or "", as_text(item[1]) if len(item) > 1 else None))
        elif isinstance(item, dict):
            name = pick(item, "key", "name")
            pairs.append((as_text(name) or "", as_text(item.get("value"))))
        elif item is not None:
            pairs.append((as_text(item) or "", None))
    return tuple(pairs)


def _split_pair(part: str) -> Pair:
    name, sep, rest = part.strip().partition("=")
    return (name.strip(), rest.strip() if sep else None)


def as_query_pairs(value: Any) -> tuple[Pair, ...]:
    if isinstance(value, str):
        return tuple(parse_qsl(value.lstrip("?"), keep_blank_values=True))
    return as_pairs(value)


def as_fields(value: Any, *, skip: Iterable[str] = ()) -> tuple[Field, ...]:
    """A JSON object as ordered ``(name, value)`` fields; a non-object becomes one field named ``value``."""
    if isinstance(value, dict):
        skipped = set(skip)
        return tuple((str(name), item) for name, item in value.items() if name not in skipped)
    if value is None or value == [] or value == "":
        return ()
    return (("value", value),)


def release_version(value: Any) -> str | None:
    if isinstance(value, dict):
        return as_text(pick(value, "version", "shortVersion", "short_version"))
    return as_text(value)
