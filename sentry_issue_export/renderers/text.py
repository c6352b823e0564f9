"""The ``text`` renderer: the default plain-text report, from ``templates/issue.txt.j2``.

Template vocabulary besides the shared filters (see ``templating``):

``{{ x | block(n) }}``
    a value over several lines; continuation lines are indented by ``n`` spaces (at least 1), so payload text
    can never begin a line of its own.
``{{ x | pad(n) }}``, ``{{ x | pad(n, "right") }}``
    one line, padded to ``n`` characters, for columns.
``{{ heading("TITLE") }}``
    a blank line, the title and a ``-`` rule (80 characters, or the issue's ``limits.rule_width``).
``{{ rule("=") }}``
    a rule as wide.
``{{ field(name, value, width, indent) }}``
    ``name = value``, the name padded to ``width``; a multi-line value goes below, indented by ``indent``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import jinja2

from ..hookspecs import Renderer, hookimpl
from ..textsafe import escape_control, escape_line, indent_continuation
from . import formatting
from .templating import Flavor, SafeText, template_renderer

WIDTH = 80


def _finalize(value: Any) -> str:
    if isinstance(value, SafeText):
        return value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return formatting.format_when(value)
    return escape_line(formatting.format_inline(value))


def block(value: Any, indent: int = 2) -> SafeText:
    """Multi-line text with its continuation lines indented."""
    text = value if isinstance(value, str) else formatting.format_value(value)
    return SafeText(indent_continuation(escape_control(text), " " * max(indent, 1)))


def pad(value: Any, width: int, align: str = "left") -> SafeText:
    """One line padded to ``width`` characters; ``align="right"`` for numbers."""
    text = escape_line(formatting.format_inline(value) if value is not None else "")
    return SafeText(text.rjust(width) if align == "right" else text.ljust(width))


def field(name: Any, value: Any, width: int = 0, indent: int = 4, sep: str = " = ") -> SafeText:
    """``name = value`` with the name padded to ``width``; a multi-line value starts on the next line,
    every line indented by ``indent`` spaces."""
    name_text = escape_line(name if isinstance(name, str) else formatting.format_inline(name))
    if sep.startswith(" "):  # "name   = value": the separator lines up after the padded name
        head = name_text.ljust(width)
    else:  # "name:   value": the separator sticks to the name, values line up
        attached = sep.rstrip()
        head, sep = (name_text + attached).ljust(width + len(attached)), sep[len(attached) :] or " "
    text = escape_control(value if isinstance(value, str) else formatting.format_value(value))
    if "\n" not in text:
        return SafeText(head + sep + text)
    margin = " " * max(indent, 1)
    body = "\n".join(margin + line if line else "" for line in text.split("\n"))
    return SafeText(head + sep.rstrip() + "\n" + body)


def _width(context: Any) -> int:
    """The rule width of the issue being rendered (``limits.rule_width``), else :data:`WIDTH`."""
    limits = context.get("limits")
    width = getattr(limits, "rule_width", WIDTH)
    return width if isinstance(width, int) and width > 0 else WIDTH


@jinja2.pass_context
def heading(context: Any, title: str) -> SafeText:
    return SafeText(f"\n{escape_line(title)}\n{'-' * _width(context)}")


@jinja2.pass_context
def rule(context: Any, char: str = "=") -> SafeText:
    width = _width(context)
    return SafeText((char * width)[:width])


def banner(title: str, char: str = "#") -> SafeText:
    """``### Issue 2 of 3 ######...`` — separates issues in a file that holds several."""
    head = f"{char * 3} {escape_line(title)} "
    return SafeText(head + char * max(WIDTH - len(head), 3))


FILTERS: dict[str, Callable[..., Any]] = {"block": block, "pad": pad}
GLOBALS: dict[str, Any] = {"heading": heading, "rule": rule, "banner": banner, "field": field}

TEXT = Flavor(name="text", suffix="txt", finalize=_finalize, filters=FILTERS, globals=GLOBALS)


@hookimpl
def register_renderers(register: Callable[[Renderer], None]) -> None:
    register(template_renderer(TEXT, "Plain-text report: every section, readable anywhere."))
