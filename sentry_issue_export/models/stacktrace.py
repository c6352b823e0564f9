"""Stack traces: frames, the source lines around them, their local variables, and for native code the
addresses and the registers of the thread.

Exceptions, threads and the event itself carry stack traces, so these classes belong to none of them. They read
the API's ``context: [[lineno, code], ...]`` as well as the ``pre_context``/``context_line``/``post_context`` of
raw SDK payloads and GlitchTip, ``vars`` sent as an object, a list, a JSON or Python-repr string, or null, and
the native fields in both spellings (``instruction_addr`` and the REST API's ``instructionAddr``).
"""

from __future__ import annotations

import ast
import json
from typing import Any, Self

import attrs

from .coerce import Pair, as_address, as_bool, as_int, as_list, as_mapping, as_text, pick


@attrs.frozen
class ContextLine:
    """One line of source code around a frame; ``is_error_line`` marks the line that was executing."""

    lineno: int | None
    code: str
    is_error_line: bool = False


@attrs.frozen
class Variable:
    """A local variable. ``value`` is the JSON value the SDK sent; strings are often already Python reprs."""

    name: str
    value: Any


def _variables(value: Any) -> tuple[Variable, ...]:
    if isinstance(value, str):
        value = _parse_object_text(value)
    if isinstance(value, dict):
        return tuple(Variable(str(name), item) for name, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(Variable(f"[{index}]", item) for index, item in enumerate(value))
    if value is None or value == "":
        return ()
    return (Variable("(vars)", value),)


def _parse_object_text(text: str) -> Any:
    """A ``vars`` string that holds a JSON object or a Python dict repr -> that dict; anything else unchanged."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")) or len(stripped) > 200_000:
        return text
    try:
        parsed = json.loads(stripped)
    except ValueError:
        try:
            parsed = ast.literal_eval(stripped)
        except Exception:  # literal_eval raises many kinds (SyntaxError, ValueError, RecursionError...)
            return text
    if not isinstance(parsed, dict):
        return text
    return {str(name): _jsonable(item) for name, item in parsed.items()}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)  # a tuple, set or bytes from a Python repr: keep it as the text it was


def _context_lines(data: dict[str, Any], lineno: int | None) -> tuple[ContextLine, ...]:
    listed = as_list(data.get("context"))
    if listed:
        lines = []
        for item in listed:
            if isinstance(item, list | tuple) and item:
                number = as_int(item[0])
                code = as_text(item[1]) if len(item) > 1 else None
                lines.append(ContextLine(number, code or "", number is not None and number == lineno))
            elif isinstance(item, str):
                lines.append(ContextLine(None, item))
        return tuple(lines)
    # Raw SDK payloads and GlitchTip: pre_context / context_line / post_context.
    current = as_text(pick(data, "contextLine", "context_line"))
    pre = [as_text(line) or "" for line in as_list(pick(data, "preContext", "pre_context"))]
    post = [as_text(line) or "" for line in as_list(pick(data, "postContext", "post_context"))]
    if current is None and not pre and not post:
        return ()
    first = lineno - len(pre) if lineno is not None else None

    def number_at(offset: int) -> int | None:
        return first + offset if first is not None else None

    lines = [ContextLine(number_at(i), code) for i, code in enumerate(pre)]
    if current is not None:
        lines.append(ContextLine(lineno, current, True))
    after = len(pre) + (1 if current is not None else 0)
    lines.extend(ContextLine(number_at(after + i), code) for i, code in enumerate(post))
    return tuple(lines)


@attrs.frozen
class Frame:
    """One stack frame. For source-mapped JavaScript, the plain fields are the original source and the
    ``orig_*`` fields the minified location Sentry mapped from. Native frames carry the address of the
    instruction (``instruction_addr``), of their function (``symbol_addr``) and of their image (``image_addr``,
    the binary named by ``package``); ``addr_mode`` says what the addresses are relative to (``abs``, the
    default, or ``rel:N``, the Nth debug image), and ``trust`` how the stack walker found the frame
    (``context``, ``cfi``, ``fp``, ``scan`` ...)."""

    filename: str | None = None
    abs_path: str | None = None
    module: str | None = None
    function: str | None = None
    raw_function: str | None = None
    lineno: int | None = None
    colno: int | None = None
    in_app: bool | None = None
    context: tuple[ContextLine, ...] = ()
    vars: tuple[Variable, ...] = ()
    package: str | None = None
    platform: str | None = None
    instruction_addr: str | None = None
    symbol_addr: str | None = None
    image_addr: str | None = None
    addr_mode: str | None = None
    function_id: str | None = None
    """.NET: the method's metadata token, with ``instruction_addr`` its IL offset."""
    trust: str | None = None
    symbol: str | None = None
    source_map: str | None = None
    orig_filename: str | None = None
    orig_abs_path: str | None = None
    orig_function: str | None = None
    orig_lineno: int | None = None
    orig_colno: int | None = None
    vars_truncated: int = 0
    repeats_omitted: int = 0
    """Frames identical to this one (recursion) that were left out just before it, older calls first."""

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        extra = as_mapping(data.get("data"))  # Sentry's JS processor keeps source-map facts here
        lineno = as_int(pick(data, "lineNo", "lineno", "line_no"))
        return cls(
            filename=as_text(data.get("filename")),
            abs_path=as_text(pick(data, "absPath", "abs_path")),
            module=as_text(data.get("module")),
            function=as_text(data.get("function")),
            raw_function=as_text(pick(data, "rawFunction", "raw_function")),
            lineno=lineno,
            colno=as_int(pick(data, "colNo", "colno", "col_no")),
            in_app=as_bool(pick(data, "inApp", "in_app")),
            context=_context_lines(data, lineno),
            vars=_variables(data.get("vars")),
            package=as_text(data.get("package")),
            platform=as_text(data.get("platform")),
            instruction_addr=as_address(pick(data, "instructionAddr", "instruction_addr")),
            symbol_addr=as_address(pick(data, "symbolAddr", "symbol_addr")),
            image_addr=as_address(pick(data, "imageAddr", "image_addr")),
            addr_mode=as_text(pick(data, "addrMode", "addr_mode")),
            function_id=as_address(pick(data, "functionId", "function_id")),
            trust=as_text(data.get("trust")),
            symbol=as_text(data.get("symbol")),
            source_map=as_text(pick(data, "mapUrl", "map_url") or extra.get("sourcemap") or data.get("map")),
            orig_filename=as_text(pick(data, "origFilename", "orig_filename") or extra.get("orig_filename")),
            orig_abs_path=as_text(pick(data, "origAbsPath", "orig_abs_path") or extra.get("orig_abs_path")),
            orig_function=as_text(pick(data, "origFunction", "orig_function") or extra.get("orig_function")),
            orig_lineno=as_int(pick(data, "origLineNo", "orig_lineno") or extra.get("orig_lineno")),
            orig_colno=as_int(pick(data, "origColNo", "orig_colno") or extra.get("orig_colno")),
        )

    @property
    def location(self) -> str:
        """Where the frame is, in the most specific form the payload allows."""
        return self.filename or self.abs_path or self.module or self.package or self.instruction_addr or "?"

    @property
    def is_source_mapped(self) -> bool:
        return any((self.orig_filename, self.orig_abs_path, self.orig_function, self.orig_lineno))


@attrs.frozen
class Stacktrace:
    """Frames oldest call first. ``frames_omitted`` is the ``[start, end)`` range Sentry itself dropped;
    ``frames_truncated`` counts frames cut by ``max_frames``, missing just before ``frames[frames_truncated_at]``;
    ``details_omitted`` counts frames shown without the code context and variables they have. ``registers``
    are the thread's register values at its newest frame, as ``(name, value)`` pairs in the order sent."""

    frames: tuple[Frame, ...] = ()
    frames_omitted: tuple[int, int] | None = None
    registers: tuple[Pair, ...] = ()
    frames_truncated: int = 0
    frames_truncated_at: int = 0
    details_omitted: int = 0

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        omitted = as_list(pick(data, "framesOmitted", "frames_omitted"))
        start, end = (as_int(omitted[0]), as_int(omitted[1])) if len(omitted) >= 2 else (None, None)
        return cls(
            frames=tuple(Frame.from_api(frame) for frame in as_list(data.get("frames"))),
            frames_omitted=(start, end) if start is not None and end is not None else None,
            registers=_registers(data.get("registers")),
        )


def _registers(value: Any) -> tuple[Pair, ...]:
    """Register values as text: the hex strings SDKs send, or numbers shown as hex."""
    return tuple(
        (str(name), as_address(item) if isinstance(item, int) else as_text(item))
        for name, item in as_mapping(value).items()
    )


def optional_stacktrace(data: Any) -> Stacktrace | None:
    stacktrace = Stacktrace.from_api(data)
    return stacktrace if stacktrace.frames or stacktrace.frames_omitted or stacktrace.registers else None
