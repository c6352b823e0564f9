"""Make payload text safe to print: control characters escaped, long values cut with a marker.

Event payloads carry whatever an application logged: ANSI colour codes, carriage returns, NUL bytes,
right-to-left overrides. Printed raw they would recolour a terminal, hide text or make a report lie about its
own content, so every renderer shows them as escapes (``\\x1b[31m`` appears as those eight characters).
"""

from __future__ import annotations

import re

_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape_for(code: int) -> str:
    if code in _NAMED:
        return _NAMED[code]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


# C0 and C1 control characters, DEL, the Unicode line/paragraph separators (which split lines in many
# viewers) and the bidirectional overrides and isolates (which reorder what a reader sees).
_UNSAFE_CODES = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_MULTILINE_TABLE = {code: _escape_for(code) for code in _UNSAFE_CODES if code not in (0x09, 0x0A)}
_ONE_LINE_TABLE = {**_MULTILINE_TABLE, 0x0A: "\\n"}

_UNSAFE_MULTILINE = re.compile("[" + "".join(re.escape(chr(c)) for c in _MULTILINE_TABLE) + "]")
_UNSAFE_ONE_LINE = re.compile("[" + "".join(re.escape(chr(c)) for c in _ONE_LINE_TABLE) + "]")


def escape_control(text: str) -> str:
    """Escape control characters but keep newlines and tabs, for multi-line blocks."""
    if _UNSAFE_MULTILINE.search(text) is None:
        return text
    return text.translate(_MULTILINE_TABLE)


def escape_line(text: str) -> str:
    """Escape control characters including newlines, for values that must stay on one line."""
    if _UNSAFE_ONE_LINE.search(text) is None:
        return text
    return text.translate(_ONE_LINE_TABLE)


def has_unsafe_chars(text: str, *, allow_newlines: bool = True) -> bool:
    """True when ``text`` holds a character that the escape functions would replace."""
    pattern = _UNSAFE_MULTILINE if allow_newlines else _UNSAFE_ONE_LINE
    return pattern.search(text) is not None


def cut_marker(removed: int) -> str:
    """The text that replaces the end of a cut value; says how much is missing."""
    return f"… [cut {removed:,} chars]"


def cut(text: str, max_chars: int) -> str:
    """Return ``text`` cut to ``max_chars`` characters plus a marker saying how many were removed; a text whose
    cut would save no more than its marker costs is left whole."""
    if max_chars < 0 or len(text) <= max_chars:
        return text
    marker = cut_marker(len(text) - max_chars)
    if len(text) <= max_chars + len(marker):
        return text
    return text[:max_chars] + marker


_LINE_START = re.compile(r"\n(?=[^\n])")


def indent_continuation(text: str, prefix: str) -> str:
    """Prefix every non-empty line but the first, so payload text can never start a line of its own."""
    if "\n" not in text:
        return text
    return _LINE_START.sub(lambda _: "\n" + prefix, text)


def collapse_whitespace(text: str) -> str:
    """Fold runs of whitespace (including newlines) into single spaces, for one-line summaries."""
    return " ".join(text.split())


_ASCII_DIGITS = re.compile(r"[0-9]+")


def whole_number(text: str | None, *, max_digits: int = 18) -> int | None:
    """The number ``text`` spells in ASCII digits (blanks around allowed), else ``None``. ``str.isdigit`` also
    accepts ``²`` and other digits ``int`` refuses, and a header of thousands of digits is no count anyone sent."""
    stripped = (text or "").strip()
    if len(stripped) > max_digits or not _ASCII_DIGITS.fullmatch(stripped):
        return None
    return int(stripped)
