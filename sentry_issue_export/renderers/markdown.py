"""The ``markdown`` renderer: GitHub-flavoured Markdown for chat and issue trackers, from ``issue.md.j2``.

Payload text can hold any character Markdown gives meaning to, so escaping is on by default: ``{{ x }}`` is
inline text with control characters shown as escapes, backslash-escaped Markdown punctuation and table pipes.
Template vocabulary besides the shared filters (see ``templating``):

``{{ x | code }}``, ``{{ x | code(cell=True) }}``
    an inline code span whose backtick fence is longer than any backtick run inside it.
``{{ x | fence("python") }}``
    a fenced code block (several lines); its fence is longer than any backtick run in the content.
``{{ x | cell }}``
    a table cell: text escaped, structured values as code.
``{{ x | url }}``
    a link when the text is a plain http(s) URL, escaped text otherwise.
``{{ details("Summary") }}`` / ``{{ end_details() }}``
    a collapsible ``<details>`` section.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..hookspecs import Renderer, hookimpl
from ..textsafe import escape_control, escape_line
from . import formatting
from .templating import Flavor, SafeText, template_renderer

_ALWAYS = re.compile(r"([\\`*\[<|~$])")
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# What would start a block if the text began a line: bullets, headings, quotes, setext underlines, "1." lists.
_BLOCK_START = re.compile(r"^(?:[-+](?=\s|$)|#{1,6}(?=\s|$)|>|[=-]+\s*$|\d{1,9}(?=[.)](?:\s|$)))")
_BACKTICKS = re.compile(r"`+")
_PLAIN_URL = re.compile(r"https?://[^\s<>`\\]+")
_LANGUAGES = {
    "python": "python",
    "javascript": "javascript",
    "node": "javascript",
    "java": "java",
    "kotlin": "kotlin",
    "go": "go",
    "ruby": "ruby",
    "php": "php",
    "csharp": "csharp",
    "elixir": "elixir",
    "rust": "rust",
    "swift": "swift",
    "cocoa": "objectivec",
    "dart": "dart",
    "perl": "perl",
}


def escape_inline(text: str) -> str:
    """Text that Markdown shows literally: no emphasis, links, HTML, tables or block syntax from payloads."""
    text = escape_line(text)
    text = _ALWAYS.sub(r"\\\1", text)
    text = _LONE_UNDERSCORE.sub(r"\\_", text)
    text = _ENTITY.sub("&amp;", text)
    match = _BLOCK_START.match(text)
    if match:
        end = match.end()
        # "1." gets its "." escaped; anything else gets a backslash in front.
        text = text[:end] + "\\" + text[end:] if match.group().isdigit() else "\\" + text
    return text


def _finalize(value: Any) -> str:
    if isinstance(value, SafeText):
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return escape_inline(formatting.format_when(value))
    return escape_inline(formatting.format_inline(value))


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def code(value: Any, cell: bool = False) -> SafeText:
    """An inline code span that no backtick in the content can close early; nothing for ``None``."""
    if value is None:
        return SafeText("")
    text = escape_line(formatting.format_inline(value))
    if not text:
        return SafeText("")
    fence = "`" * (_longest_backtick_run(text) + 1)
    if text.startswith(("`", " ")) or text.endswith(("`", " ")):
        text = f" {text} "
    if cell:
        text = text.replace("|", "\\|")
    return SafeText(f"{fence}{text}{fence}")


def fence(value: Any, language: str | None = "", indent: int = 0) -> SafeText:
    """A fenced code block; ``language`` may be a platform name (``python``, ``node`` ...)."""
    text = escape_control(value if isinstance(value, str) else formatting.format_pretty(value)).rstrip("\n")
    marker = "`" * max(3, _longest_backtick_run(text) + 1)
    info = _LANGUAGES.get((language or "").lower(), "") if language not in ("text", "json", "sql") else language
    margin = " " * indent
    lines = [f"{marker}{info}", *text.split("\n"), marker]
    return SafeText("\n".join(margin + line if line else line for line in lines))


def cell(value: Any) -> SafeText:
    """A table cell: strings as escaped text, numbers, booleans and structures as code."""
    if value is None:
        return SafeText("")
    if isinstance(value, str):
        return SafeText(escape_inline(value) if value.strip() else "")
    return code(value, cell=True)


def url(value: Any) -> SafeText:
    text = formatting.format_inline(value) if value is not None else ""
    if _PLAIN_URL.fullmatch(text):
        return SafeText(f"<{text}>")
    return SafeText(escape_inline(text))


def details(summary: str) -> SafeText:
    """Opens a collapsible section; the blank line lets Markdown inside it render."""
    return SafeText(f"<details><summary>{html.escape(escape_line(summary))}</summary>\n")


def end_details() -> SafeText:
    return SafeText("\n</details>")


FILTERS: dict[str, Callable[..., Any]] = {"code": code, "fence": fence, "cell": cell, "url": url}
GLOBALS: dict[str, Any] = {"details": details, "end_details": end_details}

MARKDOWN = Flavor(name="markdown", suffix="md", finalize=_finalize, filters=FILTERS, globals=GLOBALS)


@hookimpl
def register_renderers(register: Callable[[Renderer], None]) -> None:
    register(template_renderer(MARKDOWN, "Markdown for chat and issue trackers."))
